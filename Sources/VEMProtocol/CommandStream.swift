/// The reliable command stream between the Manager and one Client, as two pure state machines
/// (SWIM-style *Instances*): ``ManagerSide`` and ``ClientSide``.
///
/// Neither instance does I/O or reads a clock. A *Shell* (the hub connection handler, the NATS bus, a test
/// harness) feeds them events — `on<Event>(…)` — and carries out the *Directives* they return, in order.
///
/// ## The contract
/// For each Client, with the Manager's commands numbered `seq = 1, 2, 3, …` in the order they were submitted:
/// 1. **At most once, in order.** A Client incarnation executes (hands to its Runner) command `n` only after
///    `n - 1`, and never twice. Across incarnations no command is executed twice either: a new incarnation
///    starts after every number the previous one could have seen.
/// 2. **One outcome per command.** For every submitted command the Manager gets exactly one of
///    `.deliverResult(seq, result)` (the Client executed it and reported back), `.outcomeUnknown(seq)` (it was
///    sent but the Client incarnation ended before its result arrived — it may or may not have run; reconciliation
///    decides), or `.cancelled(seq)` (never sent, never to be executed; only with
///    ``ManagerSide/Configuration/UnsentPolicy/cancel``). A result is delivered only for a command the Client
///    executed, and never twice.
/// 3. **Nothing silently lost across a short disconnect.** While the Client's incarnation stays the same,
///    commands not acknowledged are resent on reconnect (and on ``ManagerSide/onRetransmitTimer()``), and
///    de-duplicated by `seq` on the Client; results not confirmed are held by the Client and resent on reconnect
///    (and on ``ClientSide/onRetransmitTimer()``), and de-duplicated by `seq` on the Manager.
///
/// ## The exchange
/// ```
/// Client                                  Manager
///   hello(incarnation, last_executed_seq,   ─▶  same incarnation: resume; new one: unknown for sent, new base
///         held_results)
///   ◀─ welcome(resumed, command_base, results_received_through/above)
///   ◀─ command(seq, …)  (window: at most `window` beyond the last acknowledged)
///   command_ack(through) ─▶                 (cumulative: everything ≤ through reached the Runner)
///   command_result(seq, …) ─▶               (result also implies command_ack(seq))
///   ◀─ result_ack(through, above)           (the Client forgets confirmed results)
/// ```
///
/// ## What the Shell must guarantee
/// - Call ``ManagerSide/onConnected(hello:welcome:)`` once per connection, after authenticating its `hello`, and
///   ``ManagerSide/onDisconnected()`` when it closes; likewise ``ClientSide/onConnected(hello:)`` /
///   ``ClientSide/onDisconnected()``.
/// - Messages of a closed connection are never delivered after the next connection is up (true for TCP; a NATS
///   bus must scope subjects or session ids per connection). Within a connection, loss, duplication and
///   reordering are tolerated (recovered on reconnect or by the retransmit timers).
/// - The Client's Runner executes the `.execute` directives one at a time, in the order given, and reports each
///   with ``ClientSide/onCommandFinished(_:)``.
public enum CommandStream {}
