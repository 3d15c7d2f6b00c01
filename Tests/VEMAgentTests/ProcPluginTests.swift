import Foundation
import Testing

@testable import VEMAgent

@Suite struct RamPluginTests {
    @Test func readsTheFieldInKilobytes() async throws {
        let r = try registry("proc-basic")
        #expect(await read(r, "ram", ["MemFree"], as: .int) == .success(.int(23_329_220)))
        #expect(await read(r, "ram", ["MemTotal"], as: .float) == .success(.float(24_683_652)))
        #expect(await read(r, "ram", ["HugePages_Total"], as: .int) == .success(.int(4)))
        #expect(await read(r, "ram", ["Active(anon)"], as: .str) == .success(.string("1560")))
    }

    @Test func unknownFieldSuggestsTheNearestOne() async throws {
        let result = await read(try registry("proc-basic"), "ram", ["MemFre"], as: .int)
        #expect(result.code == .notFound)
        #expect(result.error?.message.contains("did you mean 'MemFree'?") == true)
    }

    @Test func missingFieldsAndNonNumericValues() async throws {
        let r = try registry("proc-missing-fields")
        #expect(await read(r, "ram", ["MemFree"], as: .int).code == .notFound)
        #expect(await read(r, "ram", ["MemTotal"], as: .int).code == .malformedInput)
        #expect(await read(r, "ram", ["Weird"], as: .int).code == .malformedInput)
        #expect(await read(r, "ram", ["MemAvailable"], as: .int) == .success(.int(24_264_152)))
    }

    @Test func garbageFileIsAnErrorValue() async throws {
        #expect(await read(try registry("proc-garbage"), "ram", ["MemFree"], as: .int).code == .malformedInput)
    }

    @Test func missingFileAndMissingParameter() async throws {
        #expect(await read(try registry("does-not-exist"), "ram", ["MemFree"], as: .int).code == .missingFile)
        #expect(await read(try registry("proc-basic"), "ram", [], as: .int).code == .badParameters)
        #expect(await read(try registry("proc-basic"), "ram", ["MemFree", "x"], as: .int).code == .badParameters)
    }

    @Test func returnTypeThatDoesNotFitIsAnErrorValue() async throws {
        #expect(await read(try registry("proc-basic"), "ram", ["MemFree"], as: .bool) == .success(.bool(true)))
    }
}

@Suite struct LoadAndUptimePluginTests {
    @Test func readsEachLoadAverage() async throws {
        let r = try registry("proc-basic")
        #expect(await read(r, "load", [], as: .float) == .success(.float(1.41)))
        #expect(await read(r, "load", ["5"], as: .float) == .success(.float(0.61)))
        #expect(await read(r, "load", ["15"], as: .float) == .success(.float(0.25)))
        #expect(await read(r, "load", ["15"], as: .int) == .success(.int(0)))
        #expect(await read(r, "load", ["10"], as: .float).code == .badParameters)
    }

    @Test func malformedLoadavg() async throws {
        #expect(await read(try registry("proc-garbage"), "load", ["5"], as: .float).code == .malformedInput)
        #expect(await read(try registry("proc-missing-fields"), "load", [], as: .float).code == .malformedInput)
        #expect(await read(try registry("does-not-exist"), "load", [], as: .float).code == .missingFile)
    }

    @Test func readsUptimeAndIdle() async throws {
        let r = try registry("proc-basic")
        #expect(await read(r, "uptime", [], as: .float) == .success(.float(693.58)))
        #expect(await read(r, "uptime", ["idle"], as: .float) == .success(.float(1142.05)))
        #expect(await read(r, "uptime", ["boot"], as: .float).code == .badParameters)
    }

    @Test func malformedUptime() async throws {
        #expect(await read(try registry("proc-garbage"), "uptime", [], as: .float).code == .malformedInput)
        #expect(await read(try registry("proc-missing-fields"), "uptime", [], as: .float).code == .malformedInput)
    }
}

@Suite struct FilePluginTests {
    @Test func readsWholeFilesByReturnType() async throws {
        let r = try registry("proc-basic")
        #expect(await read(r, "file", ["/proc/sys/kernel/osrelease"], as: .str) == .success(.string("6.1.0-28-amd64")))
        #expect(await read(r, "file", ["/data/answer"], as: .int) == .success(.int(42)))
        #expect(await read(r, "file", ["/data/flag"], as: .bool) == .success(.bool(true)))
        let json = await read(r, "file", ["/data/queue.json"], as: .json)
        guard case .object(let object) = json.value else {
            Issue.record("not an object: \(json)")
            return
        }
        #expect(object["pending"] == PropertyValue.int(3))
        #expect(object["jobs"] == PropertyValue.array([.object(["id": .int(7), "cpus": .int(4)])]))
    }

    @Test func garbageVersusIntIsAnErrorValue() async throws {
        let result = await read(try registry("proc-basic"), "file", ["/data/garbage"], as: .int)
        #expect(result.code == .conversion)
        #expect(result.error?.message.contains("'forty-two' is not an integer") == true)
    }

