import Foundation

/// An operator action as `vem` offers it: its subcommand's name and help, and what it acts on (nil: the whole
/// pool). It POSTs `/v1/NAME` (`/v1/pause`), or `/v1/TARGETs/NAME?TARGET=…` (`/v1/hosts/drain?host=h1`): one
/// of ``OperatorAPI/actionRoutes``.
public struct OperatorActionSpec: Sendable {
    /// The argument naming what it acts on (`host`, `vm`) and that argument's help; nil for the whole pool.
    public let target: (key: String, help: String)?
    /// The subcommand's name (`pause`, `drain`).
    public let name: String
    /// The one-line help.
    public let abstract: String
    /// The longer help (empty: none).
    public let discussion: String

    /// The route it POSTs.
    public var path: String { "/v1/" + (target.map { "\($0.key)s/" } ?? "") + name }

    /// The host argument of `vem host …`.
    public static let host = (key: "host", help: "The Dom0 Client's name.")
    /// The VM argument of `vem vm …`.
    public static let vm = (key: "vm", help: "The VM's name (vem vms).")

    init(_ target: (key: String, help: String)?, _ name: String, abstract: String, discussion: String = "") {
        (self.target, self.name, self.abstract, self.discussion) = (target, name, abstract, discussion)
    }

    /// `vem pause`.
    public static let pause = OperatorActionSpec(
        nil, "pause", abstract: "Pause the planner: policy.rebalance() decides nothing until `vem resume`.",
        discussion: """
            Property collection, triggers, the pool's time-outs and retries and operations already under way go \
            on; operator actions (vem vm …) still work. Journaled as a decision with the operator's name.
            """)
    /// `vem resume`.
    public static let resume = OperatorActionSpec(
        nil, "resume", abstract: "Let the planner decide again after `vem pause`.")
    /// `vem reload`.
    public static let reload = OperatorActionSpec(
        nil, "reload", abstract: "Make the Manager read its configuration files again (as SIGHUP does).",
        discussion: """
            The new triggers, groups, demand properties and planner settings are swapped in at once; a \
            configuration with errors is refused with its file:line:col diagnostics (exit 1) and the running one \
            stays. The bus, listen addresses, journal, credentials and time-outs are read at start only.
            """)
    /// `vem host drain HOST`.
    public static let hostDrain = OperatorActionSpec(
        host, "drain", abstract: "The host takes no new VMs and its VMs move off.",
        discussion: """
            With live migration on ([manager] migration, the default), each VM on the host is live-migrated to \
            a host with room (two at a time); otherwise, or when no host has room, it is drained (no new jobs) \
            and destroyed once idle, and the planner creates its group's VMs elsewhere. The host takes no new \
            VM until `vem host resume HOST`. `vem vms --json` shows where each VM is.
            """)
    /// `vem host resume HOST`.
    public static let hostResume = OperatorActionSpec(host, "resume", abstract: "The host takes new VMs again.")
    /// `vem vm drain VM`.
    public static let vmDrain = OperatorActionSpec(
        vm, "drain", abstract: "Its node takes no new jobs; the VM is destroyed once idle.")
    /// `vem vm destroy VM`.
    public static let vmDestroy = OperatorActionSpec(
        vm, "destroy",
        abstract: "Its node leaves the batch system and the VM is destroyed now (a busy VM's jobs are lost).")
    /// `vem vm forget VM`.
    public static let vmForget = OperatorActionSpec(
        vm, "forget", abstract: "Stop tracking the VM without sending any command.",
        discussion: """
            For a VM whose host is gone for good: its domain and batch node are left as they are. A host \
            that still lists the domain (vm.list) has it adopted again.
            """)

    /// What `vem` prints for an action's answer: the ``Manager/ActionReport``'s message (not an error) when
    /// carried out, `error: ACTION: MESSAGE` when refused, `error: the Manager answered STATUS: …` for an
    /// answer that is no report.
    public static func outcome(status: Int, body: Data) -> (text: String, isError: Bool) {
        if let report = try? JSONDecoder().decode(Manager.ActionReport.self, from: body) {
            return (report.accepted ? report.message : "error: \(report.action): \(report.message)", !report.accepted)
        }
        let object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any]
        let error = object?["error"] as? String ?? String(decoding: body, as: UTF8.self)
        return ("error: the Manager answered \(status): \(error)", true)
    }
}
