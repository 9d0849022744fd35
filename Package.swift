// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "ConsentRec",
    products: [
        // MARK: - Public API
        .executable(name: "consentrec", targets: ["consentrec"]),
        .executable(name: "consentrec-bench", targets: ["consentrec-bench"]),
        .library(name: "Factorization", targets: ["Factorization"]),
        .library(name: "Evaluation", targets: ["Evaluation"]),
        .library(name: "Events", targets: ["Events"]),
        .library(name: "Linalg", targets: ["Linalg"]),
        .library(name: "ModelStore", targets: ["ModelStore"]),
        .library(name: "Pipeline", targets: ["Pipeline"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/adam-fowler/compress-nio", from: "1.5.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
    ],
    targets: [
        // MARK: - Public API
        .executableTarget(
            name: "consentrec",
            dependencies: [
                "Events", "Evaluation", "Factorization", "Linalg", "ModelStore", "Pipeline", "SyntheticData",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "Factorization",
            dependencies: ["Linalg", .product(name: "Logging", package: "swift-log")],
            exclude: ["README.md"]
        ),
        .target(name: "Evaluation", dependencies: ["Events", "Linalg"], exclude: ["README.md"]),
        .target(
            name: "Events",
            dependencies: [
                "Linalg",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            exclude: ["README.md"]
        ),
        .target(name: "Linalg", dependencies: ["CBLAS"], exclude: ["README.md"]),
        .target(
            name: "Pipeline",
            dependencies: [
                "Events", "Evaluation", "Factorization", "Linalg", "ModelStore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "TOMLKit", package: "TOMLKit"),
            ],
            exclude: ["README.md"]
        ),
        .target(
            name: "ModelStore",
            dependencies: ["Events", "Factorization", "Linalg", .product(name: "Crypto", package: "swift-crypto")],
            exclude: ["README.md"]
        ),

        // MARK: - Implementation details
        // The only target that sees C: cblas.h and lapacke.h from Debian's OpenBLAS and LAPACKE.
        .systemLibrary(
            name: "CBLAS",
            providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]
        ),
        // Generated interaction data with known structure, for tests, benchmarks and the demo.
        .target(name: "SyntheticData", dependencies: ["Events", "Linalg"], exclude: ["README.md"]),
        .executableTarget(
            name: "consentrec-bench",
            dependencies: [
                "Evaluation", "Events", "Factorization", "Linalg", "Pipeline", "SyntheticData",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // The fuzz targets: libFuzzer with `make fuzz`, a replayer of saved inputs otherwise.
        .executableTarget(
            name: "consentrec-fuzz",
            dependencies: ["Events", "ModelStore", "Pipeline"]
        ),

        // MARK: - Tests
        .target(
            name: "TestSupport",
            dependencies: ["Linalg", .product(name: "Logging", package: "swift-log")],
            path: "Tests/TestSupport"
        ),
        .testTarget(name: "LinalgTests", dependencies: ["Linalg", "TestSupport"]),
        .testTarget(name: "EvaluationTests", dependencies: ["Evaluation", "Events", "Factorization", "Linalg", "SyntheticData", "TestSupport"]),
        .testTarget(name: "ModelStoreTests", dependencies: ["Events", "Factorization", "Linalg", "ModelStore", "TestSupport"]),
        .testTarget(
            name: "PipelineTests",
            dependencies: ["Events", "Factorization", "Linalg", "ModelStore", "Pipeline", "SyntheticData", "TestSupport"]
        ),
        // Runs the built `consentrec` binary end to end.
        .testTarget(
            name: "ConsentRecCLITests",
            dependencies: ["consentrec", "Events", "ModelStore", "TestSupport", .product(name: "ZIPFoundation", package: "ZIPFoundation")]
        ),
        .testTarget(
            name: "EventsTests",
            dependencies: [
                "Events", "Linalg", "SyntheticData", "TestSupport",
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            exclude: []
        ),
        .testTarget(
            name: "FactorizationTests",
            dependencies: ["Evaluation", "Factorization", "Linalg", "SyntheticData", "TestSupport"]
        ),
    ]
)
