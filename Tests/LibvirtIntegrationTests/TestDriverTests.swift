import Foundation
import Testing
import VEMLibvirt

/// The driver against libvirt's own `test:///` driver (in-process, a host XML file per simulated host).
@Suite struct TestDriverTests {
    func spec(_ name: String, group: String = "atlas", uuid: String = UUID().uuidString.lowercased()) -> DomainSpec {
        DomainSpec(
            name: name, uuid: uuid, memoryMiB: 512, vcpus: 2,
            instance: VEMInstance(group: group, vmID: name, commandID: "7"), manager: "127.0.0.1:4000")
    }

    @Test func nodeInformationAndDomainsComeFromTheHostFile() async throws {
        try await withScratch("node") { dir in
            let uri = try writeTestHost(dir, cpus: 6, memoryKiB: 8_388_608)
            let c = try await LibvirtConnection.open(uri)
            let node = try await c.nodeInfo()
            #expect(node.cpus == 6)
            #expect(node.memoryKiB == 8_388_608)
            #expect(node.model == "x86_64")
            let domains = try await c.domains()
            #expect(domains.map(\.name) == ["preexisting"])
            #expect(domains.first?.state == .running)
            #expect(domains.first?.instance == nil)
            #expect(domains.first?.vcpus == 2)
            #expect(try await c.hostname().isEmpty == false)
            // define(xml:) without start: a shut-off persistent domain; defining it again is refused.
            let xml = try DomainTemplate(testDriverTemplate).render(spec("plain-1"))
            let defined = try await c.define(xml: xml, name: "plain-1")
            #expect(defined.state == .shutoff && defined.persistent && defined.instance?.vmID == "plain-1")
            let again = await #expect(throws: LibvirtError.self) { try await c.define(xml: xml, name: "plain-1") }
            #expect(again?.code == .domainExists)
            try await c.undefine("plain-1")
            await c.close()
            let closed = await #expect(throws: LibvirtError.self) { try await c.domains() }
            #expect(closed?.code == .connectionClosed)
        }
    }

    @Test func createListShutdownUndefineWithMetadataAndEvents() async throws {
        try await withScratch("lifecycle") { dir in
            let c = try await LibvirtConnection.open(try writeTestHost(dir))
            let log = EventLog<DomainEvent>()
            await log.start(try await c.lifecycleEvents())
            let template = try DomainTemplate(testDriverTemplate, origin: "atlas.xml")
            let created = try await c.create(from: template, spec: spec("atlas-1"))
            #expect(created.state == .running)
            #expect(created.persistent)
            #expect(created.instance == VEMInstance(group: "atlas", vmID: "atlas-1", commandID: "7"))

            let listed = try await c.domains()
            #expect(listed.map(\.name) == ["atlas-1", "preexisting"])
            #expect(listed.first { $0.name == "atlas-1" }?.instance?.group == "atlas")
            #expect(listed.first { $0.name == "atlas-1" }?.memoryKiB == 512 * 1024)

            #expect(try await c.shutdown("atlas-1", timeout: .seconds(5)) == .graceful)
            #expect(try await c.state(of: "atlas-1") == .shutoff)
            #expect(try await c.shutdown("atlas-1", timeout: .seconds(5)) == .notRunning)
            // Metadata is kept in the persistent definition while the domain is off.
            #expect(try await c.domain(named: "atlas-1")?.instance?.vmID == "atlas-1")
            try await c.start("atlas-1")
            try await c.destroy("atlas-1")
            try await c.undefine("atlas-1")
            #expect(try await c.domain(named: "atlas-1") == nil)
            #expect(try await c.domains().map(\.name) == ["preexisting"])

            try await eventually("the undefine event") {
                await log.events.contains { $0.domain == "atlas-1" && $0.kind == .undefined }
            }
            let kinds = await log.events.filter { $0.domain == "atlas-1" }.map(\.kind)
            #expect(kinds == [.defined, .started, .stopped, .started, .stopped, .undefined])
            let stops = await log.events.filter { $0.kind == .stopped }.map(\.detailName)
            #expect(stops == ["shutdown", "destroyed"])
            await log.stop()
            await c.close()
        }
    }

