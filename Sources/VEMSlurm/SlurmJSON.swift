#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#endif

// The shapes of `squeue --json` and `sinfo --json` (Slurm 22.05, plugin `openapi/v0.0.38`), reduced to the
// fields VEM reads. Unknown fields are ignored. Numbers are read leniently: a JSON integer, a float, `null`
// (absent), or the `{"set": true, "number": N}` object of later plugin versions.

/// An integer that may be missing, null, a float, or a `{"set","number","infinite"}` object.
struct LenientInt: Decodable {
    var value: Int?

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            value = nil
        } else if let i = try? c.decode(Int.self) {
            value = i
        } else if let d = try? c.decode(Double.self) {
            value = d.isFinite && abs(d) < 9e18 ? Int(d) : nil
        } else if let o = try? c.decode(NumberObject.self) {
            value = (o.set ?? true) && !(o.infinite ?? false) ? o.number : nil
        } else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "expected a number")
        }
    }

    struct NumberObject: Decodable {
        var set: Bool?
        var infinite: Bool?
        var number: Int?
    }
}

/// A string that may be missing or null.
struct LenientString: Decodable {
    var value: String

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        value = c.decodeNil() ? "" : try c.decode(String.self)
    }
}

/// One entry of the `errors` array.
struct SlurmJSONError: Decodable {
    var error: String?
    var description: String?
    var source: String?
    var errorNumber: LenientInt?
    var errno: LenientInt?

    enum CodingKeys: String, CodingKey {
        case error, description, source, errno
        case errorNumber = "error_number"
    }

    var text: String {
        var parts = [source, description, error].compactMap { $0 }.filter { !$0.isEmpty }
        if let n = errorNumber?.value ?? errno?.value { parts.append("error \(n)") }
        return parts.isEmpty ? "unspecified error" : parts.joined(separator: ": ")
    }
}

struct SqueueDocument: Decodable {
    var errors: [SlurmJSONError]?
    var jobs: [JobRecord]
}

struct SinfoDocument: Decodable {
    var errors: [SlurmJSONError]?
    var nodes: [NodeRecord]
}

struct JobRecord: Decodable {
    var jobID: LenientInt
    var name: LenientString?
    var jobState: LenientString?
    var stateReason: LenientString?
    var partition: LenientString?
    var features: LenientString?
    var account: LenientString?
    var cpus: LenientInt?
    var nodeCount: LenientInt?
    var memoryPerNode: LenientInt?
    var memoryPerCPU: LenientInt?
    var nodes: LenientString?
    var submitTime: LenientInt?
    var arrayJobID: LenientInt?
    var arrayTaskString: LenientString?
    var startTime: LenientInt?
    var endTime: LenientInt?
    var timeLimit: LenientInt?
    var priority: LenientInt?
    var restartCount: LenientInt?

    enum CodingKeys: String, CodingKey {
        case name, partition, features, account, cpus, nodes, priority
        case restartCount = "restart_cnt"
        case startTime = "start_time"
        case endTime = "end_time"
        case timeLimit = "time_limit"
        case jobID = "job_id"
        case jobState = "job_state"
        case stateReason = "state_reason"
        case nodeCount = "node_count"
        case memoryPerNode = "memory_per_node"
        case memoryPerCPU = "memory_per_cpu"
        case submitTime = "submit_time"
        case arrayJobID = "array_job_id"
        case arrayTaskString = "array_task_string"
    }
}

struct NodeRecord: Decodable {
    var name: String
    var state: LenientString?
    var stateFlags: [String]?
    var cpus: LenientInt?
    var allocCPUs: LenientInt?
    var realMemory: LenientInt?
    var allocMemory: LenientInt?
    var features: LenientString?
    var activeFeatures: LenientString?
    var partitions: [String]?
    var address: LenientString?
    var reason: LenientString?

    enum CodingKeys: String, CodingKey {
        case name, state, cpus, features, partitions, address, reason
        case stateFlags = "state_flags"
        case allocCPUs = "alloc_cpus"
        case realMemory = "real_memory"
        case allocMemory = "alloc_memory"
        case activeFeatures = "active_features"
    }
}
