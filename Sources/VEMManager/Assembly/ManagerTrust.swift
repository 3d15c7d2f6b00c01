import Foundation
import Logging
import Synchronization
import VEMConfig
import VEMCore
import VEMTrust

#if canImport(Glibc)
    import Glibc
#endif

/// What the Manager's hub trusts, live: the revoked certificates (``VEMTrust/RevocationList``, shared with the
/// hub's connections; `tls_revoked` is read again at every reload) and, with `vm_issuer_*`, the VM credentials it
/// issues. At `vm.create` it issues the VM's credential and adds it to the command as the argument `credential`
/// (on the wire only: the journal keeps the command without it); at `vm.destroy` it revokes the VM's credentials.
/// A `vm.create` resent from the journal after a restart gets a fresh credential the same way (the key was never
/// stored); one issued for it before the restart stays valid until the VM's destroy revokes both, since the Dom0
/// may have run that create already (it answers the resend with its stored result) and the guest then holds it.
/// With a `store` file (beside the journal, 0600) it notes each credential issued and revoked (serial numbers and
/// expiry, never a key), so that a restarted Manager still refuses a revoked one and can revoke one it issued
/// before.
public final class ManagerTrust: Sendable {
    /// The revoked certificates the hub refuses.
    public let revocations: RevocationList
    /// The revocation file (`tls_revoked`), read again at every reload.
    public let revokedFile: String?
    /// The issuer of VM credentials (nil: none are issued).
    public let issuer: VMCredentialIssuer?
    /// How long a VM credential is valid, in seconds.
    public let lifetime: TimeInterval
    /// Per VM, the credentials issued and not yet revoked, oldest first.
    private let issued = Mutex<[String: [(serial: String, notAfter: Date)]]>([:])
    private let logger: Logger
    /// Where issued and revoked credentials are noted (`issued VM SERIAL NOTAFTER`, `revoked SERIAL NOTAFTER`).
    public let store: String?

    /// The name of the argument of `vm.create` that carries the credential.
    public static let argument = "credential"

    /// Creates the trust of a Manager.
    public init(
        revocations: RevocationList = RevocationList(), revokedFile: String? = nil, issuer: VMCredentialIssuer? = nil,
        lifetime: TimeInterval = TimeInterval(VMCredentialSettings.defaultLifetime), store: String? = nil,
        logger: Logger = Logger(label: "vem.manager")
    ) {
        self.store = store
        self.revocations = revocations
        self.revokedFile = revokedFile
        self.issuer = issuer
        self.lifetime = lifetime
        self.logger = logger
    }

    /// The trust of `settings`: `tls_revoked` read, the issuer of `vm_issuer_*` loaded, and the credentials noted
    /// in `store` taken back (those not yet expired).
    /// - Throws: ``ManagerError`` `.configuration` when a file cannot be read or the issuer is not below the site CA.
    public static func load(_ settings: ManagerSettings, store: String? = nil, logger: Logger) throws(ManagerError)
        -> ManagerTrust
    {
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
        let trust = ManagerTrust(
            revocations: RevocationList(serials: serials), revokedFile: settings.tls?.revoked, issuer: issuer,
            lifetime: TimeInterval(settings.vmCredentials?.lifetime ?? VMCredentialSettings.defaultLifetime),
            store: store, logger: logger)
        trust.takeBack()
        return trust
    }

    /// Takes back the credentials noted in ``store``: issued ones (to revoke at `vm.destroy`) and revoked ones
    /// (refused again), dropping the expired; the file is rewritten with what remains.
    func takeBack(now: Date = Date()) {
        guard let store, let text = try? String(contentsOfFile: store, encoding: .utf8) else { return }
        var issuedNow: [String: [(serial: String, notAfter: Date)]] = [:]
        var revoked: [String: Date] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            let words = line.split(separator: " ").map(String.init)
            guard let last = words.last, let seconds = Double(last) else { continue }
            let notAfter = Date(timeIntervalSince1970: seconds)
            guard notAfter > now else { continue }
            if words.count == 4, words[0] == "issued" {
                issuedNow[words[1], default: []].append((words[2], notAfter))
            } else if words.count == 3, words[0] == "revoked" {
                revoked[words[1]] = notAfter
                for (vm, entries) in issuedNow {
                    let kept = entries.filter { $0.serial != words[1] }
                    issuedNow[vm] = kept.isEmpty ? nil : kept
                }
            }
        }
        for (serial, notAfter) in revoked { revocations.revoke(serial, until: notAfter, now: now) }
        issued.withLock { $0 = issuedNow }
        let issuedLines = issuedNow.flatMap { vm, entries in
            entries.map { "issued \(vm) \($0.serial) \(Int($0.notAfter.timeIntervalSince1970))" }
        }
        let lines = issuedLines + revoked.map { "revoked \($0.key) \(Int($0.value.timeIntervalSince1970))" }
        try? GuestCredentialStore.write(lines.sorted().map { $0 + "\n" }.joined(), to: store)
    }

    /// Appends a line to ``store`` (a failure is logged: the credential still works, it is only not remembered).
    private func note(_ line: String) {
        guard let store else { return }
        do { try GuestCredentialStore.append(line + "\n", to: store) } catch {
            logger.error("credential store not written", metadata: ["file": "\(store)", "error": "\(error)"])
        }
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

    /// The arguments a command goes out with: `vm.create` gets a new credential for the VM (when an issuer is
    /// set), also when it is resent after a restart; `vm.destroy` revokes every credential of the VM (the hub
    /// refuses them from now on and closes their connections). Others are unchanged.
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
                issued.withLock { $0[vm, default: []].append((credential.identity.serial, credential.notAfter)) }
                note("issued \(vm) \(credential.identity.serial) \(Int(credential.notAfter.timeIntervalSince1970))")
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

    /// Revokes the credentials issued to `vm` (if any).
    public func revoke(vm: String, now: Date = Date()) {
        for entry in issued.withLock({ $0.removeValue(forKey: vm) }) ?? [] {
            revocations.revoke(entry.serial, until: entry.notAfter, now: now)
            note("revoked \(entry.serial) \(Int(entry.notAfter.timeIntervalSince1970))")
            logger.info("VM credential revoked", metadata: ["vm": "\(vm)", "serial": "\(entry.serial)"])
        }
    }

    /// The serial of the credential last issued to `vm` and not yet revoked.
    public func serial(of vm: String) -> String? { issued.withLock { $0[vm]?.last?.serial } }

    /// The serials of every credential issued to `vm` and not yet revoked, oldest first.
    public func serials(of vm: String) -> [String] { issued.withLock { ($0[vm] ?? []).map(\.serial) } }
}

/// A command's arguments with the VM credential taken out (what is journaled, logged and shown).
public func redactingCredential(_ arguments: [NamedValue]) -> [NamedValue] {
    arguments.filter { $0.name != ManagerTrust.argument }
}

/// The 0600 file of issued and revoked VM credentials (serial numbers and expiry only).
enum GuestCredentialStore {
    /// Replaces the file (created 0600).
    static func write(_ text: String, to path: String) throws {
        let temporary = path + ".tmp"
        try open(temporary, flags: O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, text)
        guard rename(temporary, path) == 0 else { throw TrustError("cannot rename \(temporary)") }
    }

    /// Appends to the file (created 0600).
    static func append(_ text: String, to path: String) throws {
        try open(path, flags: O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, text)
    }

    private static func open(_ path: String, flags: Int32, _ text: String) throws {
        let fd = Glibc.open(path, flags, 0o600)
        guard fd >= 0 else { throw TrustError("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw TrustError("cannot write \(path)") }
    }
}