    @Test func eventStreamsEndOnCloseAndSurviveCancellationRacingClose() async throws {
        try await withScratch("events") { dir in
            let uri = try writeTestHost(dir)
            // The stream ends when the connection closes.
            let c = try await LibvirtConnection.open(uri)
            let log = EventLog<DomainEvent>()
            await log.start(try await c.lifecycleEvents())
            try await c.destroy("preexisting")
            try await eventually("the stopped event") { await log.events.map(\.kind) == [.stopped] }
            #expect(await !log.ended)
            await c.close()
            try await eventually("the end of the stream") { await log.ended }
            // Regression: a consumer cancelled just before close() used to deregister on the freed connection
            // (a crash in virObjectEventStateDeregisterID).
            for _ in 0..<100 {
                let c = try await LibvirtConnection.open(uri)
                let stream = try await c.lifecycleEvents()
                let task = Task { for await _ in stream {} }
                task.cancel()
                await c.close()
                await task.value
            }
        }
    }

    /// libvirt refuses a second registration of the same callback on one connection; the driver registers once
    /// and gives every stream every event (a Dom0 agent forwarding events and a watcher in the same process).
    @Test func severalEventStreamsOnOneConnectionEachGetEveryEvent() async throws {
        try await withScratch("fanout") { dir in
            let c = try await LibvirtConnection.open(try writeTestHost(dir))
            let first = EventLog<DomainEvent>(), second = EventLog<DomainEvent>()
            await first.start(try await c.lifecycleEvents())
            await second.start(try await c.lifecycleEvents())
            try await c.destroy("preexisting")
            try await eventually("the stopped event in both streams") {
                let (a, b) = (await first.events.map(\.kind), await second.events.map(\.kind))
                return a == [.stopped] && b == [.stopped]
            }
            // The first consumer goes away; the second still gets events, and a new stream can join.
            await first.stop()
            try await eventually("the first stream ended") { await first.ended }
            let third = EventLog<DomainEvent>()
            await third.start(try await c.lifecycleEvents())
            try await c.start("preexisting")
            try await eventually("the started event in the open streams") {
                let (b, c) = (await second.events.map(\.kind), await third.events.map(\.kind))
                return b == [.stopped, .started] && c == [.started]
            }
            #expect(await first.events.map(\.kind) == [.stopped])
            await c.close()
            try await eventually("both open streams end on close") {
                let (b, c) = (await second.ended, await third.ended)
                return b && c
            }
        }
    }

    @Test func removeStopsAndUndefines() async throws {
        try await withScratch("remove") { dir in
            let c = try await LibvirtConnection.open(try writeTestHost(dir))
            let template = try DomainTemplate(testDriverTemplate)
            _ = try await c.create(from: template, spec: spec("cms-1", group: "cms"))
            #expect(try await c.remove("cms-1", timeout: .seconds(5)) == .graceful)
            #expect(try await c.domains().map(\.name) == ["preexisting"])
            await c.close()
        }
    }

    @Test func libvirtRejectionLeavesNoDomainBehind() async throws {
        try await withScratch("reject") { dir in
            let c = try await LibvirtConnection.open(try writeTestHost(dir))
            // Well-formed XML that libvirt's parser rejects: its own message comes back.
            let bad = try DomainTemplate(
                "<domain type='test'><name>{{name}}</name><memory unit='MiB'>lots</memory>"
                    + "<os><type>hvm</type></os></domain>",
                origin: "bad.xml")
            let error = await #expect(throws: LibvirtError.self) { try await c.create(from: bad, spec: spec("bad-1")) }
            #expect(error?.code == .libvirt)
            #expect(error?.libvirtCode != nil)
            #expect(error?.message.isEmpty == false)
            #expect(error?.operation == "define domain 'bad-1'")
            // A broken template never reaches libvirt.
            let broken = try DomainTemplate("<domain type='test'><name>{{name}}</name>", origin: "broken.xml")
            let e2 = await #expect(throws: LibvirtError.self) { try await c.create(from: broken, spec: spec("bad-2")) }
            #expect(e2?.code == .malformedTemplate)
            #expect(try await c.domains().map(\.name) == ["preexisting"])
            await c.close()
        }
    }

