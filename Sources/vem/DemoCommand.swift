import ArgumentParser
import Foundation
import VEMDemo
import VEMPool

/// `vem demo`: ``VEMDemo/DemoRun`` with its options.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Watch the pool follow the batch queues live; end with waits compared to static partitions.",
        discussion: """
            Replays a window of the LCG trace (found at ../shared/traces/LCG.swf.gz, $VEM_TRACE or --trace; \
            without it a built-in synthetic workload of three bursting groups) on a pool of --hosts hosts, in \
            wall-clock time compressed so the window's submissions take --seconds seconds; the jobs still running \
            after it are then fast-forwarded in about --tail-seconds more. The Manager polls the Clients' \
            properties every 30 simulated seconds and rebalances (policy.rebalance(): the fair-share planner \
            decides and the reconciler creates, drains and destroys VMs) on each update and every simulated \
            minute; a table per group shows share, pending and running jobs, and VMs booting, active and \
            draining — redrawn in place on a terminal, printed as a new block every --every seconds otherwise. \
            The summary gives per group mean and p95 wait, VMs created, destroyed and migrated, the pool's \
            utilisation, and the same window on static partitions (the paper's fig. 1).

            Everything runs in one process over real loopback TCP: the embedded hub, a Dom0 Client per host whose \
            vm.* command plugins drive a libvirt test:/// host (or, with --hypervisor stand-in, room accounting \
            only) and which reports its hypervisor property, the batch Client whose replay.* plugins drive the \
            replay batch and report replay.demand, a DomU Client per VM started --boot-delay after the VM, and \
            the real Manager (Listener, Sender, TriggerWatch, journal in memory) running an embedded site \
            configuration on a clock at the demo's time compression: its vem.poll and vem.rebalance triggers \
            send vm.create / replay.register / replay.drain / replay.remove / vm.destroy, each decision journaled \
            with its trigger and reason. With --simulated, the hosts, the bus and the Manager are simulated too \
            (the loop of vem simulate, shown live).
            """)

    @Option(help: "The SWF trace (default: the LCG trace if found).") var trace: String?
    @Option(help: ArgumentHelp("The part of the trace replayed.", valueName: "START:DURATION"))
    var window: String = SimulationDefaults.window
    @Option(help: "Keep one job in K.") var sample: Int = SimulationDefaults.sample
    @Option(help: "Real hosts (Dom0s) in the pool.") var hosts: Int = 4
    @Option(help: "vCPUs per host.") var cpusPerHost: Int = 16
    @Option(help: "Wall-clock seconds the window's submissions take (the time compression follows).")
    var seconds: Double = 45
    @Option(help: "Wall-clock seconds for the jobs still running after the window (fast-forward).")
    var tailSeconds: Double = 30
    @Option(help: "Stop after this many wall-clock seconds, finished or not.") var maxSeconds: Double = 110
    @Option(help: "Seconds between two tables when standard output is not a terminal.") var every: Double = 5
    @Option(help: "From a VM's start to its guest's Client starting, in simulated time.") var bootDelay: String = "60s"
    @Option(help: "Write the decision log (the last 10 000 entries) to this file at the end.") var decisions: String?
    @Option(help: "The Dom0 Clients' hypervisor: 'test' (libvirt's test:/// driver) or 'stand-in' (in memory).")
    var hypervisor: String = "test"
    @Flag(help: "Simulate the hosts and the bus too (no TCP, no Clients): the loop of `vem simulate`, live.")
    var simulated = false
    @Option(help: "Serve the Manager's dashboard, /metrics and API on this loopback port while the demo runs (0: any).")
    var http: Int?
    @Flag(help: "Instead, a real QEMU guest boots, joins VEM and Slurm, runs jobs and moves on a host drain (root; README).")
    var realGuest = false

    func validate() throws { _ = try options() }

    /// The options, checked by ``VEMDemo/DemoRun/Options``.
    func options() throws -> DemoRun.Options {
        try usage {
            try DemoRun.Options(
                trace: trace, window: window, sample: sample, hosts: hosts, cpusPerHost: cpusPerHost,
                seconds: seconds, tailSeconds: tailSeconds, maxSeconds: maxSeconds, every: every,
                bootDelay: bootDelay, decisions: decisions, hypervisor: hypervisor, simulated: simulated, http: http)
        }
    }

    func run() async throws {
        if realGuest { throw ExitCode(try RealGuestDemo.run()) }
        var options = try self.options()
        options.onHTTP = { url in printError("dashboard: \(url)") }
        let run = try DemoRun(options: options)
        print(run.introduction)
        print(try await run.run(screen: LiveScreen(interactive: isatty(STDOUT_FILENO) == 1, every: every)), terminator: "")
    }
}
