// swift-tools-version: 6.1
import PackageDescription

// Layout (dependencies point down only; see docs/ARCHITECTURE.md):
//   vem (executable) -> VEMManager (ManagerService) -> VEMHub, VEMNATS, VEMSite, VEMPool
//                    -> VEMClient (a host's: NATS, hypervisor) -> VEMClientCore (ClientService) -> VEMHub (SwiftNIO)
//                       -> VEMBus -> VEMProtocol -> VEMCore
//   vem-agent (a guest's executable) -> VEMClientCore (no libvirt, no libnats)
//                       VEMHub, VEMManager, VEMClientCore -> VEMTrust (site CA, TLS contexts) -> VEMCore
//                       VEMClient -> VEMNATS, VEMHypervisorPlugins -> VEMLibvirt (+ CLibvirt)
//                       VEMClientCore -> VEMAgent, VEMSlurm
//                    -> VEMBench, VEMTestKit (benchmarks and test scaffolding, out of the production modules)
//                    -> VEMSite -> VEMConfig, VEMRules -> VEMCore
//                    -> VEMSlurm -> VEMAgent, VEMBatch (+ CZlib) -> VEMCore
//                    -> VEMPolicy -> VEMCore
// Pure modules import no NIOPosix, no C library and run no process (see ARCHITECTURE.md for the exceptions).
let nio: [Target.Dependency] = [
    .product(name: "NIOCore", package: "swift-nio"),
    .product(name: "NIOPosix", package: "swift-nio"),
]
let logging: Target.Dependency = .product(name: "Logging", package: "swift-log")
let propertyBased: Target.Dependency = .product(name: "PropertyBased", package: "swift-property-based")

