import VEMCore

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#endif

extension TraceInfo {
    /// What is wrong with `vem trace-info`'s options, or nil: `groups` below 0, `cpusPerNode` or `replayStatic`
    /// below 1, or `wideJobs` not a ``WideJobPolicy`` (`reject`, `wait`).
    public static func problem(groups: Int, cpusPerNode: Int, replayStatic: Int?, wideJobs: String) -> String? {
        if groups < 0 { return "--groups must be 0 or more" }
        if cpusPerNode < 1 { return "--cpus-per-node must be at least 1" }
        if let n = replayStatic, n < 1 { return "--replay-static must be at least 1" }
        if WideJobPolicy(rawValue: wideJobs) == nil { return "--wide-jobs is 'reject' or 'wait'" }
        return nil
    }

    /// ``report(path:rule:replayStatic:cpusPerNode:wideJobs:json:)`` with `vem trace-info`'s options as typed:
    /// the `groups` heaviest trace groups named by `names` (comma-separated), the others gathered in `other` or
    /// dropped (`dropOther`), wide jobs by their policy's name (`reject` when unknown).
    public static func report(
        path: String, groups: Int, names: String?, dropOther: Bool, replayStatic: Int?, cpusPerNode: Int,
        wideJobs: String, json: Bool
    ) throws -> String {
        let rule = TraceGroupRule(
            topGroups: groups,
            names: names.map { $0.split(separator: ",").map { $0.trimmingWhitespace(newlines: false) } } ?? [],
            otherGroup: dropOther ? nil : "other")
        return try report(
            path: path, rule: rule, replayStatic: replayStatic, cpusPerNode: cpusPerNode,
            wideJobs: WideJobPolicy(rawValue: wideJobs) ?? .reject, json: json)
    }
}