    @Test func existingNameOrUUIDIsAClearErrorAndTheOtherDomainIsUntouched() async throws {
        try await withScratch("exists") { dir in
            let c = try await LibvirtConnection.open(try writeTestHost(dir))
            let template = try DomainTemplate(testDriverTemplate)
            let first = try await c.create(from: template, spec: spec("atlas-1"))
            let sameName = await #expect(throws: LibvirtError.self) {
                try await c.create(from: template, spec: spec("atlas-1", group: "cms"))
            }
            #expect(sameName?.code == .domainExists)
            #expect(sameName?.message == "a domain named 'atlas-1' already exists")
            let clash = await #expect(throws: LibvirtError.self) {
                try await c.create(from: template, spec: spec("atlas-2", uuid: first.uuid))
            }
            #expect(clash?.code == .domainExists)
            let preexisting = await #expect(throws: LibvirtError.self) {
                try await c.create(from: template, spec: spec("preexisting"))
            }
            #expect(preexisting?.code == .domainExists)
            let after = try await c.domains()
            #expect(after.map(\.name) == ["atlas-1", "preexisting"])
            #expect(after.first?.instance?.group == "atlas")
            #expect(after.first?.state == .running)
            #expect(after.last?.instance == nil)
            await c.close()
        }
    }

    @Test func unansweredURIsAreConnectionErrorsWithLibvirtsMessage() async throws {
        try await withScratch("nouri") { dir in
            let socket = dir.appendingPathComponent("nobody-listens").path
            let e1 = await #expect(throws: LibvirtError.self) {
                try await LibvirtConnection.open("qemu+unix:///system?socket=\(socket)")
            }
            #expect(e1?.code == .connectionFailed)
            #expect(e1?.message.contains(socket) == true)
            let e2 = await #expect(throws: LibvirtError.self) {
                try await LibvirtConnection.open("test://\(dir.path)/missing-host.xml")
            }
            #expect(e2?.code == .connectionFailed)
            let e3 = await #expect(throws: LibvirtError.self) { try await LibvirtConnection.open("nonsense:///x") }
            #expect(e3?.code == .connectionFailed)
        }
    }

    @Test func migrationErrorsLeaveTheDomainOnTheSource() async throws {
        try await withScratch("migrate") { dir in
            let c = try await LibvirtConnection.open(try writeTestHost(dir))
            _ = try await c.create(from: try DomainTemplate(testDriverTemplate), spec: spec("atlas-1"))
            let socket = dir.appendingPathComponent("no-such-host-sock").path
            let unreachable = await #expect(throws: LibvirtError.self) {
                try await c.migrate("atlas-1", to: "qemu+unix:///system?socket=\(socket)")
            }
            #expect(unreachable?.code == .migrationFailed)
            #expect(unreachable?.message.hasPrefix("cannot reach the destination:") == true)
            // The test driver cannot migrate at all: libvirt says so.
            let other = try writeTestHost(dir, name: "other.xml", preexisting: nil)
            let unsupported = await #expect(throws: LibvirtError.self) { try await c.migrate("atlas-1", to: other) }
            #expect(unsupported?.code == .migrationFailed)
            #expect(unsupported?.message.contains("not supported") == true)
            let missing = await #expect(throws: LibvirtError.self) { try await c.migrate("nope", to: other) }
            #expect(missing?.code == .domainNotFound)
            let after = try await c.domains()
            #expect(after.first { $0.name == "atlas-1" }?.state == .running)
            await c.close()
        }
    }
}
