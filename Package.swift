// swift-tools-version: 6.1
import PackageDescription

// Layout (dependencies point down only; see docs/ARCHITECTURE.md):
//   vem (executable) -> VEMHub (SwiftNIO) -> VEMBus -> VEMProtocol -> VEMCore
//                    -> VEMConfig, VEMRules -> VEMCore
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
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        .target(name: "VEMCore"),
        .target(name: "VEMConfig", dependencies: ["VEMCore"]),
        .target(name: "VEMRules", dependencies: ["VEMCore"]),
        .target(name: "VEMProtocol", dependencies: ["VEMCore"]),
        .target(
            name: "VEMBus",
            dependencies: ["VEMProtocol", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "VEMHub",
            dependencies: [
                "VEMBus", "VEMProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "vem",
            dependencies: [
                "VEMCore", "VEMConfig", "VEMRules", "VEMProtocol", "VEMBus", "VEMHub",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
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
        .testTarget(
            name: "VEMProtocolTests",
            dependencies: ["VEMProtocol", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
        .testTarget(
            name: "VEMBusTests",
            dependencies: [
                "VEMBus", "VEMHub", "VEMProtocol", "vem",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "CLITests", dependencies: ["VEMCore", "vem"]),
    ],
    swiftLanguageModes: [.v6]
)
