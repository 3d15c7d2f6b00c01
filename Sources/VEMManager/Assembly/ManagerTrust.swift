import Foundation
import Logging
import Synchronization
import VEMConfig
import VEMCore
import VEMTrust

/// What the Manager's hub trusts, live: the revoked certificates (``VEMTrust/RevocationList``, shared with the
/// hub's connections; `tls_revoked` is read again at every reload) and, with `vm_issuer_*`, the VM credentials it
/// issues. At `vm.create` it issues the VM's credential and adds it to the command as the argument `credential`
/// (on the wire only: the journal keeps the command without it); at `vm.destroy` it revokes the VM's credential.
public final class ManagerTrust: Sendable {
    /// The revoked certificates the hub refuses.
    public let revocations: RevocationList
    /// The revocation file (`tls_revoked`), read again at every reload.
    public let revokedFile: String?
    /// The issuer of VM credentials (nil: none are issued).
    public let issuer: VMCredentialIssuer?
    /// How long a VM credential is valid, in seconds.
    public let lifetime: TimeInterval
    private let issued = Mutex<[String: (serial: String, notAfter: Date)]>([:])
    private let logger: Logger

    /// The name of the argument of `vm.create` that carries the credential.
    public static let argument = "credential"

    /// Creates the trust of a Manager.
    public init(
        revocations: RevocationList = RevocationList(), revokedFile: String? = nil, issuer: VMCredentialIssuer? = nil,
        lifetime: TimeInterval = TimeInterval(VMCredentialSettings.defaultLifetime),
        logger: Logger = Logger(label: "vem.manager")
    ) {
        self.revocations = revocations
        self.revokedFile = revokedFile
        self.issuer = issuer
        self.lifetime = lifetime
        self.logger = logger
    }

    /// The trust of `settings`: `tls_revoked` read, the issuer of `vm_issuer_*` loaded.
    /// - Throws: ``ManagerError`` `.configuration` when a file cannot be read or the issuer is not below the site CA.
    public static func load(_ settings: ManagerSettings, logger: Logger) throws(ManagerError) -> ManagerTrust {
        var serials: Set<String> = []
        if let path = settings.tls?.revoked { serials = try readRevoked(path) }
        var issuer: VMCredentialIssuer?
        if let vm = settings.vmCredentials, let tls = settings.tls {
            do {
                func read(_ path: String, _ key: String) throws -> String {
                    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                        throw TrustError("cannot read \(key) \(path)")
                    }
                    return text
                }
                issuer = try VMCredentialIssuer(
                    certificatePEM: try read(vm.certificate, "vm_issuer_certificate"),
                    keyPEM: try read(vm.key, "vm_issuer_key"), siteCAPEM: try read(tls.ca, "tls_ca"))
            } catch {
                throw ManagerError(.configuration, "VM credentials: \(error)")
            }
        }
        return ManagerTrust(
            revocations: RevocationList(serials: serials), revokedFile: settings.tls?.revoked, issuer: issuer,
            lifetime: TimeInterval(settings.vmCredentials?.lifetime ?? VMCredentialSettings.defaultLifetime),
            logger: logger)
    }

    static func readRevoked(_ path: String) throws(ManagerError) -> Set<String> {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ManagerError(.configuration, "cannot read tls_revoked \(path)")
        }
        return SiteCADirectory.revokedSerials(in: text)
    }

    /// Reads `tls_revoked` again (a reload); the VM credentials revoked meanwhile stay revoked.
    /// - Returns: What it did, for the reload's answer (nil without a file).
    @discardableResult
    public func reloadRevocations() -> String? {
        guard let path = revokedFile else { return nil }
        do {
            let serials = try Self.readRevoked(path)
            revocations.replaceFileSerials(serials)
            return "tls_revoked: \(serials.count) serial\(serials.count == 1 ? "" : "s")"
        } catch {
            logger.error("revocation list not read again", metadata: ["file": "\(path)", "error": "\(error.message)"])
            return "tls_revoked not read again (kept the previous list): \(error.message)"
        }
    }

    /// The arguments a command goes out with: `vm.create` gets the VM's new credential (when an issuer is set);
    /// `vm.destroy` revokes the VM's credential (the hub refuses it from now on). Others are unchanged.
    public func wireArguments(command: String, arguments: [NamedValue], now: Date = Date()) -> [NamedValue] {
        func argument(_ name: String) -> String? {
            for a in arguments where a.name == name { if case .string(let s) = a.value { return s } }
            return nil
        }
        switch command {
        case "vm.create":
            guard let issuer, let vm = argument("vm"), let group = argument("group") else { return arguments }
            do {
                let credential = try issuer.issue(vm: vm, group: group, lifetime: lifetime, now: now)
                let text = try credential.oemString
                issued.withLock { $0[vm] = (credential.identity.serial, credential.notAfter) }
                logger.info(
                    "VM credential issued",
                    metadata: ["vm": "\(vm)", "serial": "\(credential.identity.serial)", "until": "\(credential.notAfter)"])
                return arguments.filter { $0.name != Self.argument } + [NamedValue(Self.argument, .string(text))]
            } catch {
                logger.error("VM credential not issued", metadata: ["vm": "\(vm)", "error": "\(error)"])
                return arguments
            }
        case "vm.destroy":
            if let vm = argument("vm") { revoke(vm: vm, now: now) }
            return arguments
        default:
            return arguments
        }
    }

    /// Revokes the credential issued to `vm` (if any).
    public func revoke(vm: String, now: Date = Date()) {
        guard let entry = issued.withLock({ $0.removeValue(forKey: vm) }) else { return }
        revocations.revoke(entry.serial, until: entry.notAfter, now: now)
        logger.info("VM credential revoked", metadata: ["vm": "\(vm)", "serial": "\(entry.serial)"])
    }

    /// The serial of the credential issued to `vm` and not yet revoked.
    public func serial(of vm: String) -> String? { issued.withLock { $0[vm]?.serial } }
}

/// A command's arguments with the VM credential taken out (what is journaled, logged and shown).
public func redactingCredential(_ arguments: [NamedValue]) -> [NamedValue] {
    arguments.filter { $0.name != ManagerTrust.argument }
}
