import Foundation
import VEMLibvirt
import VEMTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// The real guests' hosts: system-mode `libvirtd`s (QEMU TCG) in the network namespace of the hub's link, where a
/// bridge `br0` joins the link's `eth0` and every guest's tap. A guest gets its address from `udhcpd` on the
/// bridge, in the link's subnet, so it reaches the hub and slurmctld on the host side of the link, and slurmctld
/// reaches its slurmd, without routing or NAT and without touching the host's own network.
///
/// The guest image comes from `scripts/build-guest-image` (cached), with a per-site layer holding the cluster's
/// munge key and slurm.conf appended to its initramfs.
final class RealHosts: @unchecked Sendable {
    /// The kernel, the initramfs (base + site layer) and the read-only disk of the group's guests.
    struct Image {
        var kernel: String
        var initrd: String
        var disk: String
    }

    let dir: String
    let link: NetworkNamespace
    let image: Image
    private(set) var daemons: [String: String] = [:]
    private var dhcp: Daemon?

    private init(dir: String, link: NetworkNamespace, image: Image) {
        self.dir = dir
        self.link = link
        self.image = image
    }

    /// The repository's root (this file is Tests/EndToEndTests/Support/RealHosts.swift).
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    /// Builds (or finds in its cache) the guest image and writes this site's layer; fails clearly when the
    /// kernel or QEMU is missing.
    /// - Parameter features: Each group's Slurm feature (the site layer's /etc/vem/features).
    static func image(
        dir: String, mungeKey: String, slurmConf: String, features: [String: String]
    ) async throws -> Image {
        for tool in ["/usr/bin/qemu-system-x86_64", "/usr/sbin/libvirtd", "/bin/busybox"]
        where !FileManager.default.isExecutableFile(atPath: tool) {
            throw HarnessError("\(tool) is missing: run scripts/install-deps")
        }
        let script = repository + "/scripts/build-guest-image"
        // The guest's agent: vem-agent, beside vem.
        let agent = URL(fileURLWithPath: vemBinary).deletingLastPathComponent().appendingPathComponent("vem-agent").path
        let out = try await runTool(script, ["--agent", agent], timeout: .seconds(300))
        var found: [String: String] = [:]
        for line in out.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { found[parts[0]] = parts[1] }
        }
        guard let kernel = found["KERNEL"], let base = found["INITRD"], let disk = found["DISK"] else {
            throw HarnessError("build-guest-image printed: \(out)")
        }
        let conf = dir + "/guest-slurm.conf"
        try write(conf, slurmConf)
        let featureFile = dir + "/guest-features"
        try write(featureFile, features.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)\n" }.joined())
        try await runTool(
            script,
            [
                "--site-layer", dir + "/site.cpio", "--munge-key", mungeKey, "--slurm-conf", conf, "--features",
                featureFile,
            ])
        let initrd = dir + "/initrd.cpio"
        var data = try Data(contentsOf: URL(fileURLWithPath: base))
        data.append(try Data(contentsOf: URL(fileURLWithPath: dir + "/site.cpio")))
        try data.write(to: URL(fileURLWithPath: initrd))
        return Image(kernel: kernel, initrd: initrd, disk: disk)
    }

    /// Makes the bridge and the DHCP server in `link`'s namespace and starts one libvirtd per host name there.
    static func start(
        hostNames: [String], link: NetworkNamespace, image: Image, dir: String
    ) async throws -> RealHosts {
        let hosts = RealHosts(dir: dir, link: link, image: image)
        do {
            try await hosts.makeBridge()
            for (i, name) in hostNames.enumerated() {
                hosts.daemons[name] = try await hosts.startLibvirtd(name, index: i + 1)
            }
        } catch {
            await hosts.stop()
            throw error
        }
        return hosts
    }

    /// The libvirt URI of a host.
    func uri(_ host: String) -> String? {
        daemons[host].map { "qemu+unix:///system?socket=\($0)/sock/libvirt-sock" }
    }

    /// Every host's libvirt URI, by host name.
    var uris: [String] { daemons.keys.sorted().compactMap { uri($0) } }

    /// The serial console of a VM's guest (the template appends it here).
    func console(_ vm: String) -> String { dir + "/console-\(vm).log" }

    private func inNamespace(_ program: String, _ arguments: [String]) async throws {
        try await runTool("/usr/bin/nsenter", ["--net=/run/netns/\(link.name)", program] + arguments)
    }

    private func makeBridge() async throws {
        let ip = "/usr/sbin/ip"
        try await inNamespace(ip, ["link", "add", "br0", "type", "bridge"])
        try await inNamespace(ip, ["addr", "flush", "dev", "eth0"])
        try await inNamespace(ip, ["link", "set", "eth0", "master", "br0"])
        try await inNamespace(ip, ["addr", "add", "\(link.address)/24", "dev", "br0"])
        try await inNamespace(ip, ["link", "set", "br0", "up"])
        try await inNamespace(ip, ["route", "replace", "default", "via", link.hostAddress])
        let prefix = link.hostAddress.split(separator: ".").dropLast().joined(separator: ".")
        try write(
            dir + "/udhcpd.conf",
            """
            start \(prefix).10
            end \(prefix).99
            interface br0
            lease_file \(dir)/udhcpd.leases
            pidfile \(dir)/udhcpd.pid
            opt router \(link.hostAddress)
            opt subnet 255.255.255.0
            opt lease 3600

            """)
        FileManager.default.createFile(atPath: dir + "/udhcpd.leases", contents: nil)
        dhcp = try Daemon(
            name: "udhcpd", program: "/usr/bin/nsenter",
            arguments: ["--net=/run/netns/\(link.name)", "/bin/busybox", "udhcpd", "-f", dir + "/udhcpd.conf"],
            logPath: dir + "/udhcpd.log")
    }

    /// A system-mode libvirtd in its own mount namespace (its fixed paths bound from `dir/lv<i>`), in the link's
    /// network namespace; QEMU as root without cgroups, security drivers or virtlogd. Returns its folder.
    private func startLibvirtd(_ name: String, index: Int) async throws -> String {
        let b = dir + "/lv\(index)"
        for sub in ["run", "lib", "log", "cache", "etc", "sock"] {
            try FileManager.default.createDirectory(atPath: b + "/" + sub, withIntermediateDirectories: true)
        }
        let d = String(index % 10)
        let uuid = [
            String(repeating: d, count: 8), String(repeating: d, count: 4), "4" + String(repeating: d, count: 3),
            "8" + String(repeating: d, count: 3), String(repeating: d, count: 12),
        ].joined(separator: "-")
        try write(
            b + "/libvirtd.conf",
            """
            unix_sock_dir = "\(b)/sock"
            unix_sock_group = "root"
            unix_sock_rw_perms = "0770"
            auth_unix_rw = "none"
            auth_unix_ro = "none"
            host_uuid = "\(uuid)"
            log_level = 3
            log_outputs = "3:file:\(b)/libvirtd.log"

            """)
        try write(
            b + "/etc/qemu.conf",
            """
            user = "root"
            group = "root"
            dynamic_ownership = 0
            remember_owner = 0
            security_driver = "none"
            stdio_handler = "file"
            cgroup_controllers = [ ]

            """)
        try write(
            b + "/start.sh",
            """
            set -e
            mkdir -p /run/libvirt /var/lib/libvirt /var/log/libvirt /var/cache/libvirt /etc/libvirt
            mount --bind '\(b)/run' /run/libvirt
            mount --bind '\(b)/lib' /var/lib/libvirt
            mount --bind '\(b)/log' /var/log/libvirt
            mount --bind '\(b)/cache' /var/cache/libvirt
            mount --bind '\(b)/etc' /etc/libvirt
            exec libvirtd -d -f '\(b)/libvirtd.conf' -p '\(b)/libvirtd.pid' </dev/null >/dev/null 2>&1

            """)
        try await runTool(
            "/usr/bin/nsenter",
            ["--net=/run/netns/\(link.name)", "/usr/bin/unshare", "-m", "--propagation", "private", "/bin/sh",
                b + "/start.sh"])
        let uri = "qemu+unix:///system?socket=\(b)/sock/libvirt-sock"
        _ = try await eventually("libvirtd \(name) answering", within: .seconds(20)) { () -> Bool? in
            guard FileManager.default.fileExists(atPath: b + "/sock/libvirt-sock"),
                let c = try? await LibvirtConnection.open(uri)
            else { return nil }
            await c.close()
            return true
        }
        return b
    }

    /// Destroys the guests, ends QEMU and every libvirtd by the PIDs in their pid files, stops udhcpd.
    func stop() async {
        for (name, b) in daemons {
            if let uri = uri(name), let c = try? await LibvirtConnection.open(uri) {
                for d in (try? await c.domains()) ?? [] where d.state.isActive { try? await c.destroy(d.name) }
                await c.close()
            }
            let qemu = b + "/run/qemu"
            let files = (try? FileManager.default.contentsOfDirectory(atPath: qemu)) ?? []
            for file in files where file.hasSuffix(".pid") {
                if let pid = pidIn(qemu + "/" + file) { await end(pid) }
            }
            if let pid = pidIn(b + "/libvirtd.pid") { await end(pid) }
        }
        daemons = [:]
        await dhcp?.stop()
    }

    private func pidIn(_ path: String) -> pid_t? {
        (try? String(contentsOfFile: path, encoding: .utf8)).flatMap {
            pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }

    /// SIGTERM, up to 10 s, then SIGKILL.
    private func end(_ pid: pid_t) async {
        guard pid > 1, kill(pid, 0) == 0 else { return }
        kill(pid, SIGTERM)
        let start = ContinuousClock.now
        while ContinuousClock.now - start < .seconds(10) {
            if kill(pid, 0) != 0 { return }
            try? await Task.sleep(for: .milliseconds(50))
        }
        kill(pid, SIGKILL)
    }

    /// The group's domain template: direct kernel boot of the image, its disk read-only, a virtio NIC on the
    /// bridge, the serial console appended to a file. The same as examples/real-guest-domain.xml, but for the
    /// console's folder.
    func domainTemplate() throws -> String {
        let example = try String(
            contentsOfFile: Self.repository + "/examples/real-guest-domain.xml", encoding: .utf8)
        return example.replacingOccurrences(of: "/var/log/vem", with: dir)
    }
}
