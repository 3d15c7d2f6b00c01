import ArgumentParser
import Foundation
import VEMTrust

/// `vem ca`: the site CA (`init`), certificates for the Manager, Clients and operators (`issue`), and revocation.
struct CACommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ca",
        abstract: "The site certificate authority: create it, issue certificates with a role, revoke them.",
        discussion: """
            Files in the CA directory: ca.pem (the CA certificate; give it to every Client and the Manager as \
            tls_ca), ca.key (the CA key, 0600; keep it off the hosts), NAME.pem and NAME.key (0600) for each \
            certificate issued, and revoked (the Manager's tls_revoked). `vem ca issuer` makes the Manager's \
            intermediate for per-VM credentials. Keys are never printed.
            """,
        subcommands: [Init.self, Issue.self, Issuer.self, Revoke.self]
    )

    static let defaultDirectory = "/etc/vem/ca"

    /// `vem ca init`.
    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create the site CA: a new key (0600) and its self-signed certificate.")

        @Option(help: "The CA directory.") var dir = CACommand.defaultDirectory
        @Option(help: "Days the CA is valid.") var days = 3_650

        func run() throws {
            let ca = try orExit { try SiteCADirectory(path: dir).initialize(days: days) }
            let serial = ca.certificate.serialNumber.bytes.map { String(format: "%02x", $0) }.joined()
            print("created the site CA in \(dir): ca.pem (serial \(serial)), ca.key (mode 0600)")
        }
    }

    /// `vem ca issuer`.
    struct Issuer: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create the Manager's issuing intermediate for VM credentials; writes NAME.pem and NAME.key.",
            discussion: """
                The Manager signs each VM's short-lived credential (role domU) with this key at vm.create, so \
                the site CA's key stays off the Manager. The hub accepts only guest certificates below it. Give \
                the files to the Manager as vm_issuer_certificate and vm_issuer_key.
                """)

        @Argument(help: "The intermediate's name.")
        var name = "manager-issuer"

        @Option(help: "The CA directory.")
        var dir = CACommand.defaultDirectory

        @Option(help: "Days the intermediate is valid.")
        var days = 365

        func run() throws {
            let made = try orExit { try SiteCADirectory(path: dir).createIssuer(name: name, days: days) }
            print("issued the VM credential issuer \(name) (serial \(made.serial)): \(made.certificate), \(made.key) (mode 0600)")
        }
    }

    /// `vem ca issue`.
    struct Issue: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue a certificate naming a holder, its role and its group; writes NAME.pem and NAME.key.",
            discussion: """
                The name is the Client's name on the bus (or the Manager's, an operator's): a Client's hello \
                must announce exactly this name, role and group. For the Manager, list with --host every name \
                or IP address Clients dial (`manager` in their [client] section).
                """)

        @Argument(help: "The holder's name.") var name: String
        @Option(help: "dom0, domU, batch, manager or operator.") var role: String
        @Option(help: "The group (required for a domU).") var group: String?
        @Option(help: "A further DNS name or IP address of the holder (repeat it).") var host: [String] = []
        @Option(help: "The CA directory.") var dir = CACommand.defaultDirectory
        @Option(help: "Days the certificate is valid.") var days = 365

        func validate() throws { try usage(SiteCADirectory.issueProblem(role: role, group: group, days: days)) }

        func run() throws {
            let issued = try orExit {
                try SiteCADirectory(path: dir).issue(
                    name: name, role: TrustRole(rawValue: role) ?? .domU, group: group, hosts: host, days: days)
            }
            print("issued \(issued.identity): \(issued.certificate), \(issued.key) (mode 0600)")
        }
    }

    /// `vem ca revoke`.
    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a certificate (by name or serial number): add it to DIR/revoked.",
            discussion: "Copy DIR/revoked to the Manager's tls_revoked and restart the Manager.")

        @Argument(help: "The holder's name (DIR/NAME.pem) or a serial number in hexadecimal.") var nameOrSerial: String
        @Option(help: "The CA directory.") var dir = CACommand.defaultDirectory

        func run() throws {
            let serial = try orExit { try SiteCADirectory(path: dir).revoke(nameOrSerial) }
            print("revoked serial \(serial) (in \(SiteCADirectory(path: dir).revokedPath))")
        }
    }
}
