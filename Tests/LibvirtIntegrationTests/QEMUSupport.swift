import Foundation
import Testing

/// The test guest's kernel and initramfs, prepared by `scripts/install-deps` (`ensure_test_guest`).
struct TestGuest {
    let kernel: String
    let initrd: String

    /// The guest files from `$VEM_TEST_GUEST_DIR` (default `/var/cache/vem-test`); a clear failure when absent.
    static func locate() throws -> TestGuest {
        let dir = ProcessInfo.processInfo.environment["VEM_TEST_GUEST_DIR"] ?? "/var/cache/vem-test"
        let guest = TestGuest(kernel: dir + "/vmlinuz", initrd: dir + "/initrd.gz")
        for file in [guest.kernel, guest.initrd, "/usr/bin/qemu-system-x86_64"]
        where !FileManager.default.fileExists(atPath: file) {
            Issue.record("\(file) is missing: run scripts/install-deps (as root) to install QEMU and the test guest")
            throw CancellationError()
        }
        return guest
    }
}

/// The QEMU guest template: direct kernel boot, serial console appended to a file, no network.
let qemuGuestTemplate = """
    <domain type='qemu'>
      <name>{{name}}</name>
      <uuid>{{uuid}}</uuid>
      <memory unit='MiB'>{{memory_mib}}</memory>
      <vcpu>{{vcpus}}</vcpu>
      <os>
        <type arch='x86_64' machine='pc'>hvm</type>
        <kernel>{{kernel}}</kernel>
        <initrd>{{initrd}}</initrd>
        <cmdline>console=ttyS0 quiet panic=-1 stay_up {{identity}}</cmdline>
      </os>
      <features><acpi/></features>
      <on_poweroff>destroy</on_poweroff><on_reboot>destroy</on_reboot><on_crash>destroy</on_crash>
      <devices>
        <emulator>/usr/bin/qemu-system-x86_64</emulator>
        <serial type='file'><source path='{{console_log}}' append='on'/><target port='0'/></serial>
        <memballoon model='none'/>
      </devices>
    </domain>
    """

/// qemu.conf for QEMU driven by root without systemd, cgroups, security drivers or virtlogd.
let rootQEMUConf = """
    user = "root"
    group = "root"
    dynamic_ownership = 0
    remember_owner = 0
    security_driver = "none"
    stdio_handler = "file"
    cgroup_controllers = [ ]

    """

/// A guest's serial console file.
struct Console {
    let path: String

    var text: String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    /// The highest `tick N` printed so far (0 before the first).
    var lastTick: Int {
        text.split(whereSeparator: \.isNewline).compactMap { line -> Int? in
            guard line.hasPrefix("tick ") else { return nil }
            return Int(line.dropFirst(5).trimmingCharacters(in: .whitespaces))
        }.max() ?? 0
    }

    func waitFor(_ needle: String, timeout: Duration) async throws {
        try await eventually("'\(needle)' on the console \(path)", timeout: timeout) { text.contains(needle) }
    }
}
