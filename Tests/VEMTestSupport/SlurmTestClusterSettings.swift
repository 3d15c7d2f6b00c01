import VEMBatch

// Shared by the suites that run a private Slurm cluster (SlurmIntegrationTests, EndToEndTests).

/// What differs between the suites' Slurm clusters: the cluster's name, its groups (a partition per group on the
/// group's node feature, through a Nodeset, so a dynamic node of a feature joins its group's partition) and the
/// scheduler's intervals.
public struct SlurmTestClusterSettings: Sendable {
    /// `ClusterName`.
    public var clusterName: String
    /// The groups; each must name a partition and a feature.
    public var groups: [GroupMapping]
    /// `sched_interval`, in seconds: how often the main scheduler runs on its own.
    public var schedulerInterval: Int
    /// `bf_interval`, in seconds: how often the backfill scheduler runs.
    public var backfillInterval: Int
    /// `SlurmdParameters`, when set: a real guest needs `config_overrides`, as its kernel reports a little less
    /// memory than the VM's size its node is registered with.
    public var slurmdParameters: String?
    /// `SlurmdTimeout`, in seconds: how long slurmctld waits for a silent slurmd before it marks the node down
    /// (and requeues its jobs).
    public var slurmdTimeout: Int
    /// `AuthInfo`'s `cred_expire`, in seconds: a job step credential's lifetime, which is also how long a
    /// requeued job waits before it may start again (Slurm's default: 120).
    public var credentialLifetime: Int

    /// Settings; the intervals default to Slurm's shortest useful ones.
    public init(
        clusterName: String, groups: [GroupMapping], schedulerInterval: Int = 1, backfillInterval: Int = 1,
        slurmdParameters: String? = nil, slurmdTimeout: Int = 60, credentialLifetime: Int = 120
    ) {
        self.clusterName = clusterName
        self.groups = groups
        self.schedulerInterval = schedulerInterval
        self.backfillInterval = backfillInterval
        self.slurmdParameters = slurmdParameters
        self.slurmdTimeout = slurmdTimeout
        self.credentialLifetime = credentialLifetime
    }

    /// Fails unless every group names a partition and a feature, and the intervals are positive.
    func validate() throws {
        for g in groups where g.partition == nil || g.feature == nil {
            throw HarnessError("the test cluster's group \(g.group) needs both a partition and a feature")
        }
        guard schedulerInterval > 0, backfillInterval > 0, slurmdTimeout > 0, credentialLifetime > 0 else {
            throw HarnessError("the test cluster's scheduler intervals must be positive")
        }
    }

    /// The slurm.conf of a cluster in `dir`; a dynamic node in a namespace gets a copy naming the host's address on
    /// its link as `controllerAddress`.
    func config(dir: String, controllerPort: Int, nodePort: Int, controllerAddress: String?) -> String {
        let s = dir + "/slurm"
        return """
            ClusterName=\(clusterName)
            SlurmctldHost=localhost\(controllerAddress.map { "(\($0))" } ?? "")
            SlurmUser=root
            SlurmdUser=root
            AuthType=auth/munge
            AuthInfo=socket=\(dir)/munge/munge.socket,cred_expire=\(credentialLifetime)
            CredType=cred/munge
            SlurmctldPort=\(controllerPort)
            SlurmdPort=\(nodePort)
            StateSaveLocation=\(s)/state
            SlurmdSpoolDir=\(s)/spool/%n
            SlurmctldPidFile=\(s)/slurmctld.pid
            SlurmdPidFile=\(s)/slurmd-%n.pid
            SlurmctldLogFile=\(s)/log/slurmctld.log
            SlurmdLogFile=\(s)/log/slurmd-%n.log
            SlurmctldDebug=info
            SlurmdDebug=info
            DebugFlags=NO_CONF_HASH
            ProctrackType=proctrack/linuxproc
            TaskPlugin=task/none
            JobAcctGatherType=jobacct_gather/none
            AccountingStorageType=accounting_storage/none
            JobCompType=jobcomp/none
            SchedulerType=sched/backfill
            SchedulerParameters=sched_interval=\(schedulerInterval),bf_interval=\(backfillInterval)
            SelectType=select/cons_tres
            SelectTypeParameters=CR_Core_Memory
            DefMemPerCPU=100
            MpiDefault=none
            SwitchType=switch/none
            ReturnToService=2
            SlurmctldTimeout=30
            SlurmdTimeout=\(slurmdTimeout)
            InactiveLimit=0
            MinJobAge=300
            KillWait=2
            Waittime=0
            MaxNodeCount=64
            TreeWidth=65533

            """
                + (slurmdParameters.map { "SlurmdParameters=\($0)\n" } ?? "")
                + groups.map { g in
                    let feature = g.feature ?? g.group
                    return "Nodeset=\(feature)_set Feature=\(feature)\n"
                        + "PartitionName=\(g.partition ?? g.group) Nodes=\(feature)_set MaxTime=INFINITE State=UP\n"
                }.joined()
    }
}
