import Testing
import VEMBus

/// Which bus a conformance run uses.
enum Transport: String, CaseIterable, CustomTestStringConvertible {
    case memory
    case hub

    var testDescription: String { rawValue }

    func makeHarness() async throws -> any BusHarness {
        switch self {
        case .memory: InMemoryHarness()
        case .hub: try await HubHarness.make()
        }
    }
}

/// The conformance suite (Conformance.swift) against every bus.
@Suite("Bus conformance")
struct ConformanceTests {
    @Test(arguments: Transport.allCases)
    func membership(_ transport: Transport) async throws {
        let bus = try await transport.makeHarness()
        try await Conformance.membership(bus)
        await bus.shutdown()
    }

    @Test(arguments: Transport.allCases)
    func killAndRestart(_ transport: Transport) async throws {
        let bus = try await transport.makeHarness()
        try await Conformance.killAndRestart(bus)
        await bus.shutdown()
    }

    @Test(arguments: Transport.allCases)
    func orderedCommandsUnderDisconnects(_ transport: Transport) async throws {
        let bus = try await transport.makeHarness()
        try await Conformance.orderedCommandsUnderDisconnects(bus)
        await bus.shutdown()
    }

    @Test(arguments: Transport.allCases)
    func broadcastToGroup(_ transport: Transport) async throws {
        let bus = try await transport.makeHarness()
        try await Conformance.broadcastToGroup(bus)
        await bus.shutdown()
    }

    @Test(arguments: Transport.allCases)
    func badInputIsContained(_ transport: Transport) async throws {
        let bus = try await transport.makeHarness()
        try await Conformance.badInputIsContained(bus)
        await bus.shutdown()
    }
}
