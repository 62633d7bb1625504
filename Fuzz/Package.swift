// swift-tools-version:6.1
import PackageDescription

// libFuzzer over every parser of outside input (`HeraldFuzzing`). Built by `Fuzz/run`
// with `-sanitize=fuzzer,address` into `.build-fuzz`; not part of the main package, whose
// tests replay the corpus in `Fuzz/Corpus` instead.
let package = Package(
    name: "HeraldFuzz",
    dependencies: [.package(name: "Herald", path: "..")],
    targets: [
        // libFuzzer's driver, declared for Swift.
        .target(name: "CFuzzDriver"),
        .executableTarget(
            name: "HeraldFuzzer", dependencies: ["CFuzzDriver", .product(name: "HeraldFuzzing", package: "Herald")]
        ),
    ]
)
