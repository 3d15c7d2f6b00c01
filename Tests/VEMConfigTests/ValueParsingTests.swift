import Testing
import VEMConfig
import VEMCore

@Suite struct ValueParsingTests {
    func manager(_ body: String) -> LoadResult { load("[manager]\n" + body + "\n") }

    @Test func durationsAcceptSecondsAndUnits() throws {
        let cases: [(String, Duration)] = [
            ("5", .seconds(5)), ("500ms", .milliseconds(500)), ("30s", .seconds(30)), ("2m", .seconds(120)),
            ("1h", .seconds(3600)), ("1m30s", .seconds(90)), ("1D", .seconds(86_400)),
        ]
        for (text, expected) in cases {
            let result = manager("heartbeat_interval = \(text)")
            #expect(result.diagnostics.isEmpty, "\(text)")
            #expect(result.configuration?.manager?.heartbeatInterval == expected, "\(text)")
        }
        for bad in ["", "5 minutes", "-1", "1.5s", "s", "5x", "99999999999999999999999h", "1h-"] {
            #expect(manager("heartbeat_interval = \(bad)").hasErrors, "\(bad)")
        }
    }

    @Test func booleansAcceptTheUsualSpellings() {
        for (text, value) in [("yes", true), ("No", false), ("TRUE", true), ("off", false), ("on", true), ("0", false), ("1", true)] {
            let result = load("[t]\nexpr = { x }\ncmd = { y }\non_update_check = \(text)\n")
            #expect(result.configuration?.triggers.first?.onUpdateCheck == value, "\(text)")
        }
    }

    @Test func addressesParse() {
        #expect(HostPort(parsing: "127.0.0.1:7400") == HostPort(host: "127.0.0.1", port: 7400))
        #expect(HostPort(parsing: "[::1]:7400") == HostPort(host: "::1", port: 7400))
        #expect(HostPort(parsing: "[::1]:7400")?.description == "[::1]:7400")
        #expect(HostPort(parsing: "mgr.example.org:1")?.host == "mgr.example.org")
        for bad in ["localhost", ":7400", "h:", "h:65536", "::1:7400", "[::1]7400", "a b:1", "h:-1", "h:x"] {
            #expect(HostPort(parsing: bad) == nil, "\(bad)")
        }
    }

    @Test func commandArgsSplitLikeAShell() throws {
        let result = load(
            "[command:c]\nplugin = exec\nprogram = /bin/echo\nargs = a 'b c' \"d \\\"e\\\"\" f\\ g\n")
        #expect(result.diagnostics.isEmpty)
        #expect(result.configuration?.commands.first?.args == ["a", "b c", "d \"e\"", "f g"])
    }

    @Test func listsSplitOnCommasAndWhiteSpace() {
        let result = load("[client]\nallow = a, b\n  c\nexec_allow = /bin/a,/bin/b\n")
        #expect(result.configuration?.client?.allow == ["a", "b", "c"])
        #expect(result.configuration?.client?.execAllow == ["/bin/a", "/bin/b"])
    }

    @Test func enumValuesAreCaseInsensitive() {
        let result = load("[client]\nrole = DOMU\ngroup = atlas\n[manager]\nplacement = Spread\nbus = NATS\nsite = pg\n")
        #expect(result.diagnostics.isEmpty)
        #expect(result.configuration?.client?.role == .domU)
        #expect(result.configuration?.manager?.placement == .spread)
        #expect(result.configuration?.manager?.bus == .nats)
    }

    @Test func natsSettingsTakeSeveralServersASiteAndCredentials() throws {
        let result = load(
            "[manager]\nbus = nats\nsite = perugia\nnats_url = nats://10.0.0.1:4222, nats://10.0.0.2:4222\n"
                + "nats_password_file = /etc/vem/manager.pw\nnats_system_password_file = /etc/vem/sys.pw\n"
                + "[client]\nname = h1\nbus = nats\nsite = perugia\nnats_user = host-one\n")
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        let manager = try #require(result.configuration?.manager?.nats)
        #expect(manager.servers == ["nats://10.0.0.1:4222", "nats://10.0.0.2:4222"])
        #expect(manager.site == "perugia")
        #expect(manager.passwordFile == "/etc/vem/manager.pw")
        #expect(manager.systemPasswordFile == "/etc/vem/sys.pw")
        #expect(manager.account == "VEM")
        let client = try #require(result.configuration?.client?.nats)
        #expect(client.user == "host-one")
        #expect(client.servers == ["nats://127.0.0.1:4222"])
        // The Manager-only keys are unknown in [client].
        let wrong = load("[client]\nbus = nats\nsite = s\nnats_account = X\n")
        #expect(wrong.diagnostics.contains { $0.message.contains("unknown key 'nats_account'") })
    }
}
