import NIOCore

/// A handle on an event-loop-confined handler that any thread may use: work runs at once when already on the
/// loop, else as a task on it; it does nothing once the handler is detached (its channel closed).
struct LoopHandle<Handler: AnyObject>: Sendable {
    let eventLoop: any EventLoop
    private let box: NIOLoopBoundBox<Handler?>

    /// Call on `eventLoop`.
    init(_ handler: Handler, eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
        box = NIOLoopBoundBox(handler, eventLoop: eventLoop)
    }

    /// Runs `body` with the handler on its event loop.
    func run(_ body: @escaping @Sendable (Handler) -> Void) {
        if eventLoop.inEventLoop {
            box.value.map(body)
        } else {
            eventLoop.execute { box.value.map(body) }
        }
    }

    /// The handler; call on the event loop.
    var value: Handler? { box.value }

    /// Forgets the handler (breaks the reference cycle when the channel closes); call on the event loop.
    func detach() { box.value = nil }
}
