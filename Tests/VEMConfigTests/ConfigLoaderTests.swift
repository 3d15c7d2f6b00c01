import Testing
import VEMConfig
import VEMCore

@Suite struct ConfigLoaderTests {
    @Test func defaultsAreDocumentedValues() throws {
        let result = load("[p]\ncommand = ram\n[t]\nexpr = { x }\ncmd = { y }\nticks = 10\n[group:g]\nshare = 10\n"
            + "[command:c]\nplugin = drain\n[manager]\n[client]\n")
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        let config = try #require(result.configuration)
        let p = try #require(config.property(named: "p"))
        #expect(p.ticks == 60 && p.returnType == .str && p.parameters == "")
        let t = try #require(config.trigger(named: "t"))
        #expect(t.onUpdateCheck == false && t.stepBudget == nil)
        let g = try #require(config.group(named: "g"))
        #expect(g.template == "g" && g.vmMemoryMiB == 2048 && g.vmVCPUs == 1 && g.minVMs == 0 && g.maxVMs == nil)
        let c = try #require(config.command(named: "c"))
        #expect(c.timeout == .seconds(30) && c.program == nil && c.args.isEmpty)
        var expectedManager = ManagerSettings()
        expectedManager.location = SourceLocation(file: "t.ini", line: 11, column: 1)
        #expect(config.manager == expectedManager)
        #expect(config.manager?.listen == HostPort(host: "127.0.0.1", port: 7400))
        #expect(config.client?.role == .dom0)
        #expect(config.client?.allow == [])
    }

