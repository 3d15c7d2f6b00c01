import Logging
import VEMAgent
import VEMBus
import VEMClientCore
import VEMCore
import VEMHypervisorPlugins
import VEMLibvirt
import VEMProtocol

/// A dom0 Client's hypervisor as a ``VEMClientCore/ClientExtension``: the `vm.*` commands and the `hypervisor`
/// property (``VEMHypervisorPlugins/HypervisorPlugins``), and the domains' lifecycle events sent to the Manager.
public struct HypervisorExtension: ClientExtension {
    /// The host it manages.
    public let host: HypervisorHost

    /// The extension of `host`.
    public init(host: HypervisorHost) { self.host = host }

    /// `hypervisor`.
    public var name: String { "hypervisor" }

    /// Adds the `vm.*` commands and the `hypervisor` property.
    public func register(into registry: inout PluginRegistry) throws {
        try HypervisorPlugins.register(into: &registry, host: host)
    }

    /// Sends each lifecycle event of the host's domains to the Manager as a `vm.lifecycle` event (see
    /// ``ClientHypervisor/message(for:instance:timestampMilliseconds:)``), with the domain's VEM group and VM id
    /// when it is one of VEM's. Reconnects when the hypervisor goes away (after 1 s, doubling up to 30 s while it
    /// stays away); ends when cancelled.
    /// Events that happen while the Manager is unreachable are dropped (the `hypervisor` property has the state).
    public func run(bus: any ClientBus, clock: any Timeline, logger: Logger) async {
        var known: [String: VEMInstance] = [:]
        var retry = 1
        while !Task.isCancelled {
            do {
                let events = try await host.lifecycleEvents()
                retry = 1
                logger.debug("forwarding the hypervisor's lifecycle events")
                for await event in events {
                    var instance = known[event.domain]
                    if event.kind != .undefined,
                        let found = try? await host.connection().domain(named: event.domain)?.instance
                    {
                        instance = found
                        known[event.domain] = found
                    }
                    if event.kind == .undefined { known[event.domain] = nil }
                    let millis = PropertyMapping.unixMilliseconds(clock.unixTime(at: clock.now()))
                    let message = ClientHypervisor.message(
                        for: event, instance: instance, timestampMilliseconds: millis)
                    do { try bus.send(.event(message)) } catch {
                        logger.debug("lifecycle event not sent", metadata: ["error": "\(error)"])
                    }
                }
            } catch {
                logger.warning(
                    "cannot watch the hypervisor's events", metadata: ["error": "\(error)", "retry_s": "\(retry)"])
            }
            if Task.isCancelled { return }
            try? await Task.sleep(for: .seconds(retry))
            retry = min(retry * 2, 30)
        }
    }
}

extension ClientService.Configuration {
    /// The hypervisor this Client manages (its ``HypervisorExtension``); setting it replaces the one there was.
    public var hypervisor: HypervisorHost? {
        get { extensions.lazy.compactMap { ($0 as? HypervisorExtension)?.host }.first }
        set {
            extensions.removeAll { $0 is HypervisorExtension }
            if let newValue { extensions.append(HypervisorExtension(host: newValue)) }
        }
    }
}
