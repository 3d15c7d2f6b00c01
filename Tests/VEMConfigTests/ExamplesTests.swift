import Testing
import VEMConfig
import VEMCore

@Suite struct ExamplesTests {
    /// The paper's two examples, exactly as printed (§4).
    static let paperProperty = """
        [ram_free]
        command = ram
        parameters = MemFree
        return_type = int
        ticks = 60
        """
    static let paperTrigger = """
        [client_query]
        expr = { len(manager.clients) != 0 }
        cmd = { sender.send_get_property() }
        ticks = 30
        on_update_check = no
        """

    @Test func paperExamplesLoadVerbatim() throws {
        let result = load(Self.paperProperty + "\n\n" + Self.paperTrigger + "\n")
        #expect(result.diagnostics.isEmpty)
        let config = try #require(result.configuration)
        let property = try #require(config.property(named: "ram_free"))
        #expect(property.command == "ram")
        #expect(property.parameters == "MemFree")
        #expect(property.returnType == .int)
        #expect(property.ticks == 60)
        let trigger = try #require(config.trigger(named: "client_query"))
        #expect(trigger.expr.text == " len(manager.clients) != 0 ")
        #expect(trigger.expr.origin == SourceLocation(file: "t.ini", line: 8, column: 9))
        #expect(trigger.cmd.text == " sender.send_get_property() ")
        #expect(trigger.ticks == 30)
        #expect(trigger.onUpdateCheck == false)
    }

    @Test func paperExampleFileHoldsExactlyThePaperText() throws {
        let source = try SourceTree.example("paper.ini")
        let text = String(decoding: source.bytes, as: UTF8.self)
        let meaningful = text.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("#") }
            .joined(separator: "\n")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(meaningful == Self.paperProperty + "\n\n" + Self.paperTrigger)
        let result = ConfigLoader.load([source])
        #expect(result.diagnostics.isEmpty)
        #expect(result.configuration?.properties.count == 1)
        #expect(result.configuration?.triggers.count == 1)
    }

    @Test func siteExampleLoads() throws {
        let result = ConfigLoader.load([try SourceTree.example("site.ini")])
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        let config = try #require(result.configuration)
        #expect(config.groups.map(\.name) == ["atlas", "cms", "lhcb"])
        #expect(config.groups.map(\.share) == [40, 35, 25])
        #expect(config.totalShare == 100)
        #expect(config.manager?.placement == .pack)
        #expect(config.manager?.httpListen == HostPort(host: "127.0.0.1", port: 7401))
        #expect(config.properties.count == 3)
        // Its own trigger; vem.poll and vem.rebalance are the Manager's defaults (added by VEMSite).
        #expect(config.triggers.map(\.name) == ["low_memory"])
        #expect(config.manager?.defaultTriggers == true)
        #expect(config.manager?.idleTimeout == .seconds(300))
        #expect(config.manager?.minLifetime == .seconds(600))
        #expect(config.manager?.maxBootingPerHost == 2)
        #expect(config.manager?.migrationURI == "qemu+ssh://{host}/system")
        #expect(config.manager?.pollInterval == 30)
        #expect(config.manager?.rebalanceInterval == 60)
        #expect(config.commands.map(\.name) == ["drop-caches", "restart-slurmd"])
        #expect(config.command(named: "drop-caches")?.args == ["-w", "vm.drop_caches=1"])
        #expect(config.command(named: "drop-caches")?.timeout == .seconds(10))
        #expect(config.property(named: "pending_jobs")?.ticks == 60)
    }

    @Test func agentExampleLoads() throws {
        let result = ConfigLoader.load([try SourceTree.example("agent.ini")])
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        let client = try #require(result.configuration?.client)
        #expect(client.name == "host07")
        #expect(client.role == .dom0)
        #expect(client.allow == ["drop-caches", "restart-slurmd"])
        #expect(client.execAllow == ["/usr/sbin/sysctl", "/usr/bin/systemctl"])
        #expect(client.tokenFile == "/etc/vem/token")
    }

    @Test func examplesMergeWhenPropertiesAreNotRepeated() throws {
        // paper.ini and site.ini both define [ram_free]: loading them together is a duplicate.
        let result = ConfigLoader.load([try SourceTree.example("paper.ini"), try SourceTree.example("site.ini")])
        #expect(result.configuration == nil)
        let duplicate = try #require(result.diagnostics.first { $0.severity == .error })
        #expect(duplicate.location.file == "site.ini")
        #expect(duplicate.message == "duplicate section [ram_free]")
    }
}