    @Test func trustSettingsAreCheckedAtLoad() throws {
        let ok = load(
            "[manager]\ntoken_file = /etc/vem/token\nclient_tokens = /etc/vem/clients\ninsecure = yes\n"
                + "step_budget = 10000000\nmigration_uri = qemu+tls://{host}/system\n")
        let m = try #require(ok.configuration?.manager)
        #expect(m.clientTokens == "/etc/vem/clients" && m.insecure && m.stepBudget == 10_000_000)
        #expect(ManagerSettings().insecure == false && ManagerSettings().clientTokens == nil)
        // The review's probe: a budget of 10^8 steps grew one evaluation to 5.4 GB.
        let budget = load("[manager]\nstep_budget = 100000000\n")
        #expect(budget.configuration == nil)
        #expect(budget.diagnostics.contains { $0.message.contains("step_budget") })
        let trigger = load("[t]\nexpr = { x }\ncmd = { y }\nstep_budget = 100000000\n")
        #expect(trigger.configuration == nil)
        // A migration URI template may not carry libvirt options.
        let query = load("[manager]\nmigration_uri = qemu+ssh://{host}/system?no_verify=1\n")
        #expect(query.configuration == nil)
        #expect(query.diagnostics.contains { $0.message.contains("query string") })
        let client = try #require(
            load("[client]\nmigration_destinations = qemu+unix:///system?socket=/run/a, qemu+ssh://h/system\n")
                .configuration?.client)
        #expect(client.migrationDestinations == ["qemu+unix:///system?socket=/run/a", "qemu+ssh://h/system"])
    }

    @Test func prefixedAndPlainSectionsAreClassified() throws {
        let result = load("[property:p]\ncommand = ram\n[trigger:t]\nexpr = { 1 }\ncmd = { 2 }\nticks = 1\n"
            + "[q]\ncommand = load\n[u]\nexpr = { 1 }\ncmd = { 2 }\non_update_check = yes\n")
        let config = try #require(result.configuration)
        #expect(config.properties.map(\.name) == ["p", "q"])
        #expect(config.triggers.map(\.name) == ["t", "u"])
    }

    @Test func severalFilesMergeInOrder() throws {
        let sources = [
            ConfigSource(name: "props.ini", text: "[ram_free]\ncommand = ram\n"),
            ConfigSource(name: "groups.ini", text: "[group:a]\nshare = 60\n[group:b]\nshare = 40\n"),
            ConfigSource(name: "triggers.ini", text: "[q]\nexpr = { c.ram_free }\ncmd = { log(\"x\") }\nticks = 5\n"),
        ]
        let result = ConfigLoader.load(sources)
        #expect(result.diagnostics.isEmpty)
        let config = try #require(result.configuration)
        #expect(config.properties.count == 1 && config.groups.count == 2 && config.triggers.count == 1)
        #expect(config.triggers[0].expr.origin.file == "triggers.ini")
    }

    @Test func duplicatesAcrossFilesAreErrorsInTheLaterFile() {
        let sources = [
            ConfigSource(name: "b.ini", text: "[group:atlas]\nshare = 40\n"),
            ConfigSource(name: "a.ini", text: "# again\n[group:atlas]\nshare = 50\n"),
        ]
        let text = rendered(sources)
        #expect(text == """
            a.ini:2:1: error: duplicate section [group:atlas]
                [group:atlas]
                ^~~~~~~~~~~~~
            b.ini:1:1: note: [group:atlas] was first defined here
                [group:atlas]
                ^~~~~~~~~~~~~
            """)
        #expect(ConfigLoader.load(sources).configuration == nil)
    }

    @Test func sharesAreSummedAcrossFiles() {
        let result = ConfigLoader.load([
            ConfigSource(name: "1.ini", text: "[group:a]\nshare = 70\n"),
            ConfigSource(name: "2.ini", text: "[group:b]\nshare = 40\n"),
        ])
        #expect(messages(result) == ["group shares add up to 110%, more than 100% (a 70 + b 40)"])
        #expect(result.diagnostics.first?.location.file == "2.ini")
    }

    @Test func aMisspelledKeyInAKnownSectionIsAnErrorWithASuggestion() {
        let result = load("[manager]\nidle_timout = 5m\n")
        #expect(result.configuration == nil)
        #expect(messages(result, .error) == ["unknown key 'idle_timout'; did you mean 'idle_timeout'?"])
    }

    @Test func anAgentsOwnFileNamesGroupsWithoutShares() {
        let agent = load(
            """
            [client]
            name = h1
            role = dom0
            allow = vm.create, vm.destroy, drop
            exec_allow = /bin/true
            [command:drop]
            plugin = exec
            program = /bin/true
            [group:atlas]
            template = el9
            """)
        #expect(agent.diagnostics.isEmpty, "\(agent.diagnostics.map(\.message))")
        #expect(agent.configuration?.groups.first?.share == 0)
        // A site's groups still need one.
        let site = load("[manager]\n[group:atlas]\ntemplate = el9\n")
        #expect(site.configuration == nil)
    }

    @Test func configurationIsNilIffThereIsAnError() {
        let warningOnly = load("[t]\nexpr = { true }\ncmd = { log(\"x\") }\n")
        #expect(warningOnly.configuration != nil)
        #expect(messages(warningOnly, .warning) == [
            "trigger [t] never fires: set 'ticks' (seconds) or 'on_update_check = yes'"
        ])
        let broken = load("[p]\ncommand = ram\nticks = soon\n")
        #expect(broken.configuration == nil)
        #expect(broken.hasErrors)
    }

    @Test func triggerTextIsKeptForTheRuleLanguage() throws {
        let result = load("[t]\nexpr = {\n  len(manager.clients) > 0 }\ncmd = { sender.send_get_property() }\nticks = 1\n")
        let trigger = try #require(result.configuration?.triggers.first)
        #expect(trigger.expr.text == "\n  len(manager.clients) > 0 ")
        // "manager" on line 2 of the text maps back to line 3, column 7 of the file.
        #expect(trigger.expr.location(line: 2, column: 7) == SourceLocation(file: "t.ini", line: 3, column: 7))
    }

    @Test func rendererRegistrationQuotesDecodedLines() {
        let sources = [ConfigSource(name: "x.ini", bytes: [0xEF, 0xBB, 0xBF] + Array("[p]\r\ncommand = ram\r\nticks = 1x\r\n".utf8))]
        #expect(rendered(sources) == """
            x.ini:3:9: error: invalid value '1x' for 'ticks': expected a number of seconds (60) or a duration (30s, 5m, 1h)
                ticks = 1x
                        ^~
            """)
    }

    @Test func crossChecksBetweenClientAndCommands() {
        let result = load("[client]\nallow = restart\n[command:restrat]\nplugin = exec\nprogram = /bin/true\n")
        #expect(messages(result, .warning) == ["'allow' lists 'restart', which no [command:…] section defines; did you mean 'restrat'?"])
        #expect(result.configuration != nil)
    }

    @Test func emptyInputIsAnEmptyConfiguration() {
        let result = ConfigLoader.load([ConfigSource(name: "e.ini", bytes: [])])
        #expect(result.diagnostics.isEmpty)
        #expect(result.configuration == SiteConfiguration())
    }

    @Test func configurationIsCodable() throws {
        let result = load("[p]\ncommand = ram\n[t]\nexpr = { 1 }\ncmd = { 2 }\nticks = 3\n[manager]\n")
        let config = try #require(result.configuration)
        let data = try JSONEncoder().encode(config)
        #expect(try JSONDecoder().decode(SiteConfiguration.self, from: data) == config)
    }
}

import Foundation
