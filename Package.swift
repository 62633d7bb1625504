// swift-tools-version:6.1
import PackageDescription

// Release builds skip the run-time exclusivity checks in the hot modules (debug
// builds and the tests keep them): they cost about a tenth of import and estimate.
let fast: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

let package = Package(
    name: "Herald",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "herald", targets: ["herald"]),
        .library(name: "HeraldEngine", targets: ["HeraldEngine"]),
        .library(name: "HeraldFuzzing", targets: ["HeraldFuzzing"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // Default traits off: swift-configuration support is not used.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CLibCSV", path: "Sources/CLibCSV", providers: [.apt(["libcsv-dev"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "HeraldCore", swiftSettings: fast),
        .target(name: "HeraldCSV", dependencies: ["CLibCSV", "HeraldCore"], swiftSettings: fast),
        // The journal's contract and its rules as values: no storage, no I/O.
        .target(name: "HeraldJournal", dependencies: ["HeraldCore"], swiftSettings: fast),
        .target(
            name: "HeraldSQLite",
            dependencies: ["CSQLite", "HeraldCore", "HeraldJournal"],
            swiftSettings: fast
        ),
        // The PostgreSQL journal: the same journal protocol, for several senders on several machines.
        .target(
            name: "HeraldPostgres",
            dependencies: [
                "HeraldJournal", "HeraldCore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: fast
        ),
        // A campaign file's YAML, read key by key with errors naming file, line and key.
        .target(
            name: "HeraldSettings",
            dependencies: ["HeraldCore", .product(name: "Yams", package: "Yams")]
        ),
        .target(
            name: "HeraldProviders",
            dependencies: [
                "HeraldCore", "HeraldSettings", "CZlib",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .target(
            name: "HeraldEngine",
            dependencies: [
                "HeraldCore", "HeraldCSV", "HeraldJournal", "HeraldSQLite", "HeraldPostgres", "HeraldProviders", "HeraldSettings",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: fast
        ),
        // Every parser of outside input as a fuzz target (`Fuzz/` runs them under libFuzzer;
        // the tests replay the corpus).
        .target(
            name: "HeraldFuzzing",
            dependencies: ["HeraldCore", "HeraldCSV", "HeraldEngine", "HeraldJournal", "HeraldProviders", "HeraldSQLite"]
        ),
        // Campaign reports: aggregates as values, HTML (mustache + inline SVG), CSV, JSON.
        .target(
            name: "HeraldReport",
            dependencies: ["HeraldJournal", "HeraldCore", .product(name: "Mustache", package: "swift-mustache")]
        ),
        // The receipts server (and later the dashboard): one Hummingbird application.
        .target(
            name: "HeraldServer",
            dependencies: [
                "HeraldEngine", "HeraldProviders", "HeraldJournal", "HeraldSQLite", "HeraldReport", "HeraldSettings",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "herald",
            dependencies: [
                "HeraldCore", "HeraldEngine", "HeraldJournal", "HeraldSQLite", "HeraldServer", "HeraldProviders", "HeraldReport", "HeraldPostgres",
                "HeraldSettings",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "herald-bench",
            dependencies: [
                "HeraldCore", "HeraldEngine", "HeraldCSV", "HeraldProviders", "HeraldJournal", "HeraldSQLite", "HeraldPostgres", "HeraldReport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Benchmarks/herald-bench"
        ),
        .testTarget(
            name: "HeraldCoreTests",
            dependencies: ["HeraldCore", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
        .testTarget(name: "HeraldCSVTests", dependencies: ["HeraldCSV"]),
        // Each provider's own parts: its content rules, settings, receipts and requests.
        .testTarget(
            name: "HeraldProvidersTests",
            dependencies: [
                "HeraldProviders", "HeraldCore", "HeraldSettings", "HeraldTestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            exclude: ["Fixtures"]  // read from the source tree by path
        ),
        .testTarget(name: "HeraldSQLiteTests", dependencies: ["HeraldSQLite", "HeraldJournal", "HeraldTestSupport"]),
        // The journal's rules without a database: tables and property tests.
        .testTarget(
            name: "HeraldJournalRulesTests",
            dependencies: ["HeraldJournal", "HeraldCore", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
        // The journal protocol's contract, run against SQLite and PostgreSQL alike.
        .testTarget(name: "HeraldJournalTests", dependencies: ["HeraldJournal", "HeraldSQLite", "HeraldPostgres", "HeraldCore", "HeraldTestSupport"]),
        // Loopback HTTP servers for provider tests, in-process and against the real binary.
        .target(
            name: "HeraldTestSupport",
            dependencies: [
                "HeraldCore", "HeraldJournal", "HeraldProviders",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/Support"
        ),
        .testTarget(
            name: "HeraldEngineTests",
            dependencies: [
                "HeraldEngine", "HeraldJournal", "HeraldProviders", "HeraldCSV", "HeraldTestSupport", "HeraldFuzzing", "HeraldSettings",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "HeraldCLITests",
            dependencies: [
                "herald", "HeraldEngine", "HeraldJournal", "HeraldSQLite", "HeraldServer", "HeraldTestSupport", "HeraldProviders",
                // A test CA and SNS signing certificates, made in the tests.
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            exclude: ["Fixtures"]  // read from the source tree by path
        ),
    ]
)
