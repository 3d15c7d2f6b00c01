import VEMCore

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#endif

/// Pure parsers for the JSON that `squeue --json` and `sinfo --json` print (Slurm 22.05, `openapi/v0.0.38`).
///
/// Unknown fields are ignored, missing optional fields take neutral values, and anything that is not the
/// expected JSON is a ``SlurmError`` (`malformed_output`), never a crash. Slurm prints its own failures
/// (slurmctld unreachable) as a non-empty `errors` array *with exit status 0*; that is a ``SlurmError``
/// (`slurm_reported`) too.
public enum SlurmParser {
    /// Parses `squeue --json` output.
    /// - Parameter data: The command's standard output.
    /// - Returns: Every job listed, in Slurm's order.
    /// - Throws: ``SlurmError`` `.malformedOutput` or `.slurmReported`.
    public static func jobs(fromSqueue data: Data) throws -> [SlurmJob] {
        let document = try decode(SqueueDocument.self, from: data, command: "squeue")
        try check(document.errors, command: "squeue")
        return try document.jobs.map(job)
    }

    /// Parses `sinfo --json` output.
    /// - Parameter data: The command's standard output.
    /// - Returns: Every node listed, in Slurm's order (each node once).
    /// - Throws: ``SlurmError`` `.malformedOutput` or `.slurmReported`.
    public static func nodes(fromSinfo data: Data) throws -> [SlurmNode] {
        let document = try decode(SinfoDocument.self, from: data, command: "sinfo")
        try check(document.errors, command: "sinfo")
        var seen = Set<String>()
        return document.nodes.filter { seen.insert($0.name).inserted }.map(node)
    }

    static func decode<T: Decodable>(_ type: T.Type, from data: Data, command: String) throws -> T {
        guard !data.isEmpty else { throw SlurmError(.malformedOutput, "\(command) printed nothing") }
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch let error as DecodingError {
            throw SlurmError(.malformedOutput, "\(command) printed unexpected JSON", cause: describe(error))
        } catch {
            throw SlurmError(.malformedOutput, "\(command) printed unexpected JSON", cause: "\(error)")
        }
    }

    static func check(_ errors: [SlurmJSONError]?, command: String) throws {
        guard let errors, let first = errors.first else { return }
        let more = errors.count > 1 ? " (and \(errors.count - 1) more)" : ""
        throw SlurmError(
            .slurmReported, "\(command) reported an error: \(first.text)\(more); is slurmctld running and reachable?")
    }

    static func job(_ r: JobRecord) throws -> SlurmJob {
        guard let id = r.jobID.value else { throw SlurmError(.malformedOutput, "squeue listed a job without an id") }
        let state = (r.jobState?.value ?? "").uppercased()
        let cpus = max(0, r.cpus?.value ?? 1)
        let nodeCount = max(1, r.nodeCount?.value ?? 1)
        var memory = 0
        if let perNode = r.memoryPerNode?.value, perNode > 0 {
            memory = perNode * nodeCount
        } else if let perCPU = r.memoryPerCPU?.value, perCPU > 0 {
            memory = perCPU * max(1, cpus)
        }
        let nodeList = r.nodes?.value ?? ""
        let nodes: [String]
        do {
            nodes = try Hostlist.expand(nodeList)
        } catch {
            throw SlurmError(.malformedOutput, "job \(id) has an unreadable node list '\(nodeList)'")
        }
        var count = 1
        if state == "PENDING", (r.arrayJobID?.value ?? 0) != 0, let tasks = r.arrayTaskString?.value, !tasks.isEmpty {
            count = Hostlist.arrayTaskCount(tasks) ?? 1
        }
        return SlurmJob(
            id: id, name: r.name?.value ?? "", state: state, stateReason: r.stateReason?.value ?? "None",
            partitions: list(r.partition?.value), constraint: r.features?.value ?? "", account: r.account?.value ?? "",
            cpus: cpus, memoryMB: memory, nodes: nodes, submitTime: r.submitTime?.value ?? 0, count: count,
            endTime: expectedEnd(r), priority: max(0, r.priority?.value ?? 0),
            startTime: (r.startTime?.value).flatMap { $0 > 0 ? $0 : nil }, restarts: max(0, r.restartCount?.value ?? 0))
    }

    /// When a started job ends by its time limit: `start + time_limit` (minutes), else Slurm's `end_time`; `nil`
    /// when the job has not started or has no limit (Slurm then sets `end_time` a year after the start).
    static func expectedEnd(_ r: JobRecord) -> Int? {
        guard let start = r.startTime?.value, start > 0 else { return nil }
        if let minutes = r.timeLimit?.value, minutes > 0, minutes < SlurmJob.unlimited / 60 {
            return start + minutes * 60
        }
        guard let end = r.endTime?.value, end > start, end - start < SlurmJob.unlimited else { return nil }
        return end
    }

    static func node(_ r: NodeRecord) -> SlurmNode {
        var features: [String] = []
        for f in list(r.features?.value) + list(r.activeFeatures?.value) where !features.contains(f) {
            features.append(f)
        }
        return SlurmNode(
            name: r.name, state: (r.state?.value ?? "unknown").lowercased(),
            stateFlags: (r.stateFlags ?? []).map { $0.uppercased() }, cpus: max(0, r.cpus?.value ?? 0),
            allocatedCPUs: max(0, r.allocCPUs?.value ?? 0), memoryMB: max(0, r.realMemory?.value ?? 0),
            allocatedMemoryMB: max(0, r.allocMemory?.value ?? 0), features: features, partitions: r.partitions ?? [],
            address: r.address?.value ?? "", reason: r.reason?.value ?? "")
    }

    /// A comma-separated list without empty items.
    static func list(_ text: String?) -> [String] {
        (text ?? "").split(separator: ",").map { $0.trimmingWhitespace(newlines: false) }.filter { !$0.isEmpty }
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ c: DecodingError.Context) -> String {
            let p = c.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return p.isEmpty ? c.debugDescription : "at \(p): \(c.debugDescription)"
        }
        switch error {
        case .dataCorrupted(let c): return path(c)
        case .keyNotFound(let key, let c): return "missing '\(key.stringValue)' " + path(c)
        case .typeMismatch(_, let c): return "wrong type " + path(c)
        case .valueNotFound(_, let c): return "missing value " + path(c)
        @unknown default: return "\(error)"
        }
    }
}
