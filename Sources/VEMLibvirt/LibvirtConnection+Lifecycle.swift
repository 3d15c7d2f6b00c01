import CLibvirt
import Foundation

extension LibvirtConnection {
    /// Defines a persistent domain from XML (not started).
    /// - Throws: ``LibvirtError`` `.domainExists` when a domain of that name or UUID exists (libvirt would
    ///   otherwise silently replace a definition with the same name and UUID); libvirt's message otherwise.
    @discardableResult
    public func define(xml: String, name: String, uuid: String? = nil) async throws -> DomainInfo {
        try await call("define domain '\(name)'") { conn in
            try Self.ensureAbsent(conn, name: name, uuid: uuid)
            guard let d = virDomainDefineXML(conn, xml) else { throw lastLibvirtError("define domain '\(name)'") }
            defer { virDomainFree(d) }
            return try Self.describe(d)
        }
    }

    /// Starts a defined domain.
    public func start(_ name: String) async throws {
        try await call("start domain '\(name)'") { conn in
            try Self.withDomain(conn, name) { d in
                guard virDomainCreate(d) == 0 else { throw lastLibvirtError("start domain '\(name)'") }
            }
        }
    }

    /// Renders a group's template, defines the domain and starts it, as one step: when the start fails the
    /// definition is removed again, so no half-created domain is left behind.
    /// - Parameters:
    ///   - template: The group's template.
    ///   - spec: The VM's values (name, UUID, size, VEM identity).
    /// - Returns: The running domain.
    /// - Throws: ``LibvirtError``: template errors, `.domainExists`, or libvirt's message.
    public func create(from template: DomainTemplate, spec: DomainSpec) async throws -> DomainInfo {
        let xml = try template.render(spec)
        return try await call("create domain '\(spec.name)'") { conn in
            try Self.ensureAbsent(conn, name: spec.name, uuid: spec.uuid)
            guard let d = virDomainDefineXML(conn, xml) else {
                throw lastLibvirtError("define domain '\(spec.name)'")
            }
            defer { virDomainFree(d) }
            guard virDomainCreate(d) == 0 else {
                let error = lastLibvirtError("start domain '\(spec.name)'")
                if virDomainIsActive(d) == 1 { _ = virDomainDestroy(d) }
                _ = Self.undefineDomain(d)
                virResetLastError()
                throw error
            }
            return try Self.describe(d)
        }
    }

    /// Powers a domain off at once (libvirt's `destroy`; the definition stays).
    public func destroy(_ name: String) async throws {
        try await call("destroy domain '\(name)'") { conn in
            try Self.withDomain(conn, name) { d in
                guard virDomainDestroy(d) == 0 else { throw lastLibvirtError("destroy domain '\(name)'") }
            }
        }
    }

    /// Removes a domain's persistent definition (with its managed-save image, snapshot metadata and NVRAM).
    public func undefine(_ name: String) async throws {
        try await call("undefine domain '\(name)'") { conn in
            try Self.withDomain(conn, name) { d in
                guard Self.undefineDomain(d) else {
                    throw lastLibvirtError("undefine domain '\(name)'")
                }
            }
        }
    }

    /// The current state of a domain.
    public func state(of name: String) async throws -> DomainState {
        try await call("read the state of domain '\(name)'") { conn in
            try Self.withDomain(conn, name) { d in
                var state: Int32 = 0
                var reason: Int32 = 0
                guard virDomainGetState(d, &state, &reason, 0) == 0 else {
                    throw lastLibvirtError("read the state of domain '\(name)'")
                }
                return DomainState(libvirtState: state)
            }
        }
    }

