import Logging
import VEMClientCore

extension ClientHosting {
    /// A host's Client (`vem agent`): the hub or NATS (``ClientTransport``), and the hypervisor that
    /// `hypervisor = <URI>` names (``ClientHypervisor``, ``HypervisorExtension``).
    public static let full = ClientHosting(
        busFactory: { logger in ClientTransport.factory(logger: logger) },
        extensions: { configuration, warn throws(ClientError) in
            guard let built = try ClientHypervisor.make(configuration) else { return [] }
            for warning in built.warnings { warn(warning) }
            return [HypervisorExtension(host: built.host)]
        })
}

extension ClientService {
    /// ``VEMClientCore/ClientService/assemble(paths:root:warn:hosting:)`` with everything a host's Client can be
    /// (``VEMClientCore/ClientHosting/full``): `vem agent`.
    public static func assemble(
        paths: [String], root: String = "/", warn: (String) -> Void
    ) throws(ClientError) -> ClientService {
        try assemble(paths: paths, root: root, warn: warn, hosting: .full)
    }
}
