import Testing

@testable import VEMSlurm

/// `slurm.down`'s Slurm commands, a lost or preempted VM's node marked down: one argv each, checked like the
/// drain's.
@Suite struct DownNodeCommandTests {
    @Test func downIsAnUpdateToStateDownWithTheReasonAsOneWord() throws {
        #expect(
            try SlurmCommand.downNode("atlas-vm-3", reason: "vem: atlas-vm-3 lost").arguments == [
                "update", "NodeName=atlas-vm-3", "State=DOWN", "Reason=vem: atlas-vm-3 lost",
            ])
        #expect(try SlurmCommand.downNode("n1", reason: "a b").program == .scontrol)
        #expect(throws: SlurmError.self) { try SlurmCommand.downNode("n1 State=IDLE", reason: "x") }
        #expect(throws: SlurmError.self) { try SlurmCommand.downNode("n1", reason: "x\nState=IDLE") }
        #expect(SlurmNodeCommandPlugin.Action.allCases.contains(.down))
    }

    @Test func theDriverDrainsTheNodeBeforeItMarksItDown() async throws {
        // A down alone does not last while the node's slurmd lives (`ReturnToService=2` puts it back in service at
        // the slurmd's next registration); the `DRAIN` flag set first survives it (SlurmClusterTests).
        let executor = try FakeExecutor.cluster()
        let batch = SlurmBatch(
            groups: try SlurmGroups(fixtureMappings), executor: executor, addressOf: { _ in "10.77.9.2" },
            now: { fixtureNow })
        try await batch.downNode("b1", reason: "vem: b1 preempted")
        #expect(
            executor.commands.map(\.arguments) == [
                ["update", "NodeName=b1", "State=DRAIN", "Reason=vem: b1 preempted"],
                ["update", "NodeName=b1", "State=DOWN", "Reason=vem: b1 preempted"],
            ])
    }
}
