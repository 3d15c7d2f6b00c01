import Foundation
import Synchronization
import Testing
import VEMAgent
import VEMBus
import VEMClient
import VEMClientCore
import VEMConfig
import VEMCore
import VEMManager
import VEMProtocol

/// One structured value end to end: a plugin's dict with a list of dicts goes from a real Client over the bus into
/// the Manager's state, a trigger reads it as a dict and a list, and sends the list back as a named argument of a
/// command, which the Client's plugin receives as the same list. At no point is it text.
@Suite(.timeLimit(.minutes(2))) struct StructuredValueTests {
    static let first: PropertyValue = .object(["name": "atlas-1", "cpus": 2, "load": 0.5])
    static let reported: PropertyValue = .object([
        "vms": [first, .object(["name": "atlas-2", "cpus": 4, "tags": ["gpu", "big"]])],
        "ok": true,
    ])

    /// A property plugin that reports ``reported``.
    struct NestedPlugin: PropertyPlugin {
        let name = "nested"
        func read(parameters: [String], context: PropertyContext) async throws -> PropertyValue {
            StructuredValueTests.reported
        }
    }

    /// A command plugin that keeps the named arguments it was given.
    final class RecordingCommand: CommandPlugin {
        let name = "record"
        var options: Set<String> { ["vms", "first"] }
        let seen = Mutex<[[String: PropertyValue]]>([])
        func run(_ request: CommandRequest, context: CommandContext) async -> PluginOutcome {
            seen.withLock { $0.append(request.options) }
            return PluginOutcome(status: .ok)
        }
    }

    static let agent = """
        [client]
        name = guest
        allow = record

        [nested]
        command = nested
        return_type = json
        ticks = 60
        push = on_change

        """

    static let site = """
        [poll]
        expr = { True }
        cmd = { sender.send_get_property() }
        ticks = 5

        [structured]
        expr = {
            len([c for c in manager.clients if type(c.nested) == "dict" and type(c.nested["vms"]) == "list"
                 and c.nested["vms"][1]["tags"] == ["gpu", "big"] and c.nested["vms"][0]["load"] == 0.5]) > 0
        }
        cmd = {
            [sender.send_command(c, "record", vms=c.nested["vms"], first=c.nested["vms"][0]) for c in manager.clients
             if c.nested != None]
        }
        on_update_check = yes

        """

    @Test func aNestedPropertyArrivesInATriggerAsAListAndADict() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vem-structured-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("agent.ini").path
        try Self.agent.write(toFile: path, atomically: true, encoding: .utf8)
        let loader = ClientConfigurationLoader(paths: [path])
        let loaded = try loader.load()
        let recorder = RecordingCommand()
        var options = ClientService.Configuration()
        options.root = directory.path
        options.jitter = 0
        options.extraProperties = [NestedPlugin()]
        options.extraCommands = [recorder]
        let identity = try ClientIdentityResolver(root: directory.path, hostName: "guest").resolve(
            loaded.configuration.settings, version: ClientService.version, incarnation: 7)

        try await Harness.run(site: try loadSite(Self.site)) { h in
            let bus = h.bus
            let service = try ClientService(
                configuration: loaded.configuration, loader: loader, identity: identity, token: "",
                clock: ManualTimeline(unixOrigin: 1_700_000_000), options: options,
                busFactory: { identity, token, _, handlers in
                    bus.makeClient(identity: identity, token: token, handlers: handlers)
                })
            let running = Task { try? await service.run() }
            defer {
                service.stop(reason: "test over")
                running.cancel()
            }
            await waitUntil("the guest joined") { h.snapshot.clients["guest"] != nil }
            await h.step(by: 5)
            // In the Manager's state as it came off the wire: a dict, not its text.
            #expect(h.snapshot.clients["guest"]?.properties["nested"]?.value == Self.reported)
            #expect(!recorder.seen.withLock { $0.isEmpty }, "the trigger's command reached the Client")
            let seen = recorder.seen.withLock { $0 }
            guard case .object(let reported) = Self.reported else { return }
            #expect(seen.first?["vms"] == reported["vms"])
            #expect(seen.first?["first"] == Self.first)
            #expect(h.stats("structured")?.errors == 0)
            service.stop(reason: "test over")
            _ = await running.value
        }
    }
}
