import NIOCore
import Synchronization

/// One repeated timer per event loop for the heartbeat checks of all the connections on that loop, instead of a
/// timer per connection (10,000 connections would mean 10,000 scheduled tasks re-armed every half interval).
final class LivenessSweeper {
    private var handlers: [ObjectIdentifier: ServerConnectionHandler] = [:]
    private var task: RepeatedTask?
    /// The loop of the timer (set with it).
    private var eventLoop: (any EventLoop)?

    /// Starts checking `handler` every `period` (the first call on a loop starts the timer).
    func add(_ handler: ServerConnectionHandler, period: TimeAmount, on eventLoop: any EventLoop) {
        handlers[ObjectIdentifier(handler)] = handler
        guard task == nil else { return }
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        self.eventLoop = eventLoop
        task = eventLoop.scheduleRepeatedTask(initialDelay: period, delay: period) { _ in bound.value.sweep() }
    }

    /// Stops checking `handler`.
    func remove(_ handler: ServerConnectionHandler) {
        handlers[ObjectIdentifier(handler)] = nil
    }

    /// Stops the timer.
    func stop() {
        task?.cancel()
        task = nil
        eventLoop = nil
        handlers.removeAll()
    }

    private func sweep() {
        // Iterates a snapshot: a check that closes a connection removes it from `handlers`.
        sweep(Array(handlers.values)[...])
    }

    /// Connections checked in one event-loop task of a sweep (a heartbeat is a system call): as many as a fan-out
    /// writes in one (``HubServer/fanOutChunk``; with 128, three alternated pairs at 10,000 Clients gave a loop's
    /// 1 ms timer 14.7 to 26.3 ms late, with 16, 7.8 to 12.8 ms: docs/MEASUREMENTS.md, *Branch `fanout`*).
    static let chunk = HubServer.fanOutChunk

    /// Checks ``chunk`` handlers, then schedules the rest after ``HubServer/fanOutPause``: the loop's tick ends and
    /// its reads and timers run between two chunks (10,000 heartbeats in one task, or in tasks queued one behind
    /// the other — NIO runs them all in one tick —, would hold the loop for tens of milliseconds).
    private func sweep(_ handlers: ArraySlice<ServerConnectionHandler>) {
        let now = Int64((eventLoop?.now ?? .now()).uptimeNanoseconds)
        for handler in handlers.prefix(Self.chunk) { handler.checkLiveness(now: now) }
        let rest = handlers.dropFirst(Self.chunk)
        guard !rest.isEmpty, task != nil, let loop = eventLoop else { return }  // stopped: nothing more
        let bound = NIOLoopBound((sweeper: self, rest: rest), eventLoop: loop)
        loop.scheduleTask(in: HubServer.fanOutPause) { bound.value.sweeper.sweep(bound.value.rest) }
    }
}

/// The sweepers of a server, one per event loop, each used only on its loop.
final class LivenessSweepers: Sendable {
    private let sweepers = Mutex<[ObjectIdentifier: NIOLoopBound<LivenessSweeper>]>([:])

    /// The sweeper of the current event loop (call on that loop).
    func sweeper(for eventLoop: any EventLoop) -> LivenessSweeper {
        sweepers.withLock { sweepers in
            if let bound = sweepers[ObjectIdentifier(eventLoop)] { return bound }
            let bound = NIOLoopBound(LivenessSweeper(), eventLoop: eventLoop)
            sweepers[ObjectIdentifier(eventLoop)] = bound
            return bound
        }.value
    }

    /// Stops every sweeper (at shutdown), each on its own loop.
    func stopAll() {
        for bound in sweepers.withLock({ Array($0.values) }) {
            bound.eventLoop.execute { bound.value.stop() }
        }
    }
}
