import Testing

@testable import VEMSlurm

/// `slurm.down`'s Slurm command, a lost VM's node marked down: one argv, checked like the drain's.
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
}
