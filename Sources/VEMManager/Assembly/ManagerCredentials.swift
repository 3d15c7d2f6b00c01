import Foundation
import VEMBus
import VEMConfig
import VEMProtocol
import VEMCore

/// What `vem manager` reads before it listens: the shared token, the per-Client tokens, and whether the
/// addresses it would listen on may be reached without authentication.
public enum ManagerCredentials {
    /// Why the Manager does not start.
    public struct Problem: Error, CustomStringConvertible {
        /// What is wrong.
        public var description: String
        /// A problem described by `description`.
        public init(_ description: String) { self.description = description }
    }

    /// The admission policy of `settings`: the shared token of `token_file`, and the per-Client tokens of
    /// `client_tokens` (`DIR/<role>/<name>`; the shared token then admits guests only).
    /// - Throws: ``Problem`` for an unreadable or empty token file, a Client name that is not a host-name word,
    ///   or a directory without any token.
    public static func admission(_ settings: ManagerSettings) throws -> Admission {
        var admission = Admission()
        admission.requiresCertificate = settings.bus == .hub && settings.tls != nil
        if let tokenFile = settings.tokenFile { admission.sharedToken = try token(in: tokenFile, what: "token_file") }
        if let directory = settings.clientTokens {
            admission.perClientTokens = try clientTokens(in: directory)
            admission.sharedTokenRoles = [.domU]
        }
        return admission
    }

    /// Reads `DIR/dom0/*`, `DIR/batch/*` and `DIR/domU/*`: each file is one Client's token, named after it.
    static func clientTokens(in directory: String) throws -> [String: Admission.Credential] {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw Problem("client_tokens \(directory) is not a directory")
        }
        var credentials: [String: Admission.Credential] = [:]
        for (folder, role) in [("dom0", ClientRole.dom0), ("batch", ClientRole.batch), ("domU", ClientRole.domU)] {
            let path = (directory as NSString).appendingPathComponent(folder)
            guard let names = try? fm.contentsOfDirectory(atPath: path) else { continue }
            for name in names.sorted() where !name.hasPrefix(".") {
                guard Admission.isHostNameWord(name) else {
                    throw Problem(
                        "client_tokens: \(path)/\(LogText.quoted(name)) is not a Client name (letters, digits, '.', '-', '_')")
                }
                if credentials[name] != nil {
                    throw Problem("client_tokens: \(name) has a token under two roles")
                }
                let file = (path as NSString).appendingPathComponent(name)
                credentials[name] = Admission.Credential(token: try token(in: file, what: "client_tokens"), role: role)
            }
        }
        if credentials.isEmpty {
            throw Problem("client_tokens \(directory) holds no token (expected dom0/NAME, batch/NAME or domU/NAME)")
        }
        return credentials
    }

    /// The token in `file`, without surrounding white space.
    /// - Throws: ``Problem`` when the file cannot be read or holds no token (an empty file never means "no
    ///   authentication").
    static func token(in file: String, what: String) throws -> String {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw Problem("cannot read \(what) \(file)")
        }
        let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if token.isEmpty { throw Problem("\(what) \(file) is empty: write a token in it, or remove the setting") }
        return token
    }

    /// Token files that others than their owner may read (each a warning to log).
    static func looseTokenFiles(_ settings: ManagerSettings) -> [String] {
        var files = settings.tokenFile.map { [$0] } ?? []
        if let directory = settings.clientTokens {
            for folder in ["dom0", "batch", "domU"] {
                let path = (directory as NSString).appendingPathComponent(folder)
                for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] where !name.hasPrefix(".") {
                    files.append((path as NSString).appendingPathComponent(name))
                }
            }
        }
        return files.sorted().compactMap { file in
            guard let mode = (try? FileManager.default.attributesOfItem(atPath: file))?[.posixPermissions] as? NSNumber,
                mode.intValue & 0o077 != 0
            else { return nil }
            return "token file \(file) is readable by others (mode \(String(mode.intValue, radix: 8))): chmod 600 it"
        }
    }

    /// What listening as configured exposes: errors stop the Manager, warnings are logged.
    /// - Parameters:
    ///   - settings: The `[manager]` settings.
    ///   - admission: The admission policy read from them.
    ///   - http: Where the operator API will listen (nil: not served).
    public static func exposure(_ settings: ManagerSettings, admission: Admission, http: HostPort?) -> (
        errors: [String], warnings: [String]
    ) {
        var errors: [String] = []
        var warnings: [String] = []
        if settings.bus == .hub, !isLoopback(settings.listen.host), settings.tls == nil {
            // Off loopback the hub needs TLS: without it nothing is encrypted and no Client can tell the real
            // Manager from a fake one, whatever tokens say.
            var text =
                "listen = \(settings.listen) is off loopback without TLS (tokens in clear text, and Clients cannot "
                + "verify the Manager): set tls_ca, tls_certificate and tls_key"
            if !admission.authenticates { text += "; no Client has to present a token either" }
            if settings.insecure { warnings.append(text + " (insecure = yes)") } else { errors.append(text + ", or insecure = yes") }
            if admission.authenticates, admission.perClientTokens.isEmpty {
                warnings.append(
                    "one shared token for every Client: a guest holding it can join as a dom0 or batch Client "
                        + "(set client_tokens, or use TLS certificates)")
            }
        }
        if let http, !isLoopback(http.host), settings.tls == nil {
            let text =
                "http_listen = \(http) is off loopback without TLS: the operator API has no authentication "
                + "(set tls_ca, tls_certificate and tls_key to serve it over TLS to operator certificates)"
            if settings.insecure { warnings.append(text + " (insecure = yes)") } else { errors.append(text + "; set insecure = yes to serve it anyway") }
        }
        return (errors, warnings)
    }

    /// `127.0.0.0/8`, `::1`, `localhost`.
    public static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }
}
