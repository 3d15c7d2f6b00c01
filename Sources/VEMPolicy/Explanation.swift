/// One group's target and the figures it was computed from (what `vem explain` shows per group).
public struct GroupTarget: Sendable, Hashable, Codable {
    /// The group.
    public var group: String
    /// The share weight.
    public var share: Double
    /// The group's fraction of all share weights (0…1).
    public var shareFraction: Double
    /// VMs the group's share of the pool holds.
    public var shareVMs: Int
    /// Busy VMs (booting and active, not draining).
    public var busyVMs: Int
    /// VMs the pending jobs need: `ceil(pending CPUs / VM vCPUs)`.
    public var pendingVMs: Int
    /// `busyVMs + pendingVMs`.
    public var demandVMs: Int
    /// `min(max(demand, minVMs), maxVMs)`.
    public var capVMs: Int
    /// `min(cap, shareVMs)`: what the group is entitled to whatever the others do.
    public var guaranteedVMs: Int
    /// VMs the group should hold.
    public var targetVMs: Int
    /// VMs booting now.
    public var bootingVMs: Int
    /// VMs active now.
    public var activeVMs: Int
    /// VMs draining now (not counted as the group's).
    public var drainingVMs: Int
    /// Whether the group is below its guaranteed share with work waiting past the starvation grace time.
    public var starving: Bool
    /// How the target came about, in words.
    public var why: String

    /// Booting plus active VMs: what the target is compared with.
    public var currentVMs: Int { bootingVMs + activeVMs }
}

extension GroupTarget {
    /// Words for how the target follows from share, demand and bounds.
    static func reasonText(_ a: FairShare.Allocation, claim: FairShare.Claim) -> String {
        let percent = (a.shareFraction * 1000).rounded() / 10
        var parts: [String] = []
        let demand = claim.demandVMs
        if demand == 0 {
            parts.append("no demand")
        } else if demand <= a.shareVMs {
            parts.append("demand \(demand) is within its share (\(percent)% = \(a.shareVMs) VMs)")
        } else {
            parts.append("demand \(demand) exceeds its share (\(percent)% = \(a.shareVMs) VMs)")
        }
        if claim.minVMs > 0, a.targetVMs <= claim.minVMs, claim.minVMs >= demand {
            parts.append("kept at min_vms \(claim.minVMs)")
        }
        if let limit = claim.maxVMs, limit < Swift.max(demand, claim.minVMs) {
            parts.append("capped at max_vms \(limit)")
        }
        if a.targetVMs > a.guaranteedVMs, a.targetVMs > claim.minVMs {
            parts.append("\(a.guaranteedVMs) guaranteed + \(a.targetVMs - a.guaranteedVMs) left unused by other groups")
        } else if a.targetVMs < a.guaranteedVMs {
            parts.append("pool too small: \(a.targetVMs) of the \(a.guaranteedVMs) guaranteed fit beside other groups")
        } else if a.targetVMs < a.capVMs {
            parts.append("the rest of the pool goes to the other groups by share")
        }
        return parts.joined(separator: "; ")
    }
}

extension Plan {
    /// The plan as text: one block per group (share, demand, target, current, why), then the directives with
    /// their reasons, then the notes. What `vem explain` prints.
    public var explanation: String {
        var lines: [String] = []
        lines.append("pool: \(capacityCPUs) vCPUs, \(capacityMemoryMiB) MiB (t=\(now))")
        for t in targets {
            let share = (t.shareFraction * 1000).rounded() / 10
            lines.append("group \(t.group):")
            lines.append("  share:   \(formatWeight(t.share)) (\(share)% = \(t.shareVMs) VMs)")
            lines.append("  demand:  \(t.demandVMs) VMs (\(t.busyVMs) busy + \(t.pendingVMs) for pending jobs)")
            lines.append("  target:  \(t.targetVMs) VMs (guaranteed \(t.guaranteedVMs), cap \(t.capVMs))")
            lines.append(
                "  current: \(t.currentVMs) VMs (\(t.activeVMs) active, \(t.bootingVMs) booting; "
                    + "\(t.drainingVMs) draining)" + (t.starving ? " — starving" : ""))
            lines.append("  why:     \(t.why)")
        }
        if directives.isEmpty {
            lines.append("directives: none")
        } else {
            lines.append("directives:")
            for d in directives { lines.append("  \(d)") }
        }
        if !notes.isEmpty {
            lines.append("notes:")
            for n in notes { lines.append("  \(n)") }
        }
        return lines.joined(separator: "\n")
    }

    private func formatWeight(_ w: Double) -> String {
        w == w.rounded() && abs(w) < 1e15 ? String(Int(w)) : String(w)
    }
}
