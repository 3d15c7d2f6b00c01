import NIOCore
import VEMProtocol

/// What a simulated Client's handler has written: the scratch buffer frames are encoded into, whether a flush is
/// due, whether anything went out since the last heartbeat tick, and whether its welcome (or refusal) came.
struct FrameOutput {
    var scratch: [UInt8] = []
    var flushPending = false
    var wrote = false
    var settled = false
}

/// A simulated Client's channel handler (``SimulatedClientHandler``, ``SiteClientHandler``): the writing half
/// they share. Frames are written as they are made and flushed once per read burst; a heartbeat goes out when
/// nothing else did for half an interval; `ready` settles on the welcome or the refusal.
protocol FrameWritingHandler: AnyObject {
    /// The channel, once active.
    var context: ChannelHandlerContext? { get }
    /// Settled by the welcome (or failed by a refusal or the connection's end).
    var ready: EventLoopPromise<Void> { get }
    /// What was written.
    var output: FrameOutput { get set }
}

extension FrameWritingHandler {
    /// Succeeds `ready` (`error` nil) or fails it, once.
    func settle(_ error: (any Error)?) {
        guard !output.settled else { return }
        output.settled = true
        if let error { ready.fail(error) } else { ready.succeed() }
    }

    /// Encodes and writes one message (flushed by ``flush()``).
    func send(_ message: Message) {
        guard let context else { return }
        output.scratch.removeAll(keepingCapacity: true)
        try? message.encodeFrame(into: &output.scratch)
        var buffer = context.channel.allocator.buffer(capacity: output.scratch.count)
        buffer.writeBytes(output.scratch)
        write(buffer)
    }

    /// Writes an encoded frame (flushed by ``flush()``).
    func write(_ frame: ByteBuffer) {
        guard let context else { return }
        context.write(NIOAny(frame), promise: nil)
        output.flushPending = true
        output.wrote = true
    }

    /// Flushes what was written since the last flush.
    func flush() {
        guard output.flushPending, let context else { return }
        output.flushPending = false
        context.flush()
    }

    /// The heartbeat timer's tick: a heartbeat unless something else went out since the last tick.
    func heartbeatIfIdle() {
        if !output.wrote { send(.heartbeat(Heartbeat())) }
        output.wrote = false
        flush()
    }
}
