import Foundation
import Testing
import VEMBatch

@testable import VEMSlurm

/// A fixture captured from a real `squeue --json` / `sinfo --json` run (Slurm 22.05.8, see README).
func fixture(_ name: String) throws -> Data {
    let url = try #require(Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures"))
    return try Data(contentsOf: url)
}

/// Records the commands it is given and answers them with a handler.
final class FakeExecutor: SlurmExecutor, @unchecked Sendable {
    private let lock = NSLock()
    private var log: [SlurmCommand] = []
    private let handler: @Sendable (SlurmCommand) throws -> SlurmOutput

    init(_ handler: @escaping @Sendable (SlurmCommand) throws -> SlurmOutput) { self.handler = handler }

    var commands: [SlurmCommand] { lock.withLock { log } }

    func run(_ command: SlurmCommand, timeout: Duration) async throws -> SlurmOutput {
        lock.withLock { log.append(command) }
        return try handler(command)
    }

    /// Answers `squeue`/`sinfo` from two fixtures and `scontrol` with `scontrol`.
    static func cluster(
        squeue: String = "squeue-two-groups", sinfo: String = "sinfo-two-groups",
        scontrol: @escaping @Sendable ([String]) -> SlurmOutput = { _ in SlurmOutput(status: 0) }
    ) throws -> FakeExecutor {
        let q = try fixture(squeue)
        let i = try fixture(sinfo)
        return FakeExecutor { command in
            switch command.program {
            case .squeue: return SlurmOutput(status: 0, standardOutput: q)
            case .sinfo: return SlurmOutput(status: 0, standardOutput: i)
            default: return scontrol(command.arguments)
            }
        }
    }
}

/// The mappings of the fixtures' cluster: groupA and groupB by partition, each with its feature.
let fixtureMappings = [
    GroupMapping(group: "a", partition: "dynA", feature: nil),
    GroupMapping(group: "b", partition: "dynB", feature: nil),
]

/// Unix time 60 s after the fixtures' first submissions.
let fixtureNow = 1_795_941_834

func notFound(_ name: String) -> SlurmOutput {
    SlurmOutput(status: 1, standardError: "Node \(name) not found\n")
}