    @Test func regexCaptureGroupOrWholeMatch() async throws {
        let r = try registry("proc-basic")
        #expect(await read(r, "file", ["/data/status.txt", #"build=(\d+)"#], as: .int) == .success(.int(17)))
        #expect(
            await read(r, "file", ["/data/status.txt", #"version=[0-9.]+"#], as: .str)
                == .success(.string("version=3.2")))
        // A regex that the configuration split at its comma is joined back.
        #expect(
            await read(r, "file", ["/data/status.txt", #"version=([0-9.]+)"#, #" build=\d+"#], as: .float)
                == .success(.float(3.2)))
        #expect(await read(r, "file", ["/proc/meminfo", #"HugePages_Total:\s+(\d+)"#], as: .int) == .success(.int(4)))
    }

    @Test func noMatchBadRegexMissingFile() async throws {
        let r = try registry("proc-basic")
        #expect(await read(r, "file", ["/data/status.txt", "nothing=(\\d+)"], as: .int).code == .notFound)
        #expect(await read(r, "file", ["/data/status.txt", "(unclosed"], as: .int).code == .badParameters)
        #expect(await read(r, "file", ["/data/absent"], as: .str).code == .missingFile)
        #expect(await read(r, "file", ["data/answer"], as: .str).code == .badParameters)
        #expect(await read(r, "file", ["/../etc/passwd"], as: .str).code == .badParameters)
        #expect(await read(r, "file", [], as: .str).code == .badParameters)
    }
}

@Suite struct DiskPluginTests {
    @Test func measuresARealFileSystemUnderTheRoot() async throws {
        let r = try registry("proc-basic")
        let free = try #require(await read(r, "disk", ["/data", "free"], as: .int).value)
        let used = try #require(await read(r, "disk", ["/data", "used"], as: .int).value)
        let total = try #require(await read(r, "disk", ["/data", "total"], as: .int).value)
        guard case .int(let f) = free, case .int(let u) = used, case .int(let t) = total else {
            Issue.record("not integers: \(free) \(used) \(total)")
            return
        }
        #expect(t > 0)
        #expect(f >= 0 && u >= 0)
        #expect(f + u <= t)
        let percent = await read(r, "disk", ["/", "used_percent"], as: .float)
        if case .float(let p) = percent.value { #expect(p >= 0 && p <= 100) } else { Issue.record("\(percent)") }
        #expect(await read(r, "disk", [], as: .int).value != nil)
    }

    @Test func errors() async throws {
        let r = try registry("proc-basic")
        #expect(await read(r, "disk", ["/no/such/dir"], as: .int).code == .missingFile)
        #expect(await read(r, "disk", ["/data", "inodes"], as: .int).code == .badParameters)
        #expect(await read(r, "disk", ["relative"], as: .int).code == .badParameters)
    }
}

@Suite struct RegistryTests {
    struct Constant: PropertyPlugin {
        let name: String
        func read(parameters: [String], context: PropertyContext) async throws -> PropertyValue { .string("7") }
    }

    struct Stuck: PropertyPlugin {
        let name = "stuck"
        func read(parameters: [String], context: PropertyContext) async throws -> PropertyValue {
            try await Task.sleep(for: .seconds(3600))
            return .null
        }
    }

    @Test func registrationIsOpenButNamesAreUnique() throws {
        var r = PluginRegistry.builtin()
        #expect(r.propertyPluginNames == ["cpu", "disk", "exec", "file", "load", "net", "ram", "uptime"])
        try r.registerProperty(Constant(name: "hypervisor.domains"))
        #expect(r.propertyPlugin(named: "hypervisor.domains") != nil)
        #expect(throws: AgentError.self) { try r.registerProperty(Constant(name: "ram")) }
        try r.registerCommand(DirectiveCommandPlugin.reload)
        #expect(throws: AgentError.self) { try r.registerCommand(DirectiveCommandPlugin.reload) }
        #expect(r.commandPluginNames == ["reload"])
    }

    @Test func registeredPluginsAreConvertedByReturnType() async throws {
        var r = PluginRegistry()
        try r.registerProperty(Constant(name: "slurm.pending"))
        #expect(await read(r, "slurm.pending", as: .int) == .success(.int(7)))
        #expect(await read(r, "slurm.pending", as: .bool).code == .conversion)
    }

    @Test func unknownPluginIsAnErrorValueWithASuggestion() async throws {
        let result = await read(PluginRegistry.builtin(), "rams", ["MemFree"], as: .int)
        #expect(result.code == .unknownPlugin)
        #expect(result.error?.message.contains("did you mean 'ram'?") == true)
    }

    @Test func aPluginPastItsTimeoutIsCancelled() async throws {
        var r = PluginRegistry()
        try r.registerProperty(Stuck())
        #expect(await read(r, "stuck", as: .int, timeout: .milliseconds(50)).code == .timeout)
    }
}
