import VEMPool

extension DemoRun.Options {
    /// Why `vem demo`'s options are not valid: the message it prints as a usage error.
    public struct Invalid: Error, Sendable, CustomStringConvertible {
        /// The message (`--hypervisor is 'test' or 'stand-in'`).
        public let description: String
    }

    /// The options of `vem demo` as typed, checked: the window `START:DURATION`, the boot delay a duration
    /// (`60s`, `2m`), the hypervisor `test` (libvirt's `test:///`) or `stand-in`.
    /// - Throws: ``Invalid`` when a count is below 1, a time not positive, the window or boot delay does not
    ///   parse, the hypervisor is another, or `http` is not a port or comes with `simulated`.
    public init(
        trace: String?, window: String, sample: Int, hosts: Int, cpusPerHost: Int, seconds: Double,
        tailSeconds: Double, maxSeconds: Double, every: Double, bootDelay: String, decisions: String?,
        hypervisor: String, simulated: Bool, http: Int?
    ) throws(Invalid) {
        guard hosts >= 1, cpusPerHost >= 1, sample >= 1 else {
            throw Invalid(description: "--hosts, --cpus-per-host and --sample must be at least 1")
        }
        guard hypervisor == "test" || hypervisor == "stand-in" else {
            throw Invalid(description: "--hypervisor is 'test' or 'stand-in'")
        }
        guard seconds > 0, tailSeconds > 0, maxSeconds > 0, every > 0 else {
            throw Invalid(description: "--seconds, --tail-seconds, --max-seconds and --every must be positive")
        }
        do { _ = try SimulationDefaults.parseWindow(window) } catch { throw Invalid(description: error.message) }
        if let http, !(0...65_535).contains(http) || simulated {
            throw Invalid(description: "--http takes a port (0–65535), and not with --simulated (no Manager runs)")
        }
        guard let boot = SimulationDefaults.parseDuration(bootDelay) else {
            throw Invalid(description: "--boot-delay: '\(bootDelay)' is not a duration")
        }
        self.init()
        (self.trace, self.window, self.sample, self.hosts) = (trace, window, sample, hosts)
        (self.cpusPerHost, self.seconds, self.tailSeconds) = (cpusPerHost, seconds, tailSeconds)
        (self.maxSeconds, self.every, self.decisions, self.bootSeconds) = (maxSeconds, every, decisions, boot)
        (self.libvirtTest, self.simulated, self.http) = (hypervisor == "test", simulated, http)
    }
}
