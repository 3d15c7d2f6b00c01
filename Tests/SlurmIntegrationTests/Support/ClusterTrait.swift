import Testing

/// Starts one private Slurm cluster for a suite, hands it to its tests through
/// ``SlurmTestCluster/current``, and stops it afterwards, also when a test fails.
struct SlurmClusterTrait: SuiteTrait, TestScoping {
    var isRecursive: Bool { false }

    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        let start = ContinuousClock.now
        let cluster = try await SlurmTestCluster.start()
        print("slurm test cluster up in \(ContinuousClock.now - start) at \(cluster.dir)")
        do {
            try await SlurmTestCluster.$current.withValue(cluster) { try await function() }
        } catch {
            await cluster.shutdown(keepFiles: true)
            throw error
        }
        await cluster.shutdown()
    }
}

extension Trait where Self == SlurmClusterTrait {
    /// A private Slurm cluster shared by the suite's tests.
    static var slurmCluster: Self { Self() }
}

/// The suite's cluster.
func currentCluster() throws -> SlurmTestCluster {
    try #require(SlurmTestCluster.current, "the suite must carry the .slurmCluster trait")
}
