import Foundation
import Synchronization
import Testing
import VEMAgent
import VEMBus
import VEMHub
import VEMProtocol

// The Manager side and the `vem agent` process for the tests that drive a hypervisor Client through the bus
// (adapted from ClientIntegrationTests' harness).

/// The `vem` executable built beside the test bundle.
let vemExecutable: URL = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    .appendingPathComponent("vem")

/// One `vem agent` process, started and reaped without blocking the cooperative pool.
final class AgentProcess: Sendable {
    private let exit = Mutex<(status: Int32?, waiters: [CheckedContinuation<Int32, Never>])>((nil, []))
    /// Where its standard error and output go.
    let logPath: String
    /// The process id.
    let pid: Int32

    private init(pid: Int32, logPath: String) {
        self.pid = pid
        self.logPath = logPath
    }

    /// Starts `vem agent -c config --log-level debug`.
    static func start(config: String, logPath: String) async throws -> AgentProcess {
        guard FileManager.default.isExecutableFile(atPath: vemExecutable.path) else {
            Issue.record("vem is not built at \(vemExecutable.path)")
            throw CancellationError()
        }
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try startBlocking(config: config, logPath: logPath) })
            }
        }
    }

    private static func startBlocking(config: String, logPath: String) throws -> AgentProcess {
        let process = Process()
        process.executableURL = vemExecutable
        process.arguments = ["agent", "-c", config, "--log-level", "debug"]
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardError = log
        process.standardOutput = log
        process.standardInput = FileHandle.nullDevice
        let box = Mutex<AgentProcess?>(nil)
        process.terminationHandler = { p in box.withLock { $0 }?.exited(p.terminationStatus) }
        try process.run()
        let agent = AgentProcess(pid: process.processIdentifier, logPath: logPath)
        box.withLock { $0 = agent }
        if !process.isRunning { agent.exited(process.terminationStatus) }
        try? log.close()
        return agent
    }

    private func exited(_ status: Int32) {
        let waiters = exit.withLock { state -> [CheckedContinuation<Int32, Never>] in
            guard state.status == nil else { return [] }
            state.status = status
            defer { state.waiters = [] }
            return state.waiters
        }
        for w in waiters { w.resume(returning: status) }
    }

    /// The exit status once it has exited.
    var status: Int32? { exit.withLock { $0.status } }

    /// Waits for the exit, at most `seconds`; nil on timeout.
    func waitForExit(seconds: Double) async -> Int32? {
        await withTaskGroup(of: Int32?.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let done = self.exit.withLock { state -> Int32? in
                        if let s = state.status { return s }
                        state.waiters.append(continuation)
                        return nil
                    }
                    if let done { continuation.resume(returning: done) }
                }
            }
            group.addTask {
                try? await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
                return nil
            }
            let first = await group.next() ?? nil
            if first != nil { group.cancelAll() }
            return first
        }
    }

    /// SIGTERM (the agent says bye), then SIGKILL if it is still there after 5 s; by PID.
    func stop() async {
        if status == nil { kill(pid, SIGTERM) }
        if await waitForExit(seconds: 5) == nil {
            if status == nil { kill(pid, SIGKILL) }
            _ = await waitForExit(seconds: 10)
        }
    }

    /// The agent's log so far.
    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
}

/// A Manager in the test process: a real hub server on port 0, recording its events.
final class ManagerHarness: Sendable {
    let server: HubServer
    let port: Int
    let events = Mutex<[BusEvent]>([])
    private let consumer = Mutex<Task<Void, Never>?>(nil)

    init(token: String) async throws {
        let configuration = HubConfiguration(
            host: "127.0.0.1", port: 0,
            engine: .init(admission: Admission(sharedToken: token), heartbeatInterval: .seconds(2)))
        server = HubServer(configuration: configuration)
        port = try await server.start()
        let stream = server.events
        consumer.withLock { $0 = Task { [self] in for await e in stream { self.events.withLock { $0.append(e) } } } }
    }

    /// True once a Client of that name has joined.
    func joined(_ name: String) -> Bool {
        events.withLock { $0.contains { if case .join(let id, _) = $0 { id.name == name } else { false } } }
    }

    /// The `event` messages a Client sent, in order.
    func clientEvents(from name: String) -> [Event] {
        events.withLock { events in
            events.compactMap {
                if case .message(let from, .event(let e)) = $0, from == name { return e } else { return nil }
            }
        }
    }

    /// Submits a command with positional arguments and waits for its result.
    func run(_ command: String, _ arguments: [String], on client: String, timeout: Int? = nil) async throws
        -> CommandResult
    {
        let named = timeout.map { [NamedValue("timeout", .int(Int64($0)))] } ?? []
        let pending = try server.submit(
            command, arguments: arguments.map { NamedValue("", .string($0)) } + named, to: client)
        guard case .result(let result) = await pending.outcome() else {
            Issue.record("\(command) on \(client) has no result")
            throw CancellationError()
        }
        return result
    }

    func shutdown() async {
        await server.shutdown()
        consumer.withLock { $0 }?.cancel()
    }
}

extension Event {
    /// The string value of a named attribute.
    func string(_ name: String) -> String? {
        for a in attributes where a.name == name { if case .string(let s) = a.value { return s } }
        return nil
    }
}

/// A `vm.list` output by domain name (each value the domain's JSON object).
func vmList(_ result: CommandResult) throws -> [String: [String: PropertyValue]] {
    guard case .array(let items) = try JSONDecoder().decode(PropertyValue.self, from: Data(result.output.utf8)) else {
        return [:]
    }
    var byName: [String: [String: PropertyValue]] = [:]
    for case .object(let o) in items { if case .string(let n)? = o["name"] { byName[n] = o } }
    return byName
}

/// A hypervisor Client's configuration.
func hypervisorAgentConfig(name: String, port: Int, uri: String, template: String, extraGroupLines: String = "")
    -> String
{
    """
    [client]
    name = \(name)
    role = dom0
    manager = 127.0.0.1:\(port)
    token = t0k3n
    heartbeat_interval = 2s
    hypervisor = \(uri)
    allow = vm.create, vm.destroy, vm.list, vm.migrate

    [hv_uri]
    command = hypervisor
    parameters = uri
    ticks = 60

    [group:atlas]
    share = 50
    template = \(template)
    vm_memory_mib = 256
    vm_vcpus = 1
    \(extraGroupLines)
    """
}
