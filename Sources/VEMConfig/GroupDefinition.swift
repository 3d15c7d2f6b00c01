import VEMCore

/// A user group sharing the pool: its guaranteed share and the VMs built for it.
///
/// ```
/// [group:atlas]
/// share = 40
/// template = atlas-el9
/// vm_memory_mib = 8192
/// vm_vcpus = 4
/// partition = atlas
/// min_vms = 2
/// max_vms = 30
/// ```
public struct GroupDefinition: Hashable, Sendable, Codable {
    /// The group's name (after `group:`).
    public var name: String
    /// Guaranteed share of the pool, in percent (0...100). Required, except in an agent's own files (a [client]
    /// section and no [manager]), where it defaults to 0. All shares together may not exceed 100.
    public var share: Int
    /// The VM template (image or libvirt domain definition) the group's VMs are built from. Default: the group's name.
    public var template: String
    /// Memory of one VM, in MiB. Default: 2048.
    public var vmMemoryMiB: Int
    /// Virtual CPUs of one VM. Default: 1.
    public var vmVCPUs: Int
    /// The batch partition the group's VMs join. Default: nil (with no feature either, the group's name is used).
    public var partition: String?
    /// A batch node feature the group's jobs ask for. Default: nil.
    public var feature: String?
    /// VMs kept alive even without demand. Default: 0.
    public var minVMs: Int
    /// The most VMs the group may have. Default: nil (no limit but the pool).
    public var maxVMs: Int?
    /// Free text. Default: empty.
    public var description: String
    /// The kernel for direct kernel boot of the group's VMs (a hypervisor Client's `{{kernel}}`). Default: nil.
    public var kernel: String?
    /// The initrd of the group's VMs (`{{initrd}}`). Default: nil.
    public var initrd: String?
    /// The disk image of the group's VMs (`{{disk}}`). Default: nil.
    public var disk: String?
    /// Where the section's header is.
    public var location: SourceLocation

    /// The keys a group section accepts.
    public static let keys = [
        "share", "template", "vm_memory_mib", "vm_vcpus", "partition", "feature", "min_vms", "max_vms", "description",
        "kernel", "initrd", "disk",
    ]

    /// Creates a group.
    public init(
        name: String, share: Int, template: String? = nil, vmMemoryMiB: Int = 2048, vmVCPUs: Int = 1,
        partition: String? = nil, feature: String? = nil, minVMs: Int = 0, maxVMs: Int? = nil,
        description: String = "", location: SourceLocation, kernel: String? = nil, initrd: String? = nil,
        disk: String? = nil
    ) {
        self.name = name
        self.share = share
        self.template = template ?? name
        self.vmMemoryMiB = vmMemoryMiB
        self.vmVCPUs = vmVCPUs
        self.partition = partition
        self.feature = feature
        self.minVMs = minVMs
        self.maxVMs = maxVMs
        self.description = description
        self.location = location
        self.kernel = kernel
        self.initrd = initrd
        self.disk = disk
    }
}

extension GroupDefinition {
    /// Decodes a group section; nil (with errors logged) when it is invalid.
    /// - Parameter shareRequired: Whether `share` must be given (an agent's own file names groups for their
    ///   templates only; their share is then 0).
    static func decode(
        _ section: IniSection, name: String, shareRequired: Bool = true, log: inout DiagnosticLog
    ) -> GroupDefinition? {
        var d = SectionDecoder(section, title: "group [\(section.name)]", keys: keys)
        let share = d.integer("share", in: 0...100, required: shareRequired) ?? (shareRequired ? nil : 0)
        let template = d.string("template")
        let memory = d.integer("vm_memory_mib", in: 64...(16 * 1024 * 1024)) ?? 2048
        let vcpus = d.integer("vm_vcpus", in: 1...1024) ?? 1
        let partition = d.string("partition")
        let feature = d.string("feature")
        let minVMs = d.integer("min_vms", in: 0...100_000) ?? 0
        let maxVMs = d.integer("max_vms", in: 0...100_000)
        let description = d.text("description") ?? ""
        let kernel = d.string("kernel")
        let initrd = d.string("initrd")
        let disk = d.string("disk")
        d.finish()
        if !ValueParser.isName(name) {
            d.log.error(
                section.nameLocation,
                "group name \(quoted(name)) may only contain letters, digits, '_', '-' and '.'", length: name.count)
        }
        if let maxVMs, minVMs > maxVMs, let value = d.entry("min_vms")?.value {
            d.error(value, "min_vms (\(minVMs)) is greater than max_vms (\(maxVMs))")
        }
        log.append(d.log)
        guard let share, !d.log.hasErrors else { return nil }
        return GroupDefinition(
            name: name, share: share, template: template, vmMemoryMiB: memory, vmVCPUs: vcpus, partition: partition,
            feature: feature, minVMs: minVMs, maxVMs: maxVMs, description: description, location: section.location,
            kernel: kernel, initrd: initrd, disk: disk)
    }
}
