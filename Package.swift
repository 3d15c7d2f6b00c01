// swift-tools-version: 6.1
import PackageDescription

// Layout (dependencies point down only; see docs/ARCHITECTURE.md):
//   vem (executable) -> VEMConfig, VEMRules, VEMProtocol -> VEMCore
// Pure modules import no NIOPosix, no C library and run no process.
let package = Package(
    name: "vem",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "vem", targets: ["vem"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    ],
    targets: [
        .target(name: "VEMCore"),
        .target(name: "VEMConfig", dependencies: ["VEMCore"]),
        .target(name: "VEMRules", dependencies: ["VEMCore"]),
        .target(name: "VEMProtocol", dependencies: ["VEMCore"]),
        .target(name: "VEMSite", dependencies: ["VEMCore", "VEMConfig", "VEMRules"]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "VEMBatch", dependencies: ["VEMCore", "CZlib"]),
        .target(name: "VEMAgent", dependencies: ["VEMCore"]),
        .target(name: "VEMSlurm", dependencies: ["VEMCore", "VEMBatch", "VEMAgent"]),
        .target(name: "VEMPolicy", dependencies: ["VEMCore"]),
        .target(name: "VEMPool", dependencies: ["VEMPolicy", "VEMBatch", "VEMConfig"]),
        .target(name: "VEMReplayAgent", dependencies: ["VEMAgent", "VEMBatch"]),
        .executableTarget(
            name: "vem",
            dependencies: [
                "VEMCore", "VEMConfig", "VEMRules", "VEMProtocol", "VEMBatch", "VEMSite",
                "VEMPolicy", "VEMPool",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "VEMCoreTests", dependencies: ["VEMCore"]),
        .testTarget(
            name: "VEMConfigTests",
            dependencies: ["VEMConfig"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(name: "VEMRulesTests", dependencies: ["VEMRules"]),
        .testTarget(name: "VEMSiteTests", dependencies: ["VEMSite", "VEMConfig", "VEMCore"]),
        .testTarget(
            name: "VEMProtocolTests",
            dependencies: ["VEMProtocol", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
        .testTarget(
            name: "VEMAgentTests",
            dependencies: ["VEMAgent"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(name: "CLITests", dependencies: ["VEMCore", "vem"]),
        .testTarget(
            name: "VEMBatchTests",
            dependencies: ["VEMBatch", "VEMCore"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "VEMSlurmTests",
            dependencies: ["VEMSlurm", "VEMBatch", "VEMAgent"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(name: "SlurmIntegrationTests", dependencies: ["VEMSlurm", "VEMBatch", "VEMAgent"]),
        .testTarget(
            name: "VEMPolicyTests",
            dependencies: ["VEMPolicy", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
        .testTarget(name: "VEMPoolTests", dependencies: ["VEMPool", "VEMPolicy", "VEMBatch", "VEMConfig"]),
        .testTarget(name: "VEMReplayAgentTests", dependencies: ["VEMReplayAgent", "VEMAgent", "VEMBatch"]),
    ],
    swiftLanguageModes: [.v6]
)
