/// A command the Manager asks a Client to execute, numbered in the Client's command stream.
public struct Command: Hashable, Sendable {
    /// The position in the command stream (1, 2, 3, … per Client; see ``CommandStream``).
    public var seq: UInt64
    /// The command plugin to run (`vm_create`); the Client checks it against its allowlist.
    public var name: String
    /// The arguments, in order (an empty name marks a positional argument).
    public var arguments: [NamedValue]
    /// Creates a command.
    public init(seq: UInt64, name: String, arguments: [NamedValue] = []) {
        self.seq = seq
        self.name = name
        self.arguments = arguments
    }
}

/// Cumulative acknowledgement of commands, Client → Manager.
public struct CommandAck: Hashable, Sendable {
    /// Every command with `seq <= through` has been handed to the Client's Runner; do not resend them.
    public var through: UInt64
    /// Creates an acknowledgement.
    public init(through: UInt64) { self.through = through }
}

/// The outcome of one command, Client → Manager.
public struct CommandResult: Hashable, Sendable {
    /// How a command ended.
    public enum Status: UInt8, Hashable, Sendable, CaseIterable {
        /// It ran and succeeded.
        case ok = 0
        /// It ran and failed (see `exitCode`, `error`).
        case failed = 1
        /// The Client did not run it (not in its allowlist, bad arguments); nothing was changed.
        case refused = 2
    }

    /// The default cap on ``output``: 64 KiB.
    public static let defaultMaximumOutputBytes = 64 * 1024

    /// The command's sequence number.
    public var seq: UInt64
    /// How it ended.
    public var status: Status
    /// The process exit code, when the command ran a process.
    public var exitCode: Int32?
    /// What it printed, capped (see ``outputTruncated``, ``cappingOutput(toBytes:)``).
    public var output: String
    /// `true` when ``output`` was cut at the cap.
    public var outputTruncated: Bool
    /// An error message when `status` is not `.ok`.
    public var error: String?
    /// How long it ran, in microseconds.
    public var durationMicroseconds: UInt64

    /// Creates a result.
    public init(
        seq: UInt64, status: Status, exitCode: Int32? = nil, output: String = "", outputTruncated: Bool = false,
        error: String? = nil, durationMicroseconds: UInt64 = 0
    ) {
        self.seq = seq
        self.status = status
        self.exitCode = exitCode
        self.output = output
        self.outputTruncated = outputTruncated
        self.error = error
        self.durationMicroseconds = durationMicroseconds
    }

    /// This result with ``output`` cut to at most `maximum` UTF-8 bytes (on a character boundary) and
    /// ``outputTruncated`` set when something was cut.
    /// - Parameter maximum: The cap in bytes (default ``defaultMaximumOutputBytes``).
    public func cappingOutput(toBytes maximum: Int = CommandResult.defaultMaximumOutputBytes) -> CommandResult {
        guard output.utf8.count > maximum else { return self }
        var copy = self
        var end = output.startIndex
        var used = 0
        for index in output.indices {
            let next = output.index(after: index)
            let size = output.utf8.distance(from: index, to: next)
            if used + size > maximum { break }
            used += size
            end = next
        }
        copy.output = String(output[..<end])
        copy.outputTruncated = true
        return copy
    }
}

/// The Manager confirms which results it has, Manager → Client; the Client forgets them.
public struct ResultAck: Hashable, Sendable {
    /// The Manager has (or has given up on) every result with `seq <= through`.
    public var through: UInt64
    /// Results above `through` the Manager also has, ascending.
    public var above: [UInt64]
    /// Creates a result acknowledgement.
    public init(through: UInt64, above: [UInt64] = []) {
        self.through = through
        self.above = above
    }
}
