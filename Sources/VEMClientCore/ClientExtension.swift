import Logging
import VEMAgent
import VEMBus
import VEMCore

/// A part of a Client beyond its core: plugins it adds and work it runs beside the bus. The core (this module,
/// which `vem-agent` links) has none; VEMClient's hypervisor is one (libvirt's `vm.*` commands, the `hypervisor`
/// property and the domains' lifecycle events), so that a guest's agent links neither libvirt nor libnats.
public protocol ClientExtension: Sendable {
    /// Its name in errors (`hypervisor`).
    var name: String { get }
    /// Adds its property and command plugins.
    /// - Throws: When a plugin's name is taken.
    func register(into registry: inout PluginRegistry) throws
    /// Runs while the Client does (for example, forwarding events to the Manager); returns when cancelled.
    /// - Parameters:
    ///   - bus: The Client's bus.
    ///   - clock: The Client's clock.
    ///   - logger: The Client's logger.
    func run(bus: any ClientBus, clock: any Timeline, logger: Logger) async
}
