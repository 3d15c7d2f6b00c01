import NIOCore
import VEMProtocol

/// The frames `vem bench bus` exchanges, shared by the hub phase and the echo baseline so both move the same
/// number of bytes per round.
public enum BenchFrames {
    /// The property every simulated Client reports.
    public static let propertyName = "load"

    /// A property reply as a simulated Client sends it.
    public static func propertyReport(requestID: UInt64) -> Message {
        .property(
            PropertyReport(
                requestID: requestID,
                readings: [PropertyReading(name: propertyName, timestampMilliseconds: 1_700_000_000_000, value: .float(0.42))]))
    }

    /// The request of one round.
    public static func request(requestID: UInt64) -> Message {
        .getProperty(GetProperty(requestID: requestID, names: [propertyName]))
    }

    /// `message` encoded once into a buffer, `count` times back to back (a burst).
    public static func buffer(_ message: Message, count: Int = 1) -> ByteBuffer {
        var bytes: [UInt8] = []
        for _ in 0..<max(1, count) { try? message.encodeFrame(into: &bytes) }
        return ByteBuffer(bytes: bytes)
    }
}
