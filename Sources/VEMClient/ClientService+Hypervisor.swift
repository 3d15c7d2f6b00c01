import VEMBus
import VEMHypervisorPlugins
import VEMLibvirt
import VEMProtocol

extension ClientService {
    /// Sends each lifecycle event of the host's domains to the Manager as a `vm.lifecycle` event (see
    /// ``ClientHypervisor/message(for:instance:timestampMilliseconds:)``), with the domain's VEM group and VM id
    /// when it is one of VEM's. Reconnects when the hypervisor goes away (after 1 s, doubling up to 30 s while it
    /// stays away); ends when cancelled.
    /// Events that happen while the Manager is unreachable are dropped (the `hypervisor` property has the state).
    nonisolated func forwardLifecycleEvents(of host: HypervisorHost, to bus: any ClientBus) async {
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
