import Testing

@testable import VEMSlurm

@Suite struct CommandTests {
    let node = DynamicNode(name: "vm-b1", address: "10.77.1.2", feature: "groupB", cpus: 2, memoryMB: 1000)

    @Test func createNodeAlwaysHasAnAddressAndFutureState() throws {
        let c = try SlurmCommand.createNode(node)
        #expect(c.program == .scontrol)
        #expect(
            c.arguments == [
                "create", "NodeName=vm-b1", "NodeAddr=10.77.1.2", "NodeHostname=vm-b1", "CPUs=2", "RealMemory=1000",
                "Feature=groupB", "State=FUTURE",
            ])
        var cloud = node
        cloud.state = .cloud
        cloud.hostname = "vm-b1.example.org"
        #expect(try SlurmCommand.createNode(cloud).arguments.suffix(1) == ["State=CLOUD"])
        #expect(try SlurmCommand.createNode(cloud).arguments.contains("NodeHostname=vm-b1.example.org"))
    }

    @Test func dynamicSlurmdMatchesTheCreatedNode() throws {
        #expect(
            try SlurmCommand.dynamicSlurmd(node).arguments == [
                "-D", "-Z", "-N", "vm-b1", "--conf", "CPUs=2 RealMemory=1000 Feature=groupB",
            ])
    }

    @Test func nodeUpdates() throws {
        #expect(
            try SlurmCommand.drainNode("vm-b1", reason: "vem: surplus").arguments == [
                "update", "NodeName=vm-b1", "State=DRAIN", "Reason=vem: surplus",
            ])
        #expect(try SlurmCommand.resumeNode("vm-b1").arguments == ["update", "NodeName=vm-b1", "State=RESUME"])
        #expect(try SlurmCommand.deleteNode("vm-b1").arguments == ["delete", "NodeName=vm-b1"])
        #expect(try SlurmCommand.showNode("vm-b1").arguments == ["-o", "--future", "show", "node", "vm-b1"])
        #expect(SlurmCommand.queue.arguments == ["--json", "--all"])
        #expect(
            try SlurmCommand.setNodeAddress("vm-b1", to: "10.77.1.2").arguments == [
                "update", "NodeName=vm-b1", "NodeAddr=10.77.1.2",
            ])
        #expect(throws: SlurmError.self) { try SlurmCommand.setNodeAddress("vm-b1", to: "10.77.1.2 State=DOWN") }
        #expect(throws: SlurmError.self) { try SlurmCommand.setNodeAddress("vm b1", to: "10.77.1.2") }
    }

    @Test(arguments: [
        "", "a b", "x;rm -rf /", "n=1", "a[1-2]", "a,b", "-n", "$(id)", "ünï", "n\nState=DOWN",
        String(repeating: "a", count: 64),
    ])
    func badNodeNamesAreRejected(name: String) {
        let error = #expect(throws: SlurmError.self) { try SlurmCommand.deleteNode(name) }
        #expect(error?.code == .invalidArgument)
        #expect(throws: SlurmError.self) { try SlurmCommand.drainNode(name, reason: "x") }
        #expect(throws: SlurmError.self) { try SlurmCommand.resumeNode(name) }
    }

    @Test(arguments: ["", "   ", "a\nState=RESUME", "say \"hi\"", String(repeating: "r", count: 201)])
    func badReasonsAreRejected(reason: String) {
        #expect(throws: SlurmError.self) { try SlurmCommand.drainNode("n1", reason: reason) }
    }

    @Test func badSizesAddressesAndFeaturesAreRejected() {
        var n = node
        n.cpus = 0
        #expect(throws: SlurmError.self) { try SlurmCommand.createNode(n) }
        n = node
        n.memoryMB = 0
        #expect(throws: SlurmError.self) { try SlurmCommand.createNode(n) }
        for address in ["", "10.0.0.1 State=DOWN", "a,b", "-x", "[::1]"] {
            n = node
            n.address = address
            #expect(throws: SlurmError.self, "address \(address)") { try SlurmCommand.createNode(n) }
        }
        for feature in ["", "a&b", "a b", "x=y"] {
            n = node
            n.feature = feature
            #expect(throws: SlurmError.self, "feature \(feature)") { try SlurmCommand.createNode(n) }
        }
        n = node
        n.address = "fe80::1"
        #expect(throws: Never.self) { try SlurmCommand.createNode(n) }
        n.address = "vm-b1.example.org"
        #expect(throws: Never.self) { try SlurmCommand.createNode(n) }
    }

    @Test func descriptionQuotesWordsWithSpaces() throws {
        #expect(
            try SlurmCommand.drainNode("n1", reason: "a b").description
                == "scontrol update NodeName=n1 State=DRAIN 'Reason=a b'")
    }
}
