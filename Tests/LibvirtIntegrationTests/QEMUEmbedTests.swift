import Foundation
import Testing
import VEMLibvirt

/// The tests that run real QEMU guests, one at a time: on two cores, TCG guests booting side by side slow
/// each other down several-fold (and one run saw a migration stall while another guest was busy).
@Suite(.serialized) struct QEMUGuestTests {}

extension QEMUGuestTests {
    /// A real guest under QEMU (TCG) through libvirt's embedded, daemon-less driver `qemu:///embed?root=…`.
    @Suite struct QEMUEmbedTests {
        @Test(.timeLimit(.minutes(3)))
        func bootsAGuestThatKnowsWhoItIsAndShutsItDown() async throws {
            let guest = try TestGuest.locate()
            try await withScratch("embed") { dir in
                let started = ContinuousClock.now
                let root = dir.appendingPathComponent("root")
                try FileManager.default.createDirectory(
                    at: root.appendingPathComponent("etc"), withIntermediateDirectories: true)
                try rootQEMUConf.write(
                    to: root.appendingPathComponent("etc/qemu.conf"), atomically: true, encoding: .utf8)
                let console = Console(path: dir.appendingPathComponent("console.log").path)

                let c = try await LibvirtConnection.open("qemu:///embed?root=\(root.path)")
                let log = EventLog<DomainEvent>()
                await log.start(try await c.lifecycleEvents())
                let template = try DomainTemplate(
                    qemuGuestTemplate, origin: "qemu-guest.xml", extraPlaceholders: ["console_log"])
                let spec = DomainSpec(
                    name: "vem-qemu-1", uuid: UUID().uuidString.lowercased(), memoryMiB: 256, vcpus: 1,
                    instance: VEMInstance(group: "atlas", vmID: "atlas-q1", commandID: "5"), manager: "127.0.0.1:7070",
                    kernel: guest.kernel, initrd: guest.initrd, extra: ["console_log": console.path])
                let info = try await c.create(from: template, spec: spec)
                #expect(info.state == .running)
                do {
                    try await exercise(c, console: console, log: log, started: started)
                } catch {
                    // Leave no guest behind when the test fails half-way.
                    try? await c.destroy("vem-qemu-1")
                    try? await c.undefine("vem-qemu-1")
                    await c.close()
                    throw error
                }
                await c.close()
                print("qemu embed: total \(seconds(since: started))")
            }
        }

        func exercise(
            _ c: LibvirtConnection, console: Console, log: EventLog<DomainEvent>, started: ContinuousClock.Instant
        ) async throws {
            print("qemu embed: domain running after \(seconds(since: started))")

            try await console.waitFor("GUEST BOOTED OK", timeout: .seconds(90))
            print("qemu embed: guest booted after \(seconds(since: started))")
            // The identity lines come right after the boot line, then the ticks.
            try await eventually("the guest's ticks", timeout: .seconds(30)) { console.lastTick >= 2 }
            #expect(console.text.contains("identity vem.vm=atlas-q1"))
            #expect(console.text.contains("identity vem.group=atlas"))
            #expect(console.text.contains("identity vem.manager=127.0.0.1:7070"))

            let listed = try await c.domains()
            #expect(listed.map(\.name) == ["vem-qemu-1"])
            #expect(listed.first?.instance == VEMInstance(group: "atlas", vmID: "atlas-q1", commandID: "5"))

            let outcome = try await c.shutdown("vem-qemu-1", timeout: .seconds(30))
            #expect(outcome == .graceful, "the guest powers off on the ACPI power button")
            #expect(console.text.contains("GUEST POWERING OFF"))
            print("qemu embed: guest shut down (\(outcome)) after \(seconds(since: started))")
            try await c.undefine("vem-qemu-1")
            #expect(try await c.domains().isEmpty)
            try await eventually("the undefine event") { await log.events.contains { $0.kind == .undefined } }
            let kinds = await log.events.map(\.kind)
            #expect(kinds.contains(.started) && kinds.contains(.stopped))
            #expect(await log.events.first { $0.kind == .stopped }?.detailName == "shutdown")
            await log.stop()
        }
    }
}
