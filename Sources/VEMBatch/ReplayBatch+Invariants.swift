extension ReplayBatch {
    /// Checks the replay's internal bookkeeping and returns what is wrong (empty when all holds): no node
    /// holds more CPUs than it has, every group's free, usable, running and pending CPU counts match its
    /// nodes and jobs, and every running job started at or after its submission.
    ///
    /// Cost: linear in nodes and running jobs. Meant for tests and for `vem … --check`.
    public func invariantViolations() -> [String] {
        var problems: [String] = []
        for node in nodes where !node.removed {
            if node.allocated > node.cpus || node.allocated < 0 {
                problems.append("t=\(now): node \(node.name) holds \(node.allocated) of \(node.cpus) CPUs")
            }
            if node.jobs < 0 || (node.jobs == 0) != (node.allocated == 0) {
                problems.append("t=\(now): node \(node.name) runs \(node.jobs) jobs on \(node.allocated) CPUs")
            }
        }
        for g in groups {
            var usable = 0
            var free = 0
            for n in g.nodes where !nodes[n].draining {
                usable += nodes[n].cpus
                free += nodes[n].cpus - nodes[n].allocated
            }
            if usable != g.usableCPUs || free != g.freeCPUs {
                problems.append(
                    "t=\(now): group \(g.name) counts \(g.freeCPUs)/\(g.usableCPUs) free/usable CPUs, "
                        + "nodes say \(free)/\(usable)")
            }
            var running = 0
            for r in g.running {
                let j = Int(r)
                running += jobs[j].processors
                if startTime[j] < jobs[j].submitTime {
                    problems.append(
                        "t=\(now): job \(jobs[j].jobNumber) started at \(startTime[j]) before its submission")
                }
            }
            if running != g.runningCPUs {
                problems.append("t=\(now): group \(g.name) counts \(g.runningCPUs) running CPUs, jobs say \(running)")
            }
            let pending = g.pending[g.head...].reduce(0) { $0 + jobs[Int($1)].processors }
            if pending != g.pendingCPUs {
                problems.append("t=\(now): group \(g.name) counts \(g.pendingCPUs) pending CPUs, jobs say \(pending)")
            }
        }
        return problems
    }
}