let package = Package(
    name: "vem",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "vem", targets: ["vem"]),
        // A guest's agent: the Client core over the hub, without libvirt, libnats, GRDB or Hummingbird, with the
        // Swift runtime and FoundationEssentials linked in (issue 21: a small resident set on every guest).
        .executable(name: "vem-agent", targets: ["vem-agent"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        // /metrics: swift-metrics' API on a per-Manager Prometheus registry (swift-prometheus: one target, needs
        // only swift-metrics' CoreMetrics and swift-atomics, which NIO already brings).
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // The site CA and mutual TLS (issue 17). Each of swift-nio-ssl and swift-crypto compiles its own BoringSSL.
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
    ],
    targets: [
        // Debug products link with lld instead of the toolchain's gold: the 210 MB test bundle, the last and serial
        // step of every build, linked in 18 s instead of 73 s (2.0 instead of 4.0 CPU-s; load 8-12, README,
        // Development). Every product links VEMCore, so its setting reaches them all; release links are unchanged
        // (vem-agent asks for lld itself).
        .target(
            name: "VEMCore", linkerSettings: [.unsafeFlags(["-use-ld=lld"], .when(configuration: .debug))]),
        .target(name: "VEMConfig", dependencies: ["VEMCore"]),
        .target(name: "VEMRules", dependencies: ["VEMCore"]),
        .target(name: "VEMProtocol", dependencies: ["VEMCore"]),
        .target(name: "VEMSite", dependencies: ["VEMCore", "VEMConfig", "VEMRules"]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "VEMBatch", dependencies: ["VEMCore", "CZlib"]),
        .target(name: "VEMAgent", dependencies: ["VEMCore"]),
        .target(name: "VEMSlurm", dependencies: ["VEMCore", "VEMBatch", "VEMAgent"]),
        .target(name: "VEMPolicy", dependencies: ["VEMCore"]),
        .target(name: "VEMPool", dependencies: ["VEMPolicy", "VEMBatch", "VEMConfig", "VEMCore"]),
        .target(name: "VEMReplayAgent", dependencies: ["VEMAgent", "VEMBatch"]),
        .target(
            name: "VEMDemo",
            dependencies: [
                "VEMPool", "VEMReplayAgent", "VEMClient", "VEMClientCore", "VEMHub", "VEMBus", "VEMAgent", "VEMConfig",
                "VEMProtocol", "VEMBatch", "VEMPolicy", "VEMLibvirt", "VEMHypervisorPlugins", "VEMManager", "VEMSite",
                "VEMCore", "VEMTrust", logging, .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
        .target(name: "VEMBus", dependencies: ["VEMProtocol", logging]),
        // The site CA (certificates with the role and group encoded) and the TLS contexts built from them.
        .target(
            name: "VEMTrust",
            dependencies: [
                "VEMCore",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]),
        .target(
            name: "VEMHub",
            dependencies: [
                "VEMBus", "VEMProtocol", "VEMTrust", logging, .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
            ] + nio),
        .systemLibrary(name: "CNats", path: "Sources/CNats", pkgConfig: "libnats", providers: [.apt(["libnats-dev"])]),
        .target(name: "VEMNATS", dependencies: ["VEMBus", "VEMProtocol", "CNats", logging]),
        // Test scaffolding (the in-memory bus, the nats-server launcher, the test Clients): never in a production
        // module; linked by the tests and by `vem`'s hidden test-client commands.
        .target(name: "VEMTestKit", dependencies: ["VEMBus", "VEMHub", "VEMNATS", "VEMProtocol", logging]),
        // Benchmarks (`vem bench …`): load generators, simulated Clients, the echo baseline, the drivers.
        .target(
            name: "VEMBench",
            dependencies: [
                "VEMBus", "VEMHub", "VEMNATS", "VEMProtocol", "VEMRules", "VEMCore", "VEMTestKit", "VEMManager",
                "VEMSite", "VEMBatch", "VEMConfig", "VEMTrust", logging,
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ] + nio),
        // The Client's core (a guest's agent, `vem-agent`): properties, commands, the hub; no libvirt, no libnats.
        .target(
            name: "VEMClientCore",
            dependencies: [
                "VEMCore", "VEMConfig", "VEMAgent", "VEMProtocol", "VEMBus", "VEMHub", "VEMSlurm", "VEMBatch",
                "VEMTrust", logging, .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]),
        // A host's Client (`vem agent`): the core, plus NATS and the hypervisor (libvirt).
        .target(
            name: "VEMClient",
            dependencies: [
                "VEMClientCore", "VEMCore", "VEMConfig", "VEMAgent", "VEMProtocol", "VEMBus", "VEMNATS",
                "VEMHypervisorPlugins", "VEMLibvirt", logging,
            ]),
        .systemLibrary(
            name: "CLibvirt", path: "Sources/CLibvirt", pkgConfig: "libvirt", providers: [.apt(["libvirt-dev"])]),
        .target(name: "VEMLibvirt", dependencies: ["VEMCore", "CLibvirt"]),
        .target(name: "VEMHypervisorPlugins", dependencies: ["VEMLibvirt", "VEMAgent", "VEMCore"]),
        .target(
            name: "VEMManager",
            dependencies: [
                "VEMCore", "VEMConfig", "VEMRules", "VEMSite", "VEMProtocol", "VEMBus", "VEMBatch", "VEMPolicy",
                "VEMPool", "VEMHub", "VEMNATS", "VEMTrust", logging,
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                // The operator API's client (`vem status`, …): HTTPS with the operator's certificate.
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .executableTarget(
            name: "vem",
            dependencies: [
                "VEMCore", "VEMConfig", "VEMRules", "VEMProtocol", "VEMBatch", "VEMSite", "VEMAgent", "VEMBus",
                "VEMHub", "VEMNATS", "VEMClient", "VEMClientCore", "VEMManager", "VEMPolicy", "VEMPool",
                "VEMReplayAgent", "VEMDemo", "VEMSlurm", "VEMBench", "VEMTestKit", "VEMTrust", logging,
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ] + nio
        ),
        // `vem-agent`: the guest's agent. -static-stdlib links the Swift runtime and FoundationEssentials into it:
        // one image instead of a dozen shared libraries, each with its relocated data and its own resident pages.
        // Every module it links imports FoundationEssentials, never Foundation (whose internationalisation,
        // CoreFoundation and ICU data would come with it): the static archives FoundationEssentials needs are
        // listed here, and lld (which does not care about the archives' order) links them. Packed relative
        // relocations (glibc ≥ 2.36) and no exported symbol table keep its start from reading ~5 MB of tables that
        // would stay resident (README, "An idle agent"). libstdc++ is linked statically too (1 MiB less resident):
        // `static-libstdc++/libstdc++.so` is a linker script that makes every `-lstdc++` read `libstdc++.a`.
        .executableTarget(
            name: "vem-agent",
            dependencies: [
                "VEMClientCore", logging, .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            exclude: ["static-libstdc++"],
            linkerSettings: [
                .unsafeFlags([
                    "-L", Context.packageDirectory + "/Sources/vem-agent/static-libstdc++", "-static-stdlib",
                    "-use-ld=lld", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs",
                    "-Xlinker", "--no-export-dynamic",
                ]),
                .linkedLibrary("_FoundationCShims"), .linkedLibrary("_FoundationCollections"),
                .linkedLibrary("FoundationEssentials"),
            ]
        ),
        .testTarget(name: "VEMCoreTests", dependencies: ["VEMCore"]),
        .testTarget(name: "VEMTrustTests", dependencies: ["VEMTrust", .product(name: "X509", package: "swift-certificates")]),
        .testTarget(name: "VEMConfigTests", dependencies: ["VEMConfig"], resources: [.copy("Fixtures")]),
        .testTarget(name: "VEMRulesTests", dependencies: ["VEMRules"]),
        .testTarget(name: "VEMSiteTests", dependencies: ["VEMSite", "VEMConfig", "VEMCore"]),
        .testTarget(name: "VEMProtocolTests", dependencies: ["VEMProtocol", propertyBased]),
        .testTarget(name: "VEMPolicyTests", dependencies: ["VEMPolicy", propertyBased]),
        .testTarget(name: "VEMAgentTests", dependencies: ["VEMAgent", "VEMCore"], resources: [.copy("Fixtures")]),
        .testTarget(name: "VEMBatchTests", dependencies: ["VEMBatch", "VEMCore"], resources: [.copy("Fixtures")]),
        .testTarget(
            name: "VEMSlurmTests", dependencies: ["VEMSlurm", "VEMBatch", "VEMAgent"], resources: [.copy("Fixtures")]),
        // Test support shared by the suites that start daemons (a test target cannot import another).
        .target(
            name: "VEMTestSupport", dependencies: ["VEMAgent", "VEMSlurm", "VEMBatch"], path: "Tests/VEMTestSupport"),
        .testTarget(
            name: "SlurmIntegrationTests", dependencies: ["VEMSlurm", "VEMBatch", "VEMAgent", "VEMTestSupport"]),
        .testTarget(
            name: "VEMBusTests",
            dependencies: [
                "VEMBus", "VEMHub", "VEMNATS", "VEMProtocol", "VEMTestKit", "VEMBench", "vem", logging,
                // The hub's heartbeat checks on a stepped clock (HubLivenessTests); part of swift-nio, already built.
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ] + nio),
        .testTarget(
            name: "NATSTests",
            dependencies: ["VEMNATS", "VEMBus", "VEMProtocol", "VEMTestKit", "VEMTrust", "vem", logging]),
        .testTarget(
            name: "VEMClientTests",
            dependencies: [
                "VEMClient", "VEMClientCore", "VEMAgent", "VEMBus", "VEMConfig", "VEMProtocol", "VEMHypervisorPlugins",
                "VEMLibvirt",
                "VEMNATS", "VEMTestKit", "VEMCore", "VEMTrust",
            ],
            resources: [.copy("Fixtures")]),
        .testTarget(
            name: "ClientIntegrationTests",
            dependencies: ["VEMClient", "VEMBus", "VEMHub", "VEMProtocol", "VEMTestSupport", "vem", logging]),
        .testTarget(name: "VEMLibvirtTests", dependencies: ["VEMLibvirt", "VEMHypervisorPlugins", "VEMAgent"]),
        .testTarget(
            name: "LibvirtIntegrationTests",
            dependencies: [
                "VEMLibvirt", "VEMHypervisorPlugins", "VEMAgent", "VEMBus", "VEMHub", "VEMProtocol", "VEMTestSupport",
                "VEMManager", "VEMSite", "VEMConfig", "VEMBatch", "VEMPool", "VEMTestKit", "vem",
            ]),
        .testTarget(name: "CLITests", dependencies: ["VEMCore", "VEMTrust", "vem"]),
        .testTarget(
            name: "VEMManagerTests",
            dependencies: [
                "VEMManager", "VEMBus", "VEMProtocol", "VEMSite", "VEMConfig", "VEMRules", "VEMCore", "VEMBatch",
                "VEMTestKit", "VEMClient", "VEMClientCore", "VEMAgent", "VEMPolicy", "VEMTrust", logging,
            ]
        ),
        .testTarget(
            name: "ManagerIntegrationTests",
            dependencies: [
                "VEMCore", "VEMRules", "VEMManager", "VEMNATS", "VEMTestKit", "VEMBench", "VEMHub", "VEMBus", "vem",
                "VEMTrust", logging, .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ] + nio),
        .testTarget(name: "VEMPoolTests", dependencies: ["VEMPool", "VEMPolicy", "VEMBatch", "VEMConfig"]),
        .testTarget(name: "VEMReplayAgentTests", dependencies: ["VEMReplayAgent", "VEMAgent", "VEMBatch"]),
        .testTarget(
            name: "DemoIntegrationTests",
            dependencies: [
                "VEMDemo", "VEMPool", "VEMBatch", "VEMPolicy", "VEMManager", logging,
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "vem", "VEMClient", "VEMClientCore", "VEMHypervisorPlugins", "VEMLibvirt", "VEMSlurm", "VEMBatch",
                "VEMAgent",
                "VEMManager", "VEMTestSupport", "VEMTrust", logging,
            ]),
    ],
    swiftLanguageModes: [.v6]
)
