extension CommandStream {
    /// The Client's half of the command stream, for one Client process (one incarnation): de-duplication by
    /// sequence number, in-order execution (command `n` only after `n - 1`; a gap waits for the resend), and
    /// results kept until the Manager confirms them and resent after a reconnect. A pure value: no I/O, no
    /// clock. See ``CommandStream`` for the contract.
    public struct ClientSide: Sendable {
        /// Limits for the Client side.
        public struct Configuration: Hashable, Sendable {
            /// How many out-of-order commands (beyond a gap) are kept while waiting for the missing one; more are
            /// dropped and come again with the Manager's resend. Default 256.
            public var maximumBufferedCommands: Int
            /// Creates a configuration.
            /// - Parameter maximumBufferedCommands: Out-of-order commands kept (default 256).
            public init(maximumBufferedCommands: Int = 256) {
                self.maximumBufferedCommands = max(0, maximumBufferedCommands)
            }
        }

        /// What the instance asks its Shell to do, in order.
        public enum Directive: Hashable, Sendable {
            /// Send this message to the Manager on the current connection.
            case transmit(Message)
            /// Hand this command to the Runner (which runs commands one at a time, in this order).
            case execute(Command)
        }

        /// The limits.
        public let configuration: Configuration
        /// This process's incarnation (choose a new random or time-based value at every process start).
        public let incarnation: UInt64
        /// The incarnation of the Manager that last welcomed this Client, if any.
        public private(set) var managerIncarnation: UInt64?
        /// The sequence number of the last command handed to the Runner (0 before any).
        public private(set) var lastExecutedSeq: UInt64 = 0
        /// `true` between a `welcome` and the end of that connection: commands are accepted only then.
        public private(set) var isSessionActive = false
        private var streamStarted = false
        /// Between `hello` and `welcome`: commands of this connection may overtake the `welcome` on transports
        /// that publish from several threads (NATS), so they are kept, not dropped.
        private var awaitingWelcome = false
        private var buffered: [UInt64: Command] = [:]
        private var running: Set<UInt64> = []
        private var held: [UInt64: CommandResult] = [:]

        /// Creates the Client side for a new process.
        /// - Parameters:
        ///   - incarnation: This process's incarnation.
        ///   - configuration: Limits.
        public init(incarnation: UInt64, configuration: Configuration = Configuration()) {
            self.incarnation = incarnation
            self.configuration = configuration
        }

        /// Sequence numbers of results held until the Manager confirms them, ascending.
        public var heldResults: [UInt64] { held.keys.sorted() }

        // MARK: Events

        /// A connection to the Manager is up: send `hello` first.
        /// - Parameter hello: The identity fields; ``Hello/incarnation`` and the resume state are filled in here.
        /// - Returns: `.transmit(.hello)`.
        public mutating func onConnected(hello: Hello) -> [Directive] {
            isSessionActive = false
            awaitingWelcome = true
            // Commands kept beyond a gap are resent by the Manager after the welcome; from here on, `buffered`
            // holds only this connection's commands.
            buffered.removeAll()
            var hello = hello
            hello.incarnation = incarnation
            hello.lastExecutedSeq = lastExecutedSeq
            hello.heldResults = heldResults
            return [.transmit(.hello(hello))]
        }

        /// The connection closed. Held results and buffered commands are kept for the next connection.
        /// - Returns: Nothing to do (always empty; kept for symmetry).
        public mutating func onDisconnected() -> [Directive] {
            isSessionActive = false
            awaitingWelcome = false
            return []
        }

        /// The Manager accepted this Client. Only the first `welcome` of a connection counts.
        ///
        /// If the Manager did not resume (``Welcome/resumed`` is `false`: it does not know this incarnation, e.g.
        /// it restarted), the stream restarts at ``Welcome/commandBase`` and held results of the forgotten stream
        /// are dropped (as are results still to come from commands of that stream the Runner is finishing — the
        /// Manager has already reported those `unknown`). Otherwise results the Manager already has are dropped
        /// and the others are resent.
        /// - Parameter welcome: The welcome.
        /// - Returns: A `.transmit(.commandAck)`, then the results to resend.
        public mutating func onWelcome(_ welcome: Welcome) -> [Directive] {
            guard !isSessionActive else { return [] }
            if !welcome.resumed || !streamStarted {
                lastExecutedSeq = welcome.commandBase
                // Kept commands came on this connection, so they belong to the new stream when above its base.
                buffered = buffered.filter { $0.key > welcome.commandBase }
                held.removeAll()
                running.removeAll()
            } else if welcome.commandBase > lastExecutedSeq {
                lastExecutedSeq = welcome.commandBase
            }
            streamStarted = true
            isSessionActive = true
            awaitingWelcome = false
            managerIncarnation = welcome.managerIncarnation
            forgetConfirmed(through: welcome.resultsReceivedThrough, above: welcome.resultsReceivedAbove)
            buffered = buffered.filter { $0.key > lastExecutedSeq }
            var directives: [Directive] = [.transmit(.commandAck(CommandAck(through: lastExecutedSeq)))]
            for seq in heldResults {
                if let result = held[seq] { directives.append(.transmit(.commandResult(result))) }
            }
            executeInOrder(into: &directives)
            return directives
        }

