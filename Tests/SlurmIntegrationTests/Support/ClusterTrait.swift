import Testing
import VEMBatch
import VEMTestSupport

/// The suite's private Slurm cluster (``VEMTestSupport/SlurmTestCluster``): groups `a` and `b`, each a Nodeset
/// partition on its feature; the main scheduler every 2 s (the tests submit and wait; the backfill runs every
/// second); node namespaces on 10.79.N.0/24 (the end-to-end suite, in the same test process, uses 10.78).
enum SuiteCluster {
    @TaskLocal static var current: SlurmTestCluster?

    /// The groups of the test cluster.
    static let mappings = [
        GroupMapping(group: "a", partition: "dynA", feature: "vemA"),
        GroupMapping(group: "b", partition: "dynB", feature: "vemB"),
    ]

    /// The cluster's settings.
    static let settings = SlurmTestClusterSettings(
        clusterName: "vemtest", groups: mappings, schedulerInterval: 2, backfillInterval: 1)

    /// Sweeps the namespaces dead test processes left, then starts the cluster in a scratch directory of its own.
    static func start() async throws -> SlurmTestCluster {
        let networks = NetworkAllocator(.slurmSuite)
        await networks.sweepStale()
        return try await SlurmTestCluster.start(settings, networks: networks)
    }
}

/// Starts one private Slurm cluster for a suite, hands it to its tests through ``SuiteCluster/current``, and
/// stops it afterwards, also when a test fails (then keeping its files for the logs).
struct SlurmClusterTrait: SuiteTrait, TestScoping {
    var isRecursive: Bool { false }

    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        let start = ContinuousClock.now
        let cluster = try await SuiteCluster.start()
        print("slurm test cluster up in \(ContinuousClock.now - start) at \(cluster.dir)")
        do {
            try await SuiteCluster.$current.withValue(cluster) { try await function() }
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
    try #require(SuiteCluster.current, "the suite must carry the .slurmCluster trait")
}
