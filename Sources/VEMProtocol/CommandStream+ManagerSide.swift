extension CommandStream {
    /// The Manager's half of one Client's command stream: numbering, send queue, window, cumulative
    /// acknowledgements, resend after reconnect, exactly-once delivery of results, and `unknown` outcomes when a
    /// Client incarnation ends. A pure value: no I/O, no clock. See ``CommandStream`` for the contract.
    ///
    /// Choice for commands queued but never sent when the Client's incarnation changes: by default
    /// (``Configuration/UnsentPolicy/resend``) they are kept and sent to the new incarnation, under the same
    /// sequence numbers (the new stream's ``Welcome/commandBase`` is the last number sent to the old
    /// incarnation, so they follow on contiguously). They were never seen by any Client, so this cannot execute
    /// anything twice, and the Manager's handle (`seq`) stays valid. With ``Configuration/UnsentPolicy/cancel``
    /// they are reported `.cancelled` instead (for Managers that re-plan after a restart).
    public struct ManagerSide: Sendable {
        /// Tuning for one stream.
        public struct Configuration: Hashable, Sendable {
            /// What happens to commands queued but never sent when the Client's incarnation ends.
            public enum UnsentPolicy: Hashable, Sendable {
                /// Send them to the next incarnation (same sequence numbers). The default.
                case resend
                /// Report them `.cancelled`: they were never sent and will never be executed.
                case cancel
            }

            /// When a delivered result is confirmed to the Client (`result_ack`), which then forgets it.
            public enum ResultConfirmation: Hashable, Sendable {
                /// At once, as it is delivered. The default (a Manager without a journal).
                case onDelivery
                /// Only after ``ManagerSide/onResultsStored(_:)`` names it: a Manager that journals results
                /// confirms them once they are durable, so a crash cannot lose a result the Client has dropped.
                case whenStored
            }

            /// How many commands may be sent beyond the last one the Client acknowledged. Default 32.
            public var window: Int
            /// What happens to unsent commands when the incarnation ends. Default `.resend`.
            public var unsentPolicy: UnsentPolicy
            /// When results are confirmed to the Client. Default `.onDelivery`.
            public var resultConfirmation: ResultConfirmation

            /// Creates a configuration.
            /// - Parameters:
            ///   - window: Commands in flight beyond the last acknowledged one (at least 1; default 32).
            ///   - unsentPolicy: What happens to unsent commands when the incarnation ends (default `.resend`).
            ///   - resultConfirmation: When results are confirmed to the Client (default `.onDelivery`).
            public init(
                window: Int = 32, unsentPolicy: UnsentPolicy = .resend,
                resultConfirmation: ResultConfirmation = .onDelivery
            ) {
                self.window = max(1, window)
                self.unsentPolicy = unsentPolicy
                self.resultConfirmation = resultConfirmation
            }
        }

        /// What the instance asks its Shell to do, in order.
        public enum Directive: Hashable, Sendable {
            /// Send this message to the Client on the current connection.
            case transmit(Message)
            /// The command's result: hand it to the Manager (exactly once per command).
            case deliverResult(seq: UInt64, CommandResult)
            /// The command was sent but the Client incarnation ended before its result came back; it may or may
            /// not have been executed.
            case outcomeUnknown(seq: UInt64)
            /// The command was never sent and never will be (``Configuration/UnsentPolicy/cancel``).
            case cancelled(seq: UInt64)
        }

        /// What ``onSubmit(name:arguments:)`` returns.
        public struct Submission: Hashable, Sendable {
            /// The command's sequence number: the Manager's handle for its outcome.
            public var seq: UInt64
            /// What to do now (a `.transmit` if the window allows).
            public var directives: [Directive]
        }

        /// The stream's tuning.
        public let configuration: Configuration
        /// The incarnation of the Client this stream is talking to (`nil` before the first hello, after it left).
        public private(set) var clientIncarnation: UInt64?
        /// `true` between ``onConnected(hello:welcome:)`` and ``onDisconnected()``.
        public private(set) var isConnected = false
        /// The number the next submitted command gets.
        public private(set) var nextSeq: UInt64
        /// The current stream's base: its first command is `commandBase + 1`.
        public private(set) var commandBase: UInt64
        /// The highest sequence number sent at least once.
        public private(set) var highestSent: UInt64
        /// The Client has acknowledged every command `<= acknowledgedThrough`.
        public private(set) var acknowledgedThrough: UInt64
        private var resultsThrough: UInt64
        private var resultsAbove: Set<UInt64> = []
        private var awaitingStorage: Set<UInt64> = []
        private var pending: [UInt64: Command] = [:]

        /// Creates a stream for one Client.
        /// - Parameters:
        ///   - configuration: Tuning.
        ///   - startingAfter: The last sequence number ever used for this Client (0 for a fresh Manager; a
        ///     journal may restore a higher one so numbers are never reused).
        public init(configuration: Configuration = Configuration(), startingAfter: UInt64 = 0) {
            self.configuration = configuration
            nextSeq = startingAfter + 1
            commandBase = startingAfter
            highestSent = startingAfter
            acknowledgedThrough = startingAfter
            resultsThrough = startingAfter
        }

        /// Commands without an outcome yet (sent or not).
        public var unresolvedCount: Int { pending.count }
        /// Results delivered and not yet stored (``Configuration/ResultConfirmation/whenStored``).
        public var unstoredCount: Int { awaitingStorage.count }
        /// Commands queued and not yet sent.
        public var unsentCount: Int { Int(nextSeq - 1 - highestSent) }

        // MARK: Events

        /// The Manager wants the Client to run a command.
        /// - Parameters:
        ///   - name: The command plugin's name.
        ///   - arguments: Its arguments.
        /// - Returns: The command's sequence number and what to do now.
        public mutating func onSubmit(name: String, arguments: [NamedValue] = []) -> Submission {
            let seq = nextSeq
            nextSeq += 1
            pending[seq] = Command(seq: seq, name: name, arguments: arguments)
            var directives: [Directive] = []
            sendWithinWindow(into: &directives)
            return Submission(seq: seq, directives: directives)
        }

        /// A connection from the Client is up and its `hello` was authenticated.
        ///
        /// Same incarnation as before: the stream resumes (commands not acknowledged are resent). Different (or
        /// first) incarnation: every command sent and unresolved becomes `.outcomeUnknown`, unsent ones follow
        /// ``Configuration/unsentPolicy``, and a new stream starts after the highest number ever sent.
        /// - Parameters:
        ///   - hello: The Client's hello.
        ///   - welcome: The session fields (manager incarnation, heartbeat); the stream fields are filled in here.
        /// - Returns: Outcomes of the ended incarnation (if any), then `.transmit(.welcome)`, then commands to
        ///   (re)send.
        public mutating func onConnected(hello: Hello, welcome: Welcome) -> [Directive] {
            var directives: [Directive] = []
            var welcome = welcome
            if let known = clientIncarnation, known == hello.incarnation {
                let reported = min(hello.lastExecutedSeq, highestSent)
                if reported > acknowledgedThrough { acknowledgedThrough = reported }
                welcome.resumed = true
            } else {
                // The first hello (or the first after the Client left) has no incarnation to end.
                if clientIncarnation != nil { endIncarnation(into: &directives) }
                clientIncarnation = hello.incarnation
                welcome.resumed = false
            }
            isConnected = true
            welcome.commandBase = commandBase
            welcome.resultsReceivedThrough = resultsThrough
            welcome.resultsReceivedAbove = resultsAbove.sorted()
            directives.append(.transmit(.welcome(welcome)))
            resendUnacknowledged(into: &directives)
            sendWithinWindow(into: &directives)
            return directives
        }

        /// The connection closed (for any reason). The stream waits for the next hello.
        /// - Returns: Nothing to do (always empty; kept for symmetry).
        public mutating func onDisconnected() -> [Directive] {
            isConnected = false
            return []
        }

        /// The Client's incarnation ended for good: it said `bye`, or the Manager gave up on it.
        ///
        /// Sent, unresolved commands become `.outcomeUnknown`; unsent ones follow ``Configuration/unsentPolicy``.
        /// The next hello starts a new stream, whatever its incarnation.
        /// - Returns: The outcomes.
        public mutating func onClientLeft() -> [Directive] {
            var directives: [Directive] = []
            endIncarnation(into: &directives)
            clientIncarnation = nil
            isConnected = false
            return directives
        }

        /// The Client acknowledged commands cumulatively.
        /// - Parameter ack: The acknowledgement.
        /// - Returns: Commands the opened window now allows to send.
        public mutating func onCommandAck(_ ack: CommandAck) -> [Directive] {
            let through = min(ack.through, highestSent)
            guard through > acknowledgedThrough else { return [] }
            acknowledgedThrough = through
            var directives: [Directive] = []
            sendWithinWindow(into: &directives)
            return directives
        }

        /// The Client reported a command's result.
        /// - Parameter result: The result.
        /// - Returns: `.deliverResult` the first time (never for a duplicate or a command of an ended
        ///   incarnation), a `.transmit(.resultAck)`, and commands the window now allows.
        public mutating func onCommandResult(_ result: CommandResult) -> [Directive] {
            let seq = result.seq
            guard seq <= highestSent else { return [] }  // never sent: bogus, ignore
            var directives: [Directive] = []
            var confirm = true
            if pending.removeValue(forKey: seq) != nil {
                directives.append(.deliverResult(seq: seq, result))
                if seq > acknowledgedThrough { acknowledgedThrough = seq }
                switch configuration.resultConfirmation {
                case .onDelivery: markResolved(seq)
                case .whenStored:
                    awaitingStorage.insert(seq)
                    confirm = false
                }
            }
            guard isConnected else { return directives }
            if confirm { directives.append(.transmit(.resultAck(resultAck))) }
            sendWithinWindow(into: &directives)
            return directives
        }

        /// Delivered results are durable now (``Configuration/ResultConfirmation/whenStored``): confirm them.
        /// Numbers not awaiting storage (duplicates, an ended incarnation's) change nothing.
        /// - Parameter seqs: The results stored.
        /// - Returns: A `.transmit(.resultAck)` when connected and something changed.
        public mutating func onResultsStored(_ seqs: [UInt64]) -> [Directive] {
            var changed = false
            for seq in seqs where awaitingStorage.remove(seq) != nil {
                markResolved(seq)
                changed = true
            }
            guard changed, isConnected else { return [] }
            return [.transmit(.resultAck(resultAck))]
        }

        /// Time to repair losses within a connection: resend unacknowledged commands and the result
        /// acknowledgement. The Shell calls it now and then (say every few heartbeat intervals) while connected;
        /// over TCP it is optional.
        /// - Returns: The retransmissions.
        public mutating func onRetransmitTimer() -> [Directive] {
            guard isConnected else { return [] }
            var directives: [Directive] = []
            resendUnacknowledged(into: &directives)
            sendWithinWindow(into: &directives)
            if resultsThrough > commandBase || !resultsAbove.isEmpty {
                directives.append(.transmit(.resultAck(resultAck)))
            }
            return directives
        }

        /// Routes a message received from the Client to its event (`command_ack`, `command_result`); other
        /// messages are not part of the command stream and yield nothing.
        /// - Parameter message: The message received.
        /// - Returns: The event's directives.
        public mutating func onMessage(_ message: Message) -> [Directive] {
            switch message {
            case .commandAck(let ack): onCommandAck(ack)
            case .commandResult(let result): onCommandResult(result)
            default: []
            }
        }

        // MARK: Internals

        private var resultAck: ResultAck {
            ResultAck(through: resultsThrough, above: resultsAbove.sorted())
        }

        private mutating func markResolved(_ seq: UInt64) {
            if seq == resultsThrough + 1 {
                resultsThrough = seq
                while resultsAbove.remove(resultsThrough + 1) != nil { resultsThrough += 1 }
            } else if seq > resultsThrough {
                resultsAbove.insert(seq)
            }
        }

        /// Resolves everything the ended incarnation was sent, applies the unsent policy, and starts a new base.
        private mutating func endIncarnation(into directives: inout [Directive]) {
            if highestSent > resultsThrough {
                for seq in (resultsThrough + 1)...highestSent where pending.removeValue(forKey: seq) != nil {
                    directives.append(.outcomeUnknown(seq: seq))
                }
            }
            if configuration.unsentPolicy == .cancel && nextSeq - 1 > highestSent {
                for seq in (highestSent + 1)..<nextSeq where pending.removeValue(forKey: seq) != nil {
                    directives.append(.cancelled(seq: seq))
                }
                highestSent = nextSeq - 1
            }
            awaitingStorage.removeAll()  // below the new base: confirmed by the new stream's numbering
            commandBase = highestSent
            acknowledgedThrough = highestSent
            resultsThrough = highestSent
            resultsAbove.removeAll()
        }

        private func resendUnacknowledged(into directives: inout [Directive]) {
            guard isConnected, highestSent > acknowledgedThrough else { return }
            for seq in (acknowledgedThrough + 1)...highestSent {
                if let command = pending[seq] { directives.append(.transmit(.command(command))) }
            }
        }

        private mutating func sendWithinWindow(into directives: inout [Directive]) {
            guard isConnected else { return }
            let (sum, overflow) = acknowledgedThrough.addingReportingOverflow(UInt64(configuration.window))
            let limit = overflow ? UInt64.max : sum
            while highestSent < limit && highestSent + 1 < nextSeq {
                highestSent += 1
                if let command = pending[highestSent] { directives.append(.transmit(.command(command))) }
            }
        }
    }
}

extension CommandStream.ManagerSide: CustomStringConvertible {
    /// The stream's position, for diagnostics: next, highest sent, acknowledged, results and pending numbers.
    public var description: String {
        "manager stream: connected=\(isConnected) next=\(nextSeq) highestSent=\(highestSent) "
            + "acknowledged=\(acknowledgedThrough) results=\(resultsThrough)+\(resultsAbove.sorted()) "
            + "pending=\(pending.keys.sorted())"
    }
}
