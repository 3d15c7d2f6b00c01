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

    func validate() throws {
        guard hosts >= 1, cpusPerHost >= 1, sample >= 1 else {
            throw ValidationError("--hosts, --cpus-per-host and --sample must be at least 1")
        }
        guard hypervisor == "test" || hypervisor == "stand-in" else {
            throw ValidationError("--hypervisor is 'test' or 'stand-in'")
        }
        guard seconds > 0, tailSeconds > 0, maxSeconds > 0, every > 0 else {
            throw ValidationError("--seconds, --tail-seconds, --max-seconds and --every must be positive")
        }
        do { _ = try SimulationDefaults.parseWindow(window) } catch { throw ValidationError(error.message) }
        if let http, !(0...65_535).contains(http) || simulated {
            throw ValidationError("--http takes a port (0–65535), and not with --simulated (no Manager runs)")
        }
        guard SimulationDefaults.parseDuration(bootDelay) != nil else {
            throw ValidationError("--boot-delay: '\(bootDelay)' is not a duration")
        }
    }

    func run() async throws {
        if realGuest {
            let status = try RealGuestDemo.run()
            if status != 0 { throw ExitCode(status) }
            return
        }
        var options = DemoRun.Options()
        (options.trace, options.window, options.sample, options.hosts) = (trace, window, sample, hosts)
        (options.cpusPerHost, options.seconds, options.tailSeconds) = (cpusPerHost, seconds, tailSeconds)
        (options.maxSeconds, options.every, options.decisions) = (maxSeconds, every, decisions)
        options.bootSeconds = SimulationDefaults.parseDuration(bootDelay) ?? 60
        (options.libvirtTest, options.simulated) = (hypervisor == "test", simulated)
        options.http = http
        options.onHTTP = { url in printError("dashboard: \(url)") }
        let run = try DemoRun(options: options)
        print(run.introduction)
        print(try await run.run(screen: LiveScreen(interactive: isatty(STDOUT_FILENO) == 1, every: every)), terminator: "")
    }
}
