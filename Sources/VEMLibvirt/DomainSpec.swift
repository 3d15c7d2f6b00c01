/// The values a ``DomainTemplate`` is filled with: one VM of one group.
public struct DomainSpec: Hashable, Sendable, Codable {
    /// The domain's name (`{{name}}`).
    public var name: String
    /// The domain's UUID (`{{uuid}}`), lower-case with dashes.
    public var uuid: String
    /// The memory in MiB (`{{memory_mib}}`; `{{memory_kib}}` is derived).
    public var memoryMiB: Int
    /// The number of virtual CPUs (`{{vcpus}}`).
    public var vcpus: Int
    /// VEM's metadata: group (`{{group}}`), VM id (`{{vm_id}}`), creating command (`{{command_id}}`).
    public var instance: VEMInstance
    /// The Manager's address the guest's Client should reach (`{{manager}}`), if any.
    public var manager: String?
    /// The kernel for direct kernel boot (`{{kernel}}`), if any.
    public var kernel: String?
    /// The initrd for direct kernel boot (`{{initrd}}`), if any.
    public var initrd: String?
    /// The disk image (`{{disk}}`), if any.
    public var disk: String?
    /// Site-specific values for the template's extra placeholders (`{{console_log}}`).
    public var extra: [String: String]
    /// The guest's credential from the Manager (`vm.create credential=…`), put into the domain as an SMBIOS OEM
    /// string (``DomainTemplate/render(_:)``). A secret: never logged. Default nil.
    public var credential: String?

    /// Creates a spec.
    public init(
        name: String, uuid: String, memoryMiB: Int, vcpus: Int, instance: VEMInstance, manager: String? = nil,
        kernel: String? = nil, initrd: String? = nil, disk: String? = nil, extra: [String: String] = [:],
        credential: String? = nil
    ) {
        self.credential = credential
        self.name = name
        self.uuid = uuid
        self.memoryMiB = memoryMiB
        self.vcpus = vcpus
        self.instance = instance
        self.manager = manager
        self.kernel = kernel
        self.initrd = initrd
        self.disk = disk
        self.extra = extra
    }

    /// The Client's identity as kernel command line words (`{{identity}}`):
    /// `vem.vm=<id> vem.group=<group>` and, when known, `vem.manager=<address>` and `vem.command=<id>`.
    public var identity: String {
        var words = ["vem.vm=\(instance.vmID)", "vem.group=\(instance.group)"]
        if let manager { words.append("vem.manager=\(manager)") }
        return words.joined(separator: " ")
    }

    /// Checks the values: a usable name, a UUID, positive sizes, and ids without white space (they travel
    /// on the kernel command line).
    /// - Throws: ``LibvirtError`` `.badArgument` naming the first wrong value.
    public func validate() throws {
        func bad(_ message: String) -> LibvirtError { LibvirtError(.badArgument, message) }
        guard !name.isEmpty, !name.contains("/"), !name.contains(where: \.isWhitespace) else {
            throw bad("domain name '\(name)' must be non-empty, without '/' or white space")
        }
        guard Self.isUUID(uuid) else { throw bad("'\(uuid)' is not a UUID (8-4-4-4-12 hexadecimal digits)") }
        guard memoryMiB > 0 else { throw bad("memory must be positive, got \(memoryMiB) MiB") }
        guard vcpus > 0 else { throw bad("vcpus must be positive, got \(vcpus)") }
        for (what, value) in [("group", instance.group), ("vm id", instance.vmID), ("manager", manager ?? "x")] {
            guard !value.isEmpty, !value.contains(where: \.isWhitespace) else {
                throw bad("\(what) '\(value)' must be non-empty and without white space")
            }
        }
        if let credential {
            // Printable ASCII only (XML and QEMU's -smbios take it as it is); the value itself is never shown.
            guard !credential.isEmpty, credential.utf8.allSatisfy({ $0 >= 0x21 && $0 <= 0x7E }) else {
                throw bad("the credential must be printable ASCII without white space (\(credential.utf8.count) bytes given)")
            }
        }
    }

    /// True for `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` in hexadecimal.
    static func isUUID(_ s: String) -> Bool {
        let parts = s.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.map(\.count) == [8, 4, 4, 4, 12] else { return false }
        return parts.allSatisfy { $0.allSatisfy(\.isHexDigit) }
    }
}
