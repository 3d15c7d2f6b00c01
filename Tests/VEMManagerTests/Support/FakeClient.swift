import Synchronization
import VEMBus
import VEMCore
import VEMProtocol
import VEMTestKit

/// A fake Client on the in-memory bus: it answers `get_property` from a mutable table and records the requests
/// and the commands it executes.
final class FakeClient: Sendable {
    /// What the fake Client's handlers share.
    final class Storage: Sendable {
        let table: Mutex<[String: Int64]>
        let requests = Mutex<[GetProperty]>([])
        let executed = Mutex<[Command]>([])
        /// Whether commands are held, and the ones held.
        let holding = Mutex<(on: Bool, held: [CheckedContinuation<Void, Never>])>((false, []))
        /// Tests waiting for a number of commands to have started.
        let watchers = Mutex<[(count: Int, continuation: CheckedContinuation<Void, Never>)]>([])
        init(_ properties: [String: Int64]) { table = Mutex(properties) }

        /// A command started: records it and wakes the tests waiting for as many.
        func started(_ command: Command) {
            let count = executed.withLock { list -> Int in
                list.append(command)
                return list.count
            }
            let woken = watchers.withLock { list -> [CheckedContinuation<Void, Never>] in
                defer { list.removeAll { $0.count <= count } }
                return list.filter { $0.count <= count }.map(\.continuation)
            }
            for continuation in woken { continuation.resume() }
        }

        /// Returns once commands are no longer held (at once when they are not).
        func waitWhileHeld() async {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let free = holding.withLock { h -> Bool in
                    if !h.on { return true }
                    h.held.append(continuation)
                    return false
                }
                if free { continuation.resume() }
            }
        }
    }

    let identity: ClientIdentity
    let client: InMemoryClient
    private let storage: Storage

    init(
        bus: InMemoryBus, name: String, role: ClientRole = .dom0, incarnation: UInt64 = 1,
        properties: [String: Int64] = [:]
    ) {
        let identity = ClientIdentity(
            name: name, role: role, host: "host-\(name)", version: "1.0.0", incarnation: incarnation)
        let storage = Storage(properties)
        self.identity = identity
        self.storage = storage
        client = bus.makeClient(
            identity: identity, token: "",
            handlers: ClientHandlers(
                execute: { command in
                    storage.started(command)
                    await storage.waitWhileHeld()
                    return CommandResult(seq: command.seq, status: .ok, exitCode: 0)
                },
                properties: { request in
                    storage.requests.withLock { $0.append(request) }
                    let values = storage.table.withLock { $0 }
                    let names = values.keys.sorted().filter { request.names.isEmpty || request.names.contains($0) }
                    return PropertyReport(
                        requestID: request.requestID,
                        readings: names.map {
                            PropertyReading(name: $0, timestampMilliseconds: 0, value: .int(values[$0] ?? 0))
                        })
                }))
    }

    /// Changes a property's value (the next `get_property` reports it).
    func set(_ name: String, _ value: Int64) { storage.table.withLock { $0[name] = value } }

    /// While true, commands start (and are acknowledged) but do not finish.
    func hold(_ on: Bool) {
        let released = storage.holding.withLock { h -> [CheckedContinuation<Void, Never>] in
            h.on = on
            defer { if !on { h.held = [] } }
            return on ? [] : h.held
        }
        for continuation in released { continuation.resume() }
    }

    /// Returns once `count` commands have started (at once if they have): an event, not a poll.
    func executed(atLeast count: Int) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = storage.watchers.withLock { list -> Bool in
                if executedCommands.count >= count { return true }
                list.append((count, continuation))
                return false
            }
            if ready { continuation.resume() }
        }
    }

    /// `get_property` requests received.
    var requestCount: Int { storage.requests.withLock { $0.count } }

    /// Commands executed, in order.
    var executedCommands: [Command] { storage.executed.withLock { $0 } }
}
