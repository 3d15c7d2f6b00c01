import Testing
import VEMCore

/// The destination check a Dom0 makes before `vm.migrate` reaches libvirt (and the Manager before it sends one).
@Suite struct MigrationURITests {
    @Test func onlyPlainSSHOrTLSHostsPass() {
        for good in [
            "qemu+ssh://host2/system", "qemu+tls://host2.example.org/system", "qemu+ssh://root@host2:2222/system",
            "qemu+tls://10.0.0.2/system",
        ] {
            #expect(MigrationURI.problem(good) == nil, "\(good)")
        }
        for bad in [
            "qemu+ext:///system?command=/tmp/evil.sh", "qemu+ssh://evil:2222/system?no_verify=1&x=",
            "qemu+ssh://host2/system?keyfile=/root/.ssh/id_rsa", "qemu+ssh://host2/system#frag",
            "qemu+unix:///system?socket=/tmp/s", "qemu+tcp://host2/system", "qemu:///system", "test:///default",
            "qemu+ssh:///system", "qemu+ssh://host2", "qemu+ssh://ho st/system", "qemu+ssh://host2/sys tem",
            "qemu+ssh://-oProxyCommand=x/system", "qemu+ssh://host2:99999/system", "qemu+ssh://host2:/system",
            "qemu+ssh://a@b@host2/system", "qemu+ssh://host2/system\n", "", "qemu+ssh://host2/%2e",
        ] {
            #expect(MigrationURI.problem(bad) != nil, "\(bad.debugDescription)")
        }
    }
}
