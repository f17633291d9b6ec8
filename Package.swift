// swift-tools-version: 6.2
import PackageDescription

/// Settings every snapctl target shares: Swift 6 language mode with strict concurrency.
let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    // A release binary carries the Swift runtime and Foundation (see the snapctl target below); the
    // modules say so in their link entries, which name the static libraries Foundation needs.
    .unsafeFlags(["-static-stdlib"], .when(configuration: .release)),
]

let subprocess: Target.Dependency = .product(name: "Subprocess", package: "swift-subprocess")
let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")
let logging: Target.Dependency = .product(name: "Logging", package: "swift-log")
let systemPackage: Target.Dependency = .product(name: "SystemPackage", package: "swift-system")
let crypto: Target.Dependency = .product(name: "Crypto", package: "swift-crypto")

let package = Package(
    name: "snapctl",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "snapctl", targets: ["snapctl"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.4.0"),
    ],
    targets: [
        // Pure layers: no I/O.
        .target(name: "TextFormat", swiftSettings: strict),
        .target(name: "GDBRemote", swiftSettings: strict),
        .target(name: "Massif", dependencies: ["TextFormat"], swiftSettings: strict),
        .target(name: "Plan", dependencies: ["Yams"], swiftSettings: strict),
        .target(name: "RunRecord", dependencies: ["Massif", crypto], swiftSettings: strict),
        .target(name: "Report", dependencies: ["RunRecord", "Massif", "TextFormat"], swiftSettings: strict),

        // System libraries.
        .systemLibrary(name: "CMariaDB", pkgConfig: "libmariadb", providers: [.apt(["libmariadb-dev"])]),
        .systemLibrary(name: "CReadline", providers: [.apt(["libreadline-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

        .target(name: "CSupport"),

        // Effects.
        .target(
            name: "Valgrind",
            dependencies: ["GDBRemote", "Massif", "TextFormat", "CSupport", subprocess, systemPackage, logging],
            swiftSettings: strict
        ),
        .target(
            name: "MySQLServer",
            dependencies: ["CMariaDB", "CZlib", "TextFormat", "Valgrind", subprocess],
            swiftSettings: strict
        ),

        .target(
            name: "Session",
            dependencies: [
                "Plan", "RunRecord", "Report", "Massif", "Valgrind", "MySQLServer", crypto, subprocess, systemPackage,
            ],
            swiftSettings: strict
        ),

        .target(
            name: "Bundle",
            dependencies: ["CZlib", "Plan", "RunRecord", "Report", "Massif", "Session", "TextFormat", crypto],
            swiftSettings: strict
        ),
        .target(
            name: "REPL",
            dependencies: [
                "Session", "CReadline", "Plan", "RunRecord", "Report", "Massif", "MySQLServer", "Valgrind",
                "TextFormat",
            ],
            swiftSettings: strict
        ),

        // Edge.
        .target(
            name: "SnapctlCLI",
            dependencies: [
                "Massif", "Plan", "RunRecord", "Report", "Session", "REPL", "Valgrind", "MySQLServer",
                "Bundle", "TextFormat", argumentParser,
            ],
            swiftSettings: strict
        ),
        // Loading the Swift runtime, Foundation and ICU as some twenty shared libraries took about 12 ms of
        // every start of a release binary (27-29 ms against 15-17 ms for `snapctl --version`).
        .executableTarget(
            name: "snapctl",
            dependencies: ["SnapctlCLI"],
            swiftSettings: strict,
            linkerSettings: [.unsafeFlags(["-static-stdlib"], .when(configuration: .release))]
        ),

        // Tests. TestSupport is what every test target shares: scratch directories, process and FIFO finders,
        // running the built binary, the real massif and xtree fixtures, checks on a finished run.
        .target(
            name: "TestSupport",
            dependencies: ["RunRecord", crypto],
            path: "Tests/TestSupport",
            resources: [.copy("Fixtures")],
            swiftSettings: strict
        ),
        .testTarget(name: "TextFormatTests", dependencies: ["TextFormat"], swiftSettings: strict),
        .testTarget(name: "GDBRemoteTests", dependencies: ["GDBRemote"], swiftSettings: strict),
        .testTarget(name: "MassifTests", dependencies: ["Massif", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "PlanTests", dependencies: ["Plan"], swiftSettings: strict),
        .testTarget(
            name: "ValgrindTests",
            dependencies: ["Valgrind", "GDBRemote", "Massif", "TestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "MySQLServerTests",
            dependencies: ["MySQLServer", "Valgrind", "TestSupport"],
            swiftSettings: strict
        ),
        .testTarget(name: "SnapctlCLITests", dependencies: ["SnapctlCLI", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "RunRecordTests", dependencies: ["RunRecord", crypto], swiftSettings: strict),
        .testTarget(name: "ReportTests", dependencies: ["Report", "RunRecord", "Massif"], swiftSettings: strict),
        .testTarget(
            name: "BundleTests",
            dependencies: ["Bundle", "Plan", "RunRecord", "TestSupport", crypto],
            swiftSettings: strict
        ),
        .testTarget(
            name: "REPLTests",
            dependencies: ["REPL", "Plan", "RunRecord", "Massif", "MySQLServer", "Report", "TestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "EngineTests",
            dependencies: [
                "Session", "Plan", "RunRecord", "Report", "Massif", "MySQLServer", "Valgrind", "GDBRemote",
                "TestSupport",
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "SessionTests",
            dependencies: [
                "Session", "SnapctlCLI", "Plan", "RunRecord", "Report", "Massif", "MySQLServer", "Valgrind", "CZlib",
                "TextFormat", "TestSupport", argumentParser,
            ],
            swiftSettings: strict
        ),
    ]
)
