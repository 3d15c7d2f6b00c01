import VEMAgent
import VEMLibvirt

extension DomainInfo {
    /// The domain as a JSON object: name, uuid, state, memory_kib, vcpus, persistent, and — for VEM's
    /// domains — group, vm and command.
    var propertyValue: PropertyValue {
        var o: [String: PropertyValue] = [
            "name": .string(name), "uuid": .string(uuid), "state": .string(state.rawValue),
            "memory_kib": .int(Int64(memoryKiB)), "vcpus": .int(Int64(vcpus)), "persistent": .bool(persistent),
            "vem": .bool(instance != nil),
        ]
        if let instance {
            o["group"] = .string(instance.group)
            o["vm"] = .string(instance.vmID)
            o["command"] = instance.commandID.map(PropertyValue.string) ?? .null
        }
        return .object(o)
    }
}

/// Finds the VEM domain a command names with `name=` or `vm=`.
func findVEMDomain(_ args: CommandArguments, in domains: [DomainInfo], command: String) throws -> DomainInfo {
    let found: DomainInfo?
    if let name = args["name"] {
        found = domains.first { $0.name == name }
        guard let found else { throw AgentError(.notFound, "\(command): no domain named '\(name)' on this host") }
        guard found.instance != nil else {
            throw AgentError(.notAllowed, "\(command): domain '\(name)' was not created by VEM; not touching it")
        }
        return found
    } else if let vm = args["vm"] {
        found = domains.first { $0.instance?.vmID == vm }
        guard let found else {
            throw AgentError(.notFound, "\(command): no VEM domain with vm id '\(vm)' on this host")
        }
        return found
    }
    throw AgentError(.badParameters, "\(command): give name=<domain> or vm=<vm id> (named arguments)")
}