    /// Asks the guest to shut down (ACPI power button), waits up to `timeout` for it to power off, and
    /// destroys it if it has not.
    /// - Parameters:
    ///   - name: The domain.
    ///   - timeout: How long the guest may take.
    ///   - pollInterval: How often the state is checked while waiting. Default 100 ms.
    ///   - repeatInterval: How often the request is repeated while the guest is still running (a guest
    ///     that is still booting may miss the first button press). Default 5 s.
    /// - Returns: Whether the guest stopped by itself, was destroyed, or was not running.
    public func shutdown(
        _ name: String, timeout: Duration, pollInterval: Duration = .milliseconds(100),
        repeatInterval: Duration = .seconds(5)
    ) async throws -> ShutdownOutcome {
        guard try await requestShutdown(name) else { return .notRunning }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        var nextRequest = clock.now.advanced(by: repeatInterval)
        while clock.now < deadline {
            // A transient domain disappears when it stops.
            guard let current = try await domainState(name), current.isActive else { return .graceful }
            if clock.now >= nextRequest {
                guard try await requestShutdown(name) else { return .graceful }
                nextRequest = clock.now.advanced(by: repeatInterval)
            }
            try await Task.sleep(for: pollInterval)
        }
        let destroyed: Bool = try await call("destroy domain '\(name)'") { conn in
            try Self.withDomain(conn, name) { d in
                guard virDomainIsActive(d) == 1 else { return false }
                guard virDomainDestroy(d) == 0 else { throw lastLibvirtError("destroy domain '\(name)'") }
                return true
            }
        }
        return destroyed ? .destroyed : .graceful
    }

    /// The domain's state, or nil when it no longer exists.
    private func domainState(_ name: String) async throws -> DomainState? {
        do {
            return try await state(of: name)
        } catch let error as LibvirtError where error.code == .domainNotFound {
            return nil
        }
    }

    /// Sends the shutdown request; false when the domain is not running.
    private func requestShutdown(_ name: String) async throws -> Bool {
        try await call("shut down domain '\(name)'") { conn in
            try Self.withDomain(conn, name) { d in
                guard virDomainIsActive(d) == 1 else { return false }
                guard virDomainShutdown(d) == 0 else {
                    // Shut off in the meantime: nothing to do.
                    if virDomainIsActive(d) == 0 {
                        virResetLastError()
                        return false
                    }
                    throw lastLibvirtError("shut down domain '\(name)'")
                }
                return true
            }
        }
    }

    /// Stops a domain (gracefully within `timeout`, else hard) and removes its definition: the end of a VM.
    /// - Returns: How the domain stopped.
    public func remove(_ name: String, timeout: Duration) async throws -> ShutdownOutcome {
        let outcome = try await shutdown(name, timeout: timeout)
        // A transient domain disappears when it stops; a persistent one is undefined.
        if let info = try await domain(named: name), info.persistent {
            try await undefine(name)
        }
        return outcome
    }

    /// Undefines with the widest set of clean-up flags the driver accepts (the test driver rejects NVRAM and
    /// checkpoint flags; UEFI guests under QEMU need the NVRAM one). True on success; on failure libvirt's
    /// error is left for the caller.
    static func undefineDomain(_ d: OpaquePointer) -> Bool {
        let saves = VIR_DOMAIN_UNDEFINE_MANAGED_SAVE.rawValue | VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA.rawValue
        let all = saves | VIR_DOMAIN_UNDEFINE_NVRAM.rawValue | VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA.rawValue
        let invalidFlags: Set<Int32> = [Int32(VIR_ERR_INVALID_ARG.rawValue), LibvirtErrorNumber.noSupport]
        for flags in [all, saves, 0] {
            if virDomainUndefineFlags(d, flags) == 0 { return true }
            guard let number = lastLibvirtErrorNumber(), invalidFlags.contains(number) else { return false }
        }
        return virDomainUndefine(d) == 0
    }

    /// Throws `.domainExists` when a domain with this name (or UUID) is already known to the hypervisor.
    static func ensureAbsent(_ conn: OpaquePointer, name: String, uuid: String?) throws {
        if let d = virDomainLookupByName(conn, name) {
            virDomainFree(d)
            throw LibvirtError(.domainExists, "a domain named '\(name)' already exists", operation: "define")
        }
        virResetLastError()
        if let uuid, let d = virDomainLookupByUUIDString(conn, uuid) {
            let other = virDomainGetName(d).map { String(cString: $0) } ?? "?"
            virDomainFree(d)
            throw LibvirtError(
                .domainExists, "a domain with UUID \(uuid) already exists ('\(other)')", operation: "define")
        }
        virResetLastError()
    }
}