        /// A command arrived. Executed if it is the next in sequence (then any buffered followers too);
        /// a duplicate is re-acknowledged, never executed; beyond a gap it waits. One that overtook the `welcome`
        /// of its connection is kept until the welcome comes.
        /// - Parameter command: The command.
        /// - Returns: `.execute` for each command now in order, then a `.transmit(.commandAck)`.
        public mutating func onCommand(_ command: Command) -> [Directive] {
            guard isSessionActive else {
                if awaitingWelcome && buffered.count < configuration.maximumBufferedCommands {
                    buffered[command.seq] = command
                }
                return []
            }
            if command.seq <= lastExecutedSeq {
                return [.transmit(.commandAck(CommandAck(through: lastExecutedSeq)))]
            }
            if command.seq > lastExecutedSeq + 1 {
                if buffered[command.seq] == nil && buffered.count < configuration.maximumBufferedCommands {
                    buffered[command.seq] = command
                }
                return []
            }
            var directives: [Directive] = []
            buffered[command.seq] = command
            executeInOrder(into: &directives)
            return directives
        }

        /// The Runner finished a command handed out by `.execute`. The result is held until confirmed.
        /// - Parameter result: The result (its `seq` names the command; unknown seqs are ignored).
        /// - Returns: `.transmit(.commandResult)` while connected.
        public mutating func onCommandFinished(_ result: CommandResult) -> [Directive] {
            guard running.remove(result.seq) != nil else { return [] }
            held[result.seq] = result
            return isSessionActive ? [.transmit(.commandResult(result))] : []
        }

        /// The Manager confirmed results; they are forgotten.
        /// - Parameter ack: The confirmation.
        /// - Returns: Nothing to do (always empty).
        public mutating func onResultAck(_ ack: ResultAck) -> [Directive] {
            forgetConfirmed(through: ack.through, above: ack.above)
            return []
        }

        /// Time to repair losses within a connection: re-acknowledge and resend unconfirmed results. The Shell
        /// calls it now and then while connected; over TCP it is optional.
        /// - Returns: The retransmissions.
        public mutating func onRetransmitTimer() -> [Directive] {
            guard isSessionActive else { return [] }
            var directives: [Directive] = [.transmit(.commandAck(CommandAck(through: lastExecutedSeq)))]
            for seq in heldResults {
                if let result = held[seq] { directives.append(.transmit(.commandResult(result))) }
            }
            return directives
        }

        /// Routes a message received from the Manager to its event (`welcome`, `command`, `result_ack`); other
        /// messages are not part of the command stream and yield nothing.
        /// - Parameter message: The message received.
        /// - Returns: The event's directives.
        public mutating func onMessage(_ message: Message) -> [Directive] {
            switch message {
            case .welcome(let welcome): onWelcome(welcome)
            case .command(let command): onCommand(command)
            case .resultAck(let ack): onResultAck(ack)
            default: []
            }
        }

        // MARK: Internals

        private mutating func executeInOrder(into directives: inout [Directive]) {
            let before = lastExecutedSeq
            while lastExecutedSeq < .max, let next = buffered.removeValue(forKey: lastExecutedSeq + 1) {
                lastExecutedSeq += 1
                running.insert(next.seq)
                directives.append(.execute(next))
            }
            if lastExecutedSeq != before {
                directives.append(.transmit(.commandAck(CommandAck(through: lastExecutedSeq))))
            }
        }

        private mutating func forgetConfirmed(through: UInt64, above: [UInt64]) {
            guard !held.isEmpty else { return }
            held = held.filter { $0.key > through }
            for seq in above { held.removeValue(forKey: seq) }
        }
    }
}

extension CommandStream.ClientSide: CustomStringConvertible {
    /// The stream's position, for diagnostics: last executed, buffered, running and held sequence numbers.
    public var description: String {
        "client stream: active=\(isSessionActive) lastExecuted=\(lastExecutedSeq) buffered=\(buffered.keys.sorted()) "
            + "running=\(running.sorted()) held=\(heldResults)"
    }
}
