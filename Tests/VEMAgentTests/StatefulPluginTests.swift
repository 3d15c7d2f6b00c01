import Testing

@testable import VEMAgent

@Suite struct CPUPluginTests {
    @Test func utilisationFromTwoSamples() async throws {
        let root = try ScratchRoot()
        defer { root.remove() }
        try root.copy(from: "proc-basic", "/proc/stat")
        let r = PluginRegistry.builtin(root: root.path)
        let first = await read(r, "cpu", [], as: .float, name: "all")
        #expect(first.code == .warmingUp)
        #expect(await read(r, "cpu", ["cpu1"], as: .float, name: "one").code == .warmingUp)
        try root.copy(from: "proc-busy", "/proc/stat")
        #expect(await read(r, "cpu", [], as: .float, name: "all") == .success(.float(80)))
        #expect(await read(r, "cpu", ["cpu1"], as: .int, name: "one") == .success(.int(60)))
        // The same counters again: no jiffy passed, the previous sample is kept.
        #expect(await read(r, "cpu", [], as: .float, name: "all").code == .warmingUp)
    }

    @Test func propertiesOnTheSameCounterDoNotShareState() async throws {
        let root = try ScratchRoot()
        defer { root.remove() }
        try root.copy(from: "proc-basic", "/proc/stat")
        let r = PluginRegistry.builtin(root: root.path)
        _ = await read(r, "cpu", [], as: .float, name: "a")
        try root.copy(from: "proc-busy", "/proc/stat")
        #expect(await read(r, "cpu", [], as: .float, name: "b").code == .warmingUp)
        #expect(await read(r, "cpu", [], as: .float, name: "a") == .success(.float(80)))
    }

    @Test func countersGoingBackwardsRestart() async throws {
        let root = try ScratchRoot()
        defer { root.remove() }
        try root.copy(from: "proc-busy", "/proc/stat")
        let r = PluginRegistry.builtin(root: root.path)
        _ = await read(r, "cpu", [], as: .float)
        try root.copy(from: "proc-basic", "/proc/stat")
        #expect(await read(r, "cpu", [], as: .float).code == .warmingUp)
    }

    @Test func malformedStat() async throws {
        #expect(await read(try registry("proc-garbage"), "cpu", [], as: .float).code == .malformedInput)
        #expect(await read(try registry("proc-missing-fields"), "cpu", [], as: .float).code == .malformedInput)
        #expect(await read(try registry("proc-missing-fields"), "cpu", ["cpu0"], as: .float).code == .malformedInput)
        #expect(await read(try registry("proc-basic"), "cpu", ["cpu9"], as: .float).code == .notFound)
        #expect(await read(try registry("does-not-exist"), "cpu", [], as: .float).code == .missingFile)
    }
}

@Suite struct NetPluginTests {
    @Test func bytesPerSecondOverInjectedTime() async throws {
        let root = try ScratchRoot()
        defer { root.remove() }
        try root.copy(from: "proc-basic", "/proc/net/dev")
        let r = PluginRegistry.builtin(root: root.path)
        #expect(await read(r, "net", ["eth0", "rx"], as: .float, name: "rx", now: 100).code == .warmingUp)
        #expect(await read(r, "net", ["eth0", "tx"], as: .float, name: "tx", now: 100).code == .warmingUp)
        try root.copy(from: "proc-busy", "/proc/net/dev")
        #expect(await read(r, "net", ["eth0", "rx"], as: .float, name: "rx", now: 110) == .success(.float(50_000)))
        #expect(await read(r, "net", ["eth0", "tx"], as: .int, name: "tx", now: 120) == .success(.int(5_000)))
        // Same counter, no time passed: an error value, not a division by zero.
        #expect(await read(r, "net", ["eth0"], as: .float, name: "rx", now: 110).code == .warmingUp)
        #expect(await read(r, "net", ["eth0"], as: .float, name: "rx", now: 130) == .success(.float(0)))
    }

    @Test func parameterErrorsAndUnknownInterface() async throws {
        let r = try registry("proc-basic")
        #expect(await read(r, "net", [], as: .float).code == .badParameters)
        #expect(await read(r, "net", ["eth0", "both"], as: .float).code == .badParameters)
        let unknown = await read(r, "net", ["wlan0"], as: .float)
        #expect(unknown.code == .notFound)
        #expect(unknown.error?.message.contains("lo, eth0") == true)
    }

    @Test func malformedDev() async throws {
        let r = try registry("proc-garbage")
        #expect(await read(r, "net", ["eth0", "rx"], as: .float).code == .malformedInput)
        #expect(await read(r, "net", ["eth1", "tx"], as: .float).code == .malformedInput)
        #expect(await read(try registry("proc-missing-fields"), "net", ["eth0"], as: .float).code == .notFound)
        #expect(await read(try registry("does-not-exist"), "net", ["eth0"], as: .float).code == .missingFile)
    }
}
