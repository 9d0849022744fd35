// swift-tools-version: 6.0
import PackageDescription

// The stages, in the order data flows through them (docs/architecture.md):
// Ingest → Consent → Interactions → Factorization → Evaluation → Publishing, composed by Pipeline.
// Consent sits below Ingest in the import graph: the reader asks it about every row before any
// other field is read.
let logging = Target.Dependency.product(name: "Logging", package: "swift-log")
let crypto = Target.Dependency.product(name: "Crypto", package: "swift-crypto")

let package = Package(
    name: "ConsentRec",
    products: [
        // MARK: - Public API
        .executable(name: "consentrec", targets: ["consentrec"]),
        .executable(name: "consentrec-bench", targets: ["consentrec-bench"]),
        .library(name: "Platform", targets: ["Platform"]),
        .library(name: "Linalg", targets: ["Linalg"]),
        .library(name: "Consent", targets: ["Consent"]),
        .library(name: "Ingest", targets: ["Ingest"]),
        .library(name: "Interactions", targets: ["Interactions"]),
        .library(name: "Privacy", targets: ["Privacy"]),
        .library(name: "Factorization", targets: ["Factorization"]),
        .library(name: "Evaluation", targets: ["Evaluation"]),
        .library(name: "Publishing", targets: ["Publishing"]),
        .library(name: "Pipeline", targets: ["Pipeline"]),
        .library(name: "Cluster", targets: ["Cluster"]),
        .executable(name: "consentrec-mpi", targets: ["consentrec-mpi"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/adam-fowler/compress-nio", from: "1.5.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
        .package(url: "https://github.com/JohnSundell/Plot", from: "0.14.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // MARK: - The stages
        // POSIX calls (the only file that imports Glibc), SHA-256 in hex, RFC 3339 times, log keys.
        .target(name: "Platform", dependencies: [crypto], exclude: ["README.md"]),
        .target(name: "Linalg", dependencies: ["CBLAS", "CPUKernels", "Platform"], exclude: ["README.md"]),
        // Registry rules, policy, pseudonyms, provenance, the audit rules.
        .target(name: "Consent", dependencies: ["Platform", crypto], exclude: ["README.md"]),
        // Files to consented, pseudonymised events: CSV/TSV/JSONL, gzip, Slack exports, bad rows.
        .target(
            name: "Ingest",
            dependencies: [
                "Consent", "Platform", logging,
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            exclude: ["README.md"]
        ),
        // Recommender definitions, matrices and their vocabularies, held-out splits.
        .target(name: "Interactions", dependencies: ["Cluster", "Consent", "Ingest", "Linalg", "Platform", "Privacy"], exclude: ["README.md"]),
        // The ranks of a distributed run and the collectives its stages call (no transport).
        .target(name: "Cluster", exclude: ["README.md"]),
        // The privacy accountant, calibrated noise and its keyed randomness (no data structures).
        .target(name: "Privacy", dependencies: [crypto], exclude: ["README.md"]),
        .target(name: "Factorization", dependencies: ["Cluster", "Linalg", "Platform", "Privacy", logging], exclude: ["README.md"]),
        // Metrics, baselines, quality gates: scores in, verdicts out (it trains nothing).
        .target(name: "Evaluation", dependencies: ["Linalg", "Platform"], exclude: ["README.md"]),
        // Model files, manifest and seal, the output root: atomic publish, lock, purge, run audit.
        .target(name: "Publishing", dependencies: ["Consent", "Evaluation", "Interactions", "Linalg", "Platform", "Privacy", crypto], exclude: ["README.md"]),
        // The consent registry read from PostgreSQL (postgres-nio): the only target that talks to a
        // database. Linked by consentrec and consentrec-mpi, which hand it to Pipeline.RegistrySource;
        // the fuzz and bench binaries go without it (and without building SwiftNIO and BoringSSL).
        .target(
            name: "ConsentPostgres",
            dependencies: [
                "Consent", "Ingest", "Platform", logging, .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            exclude: ["README.md"]
        ),
        // Self-contained HTML report pages and their inline SVG charts (Plot renders both).
        .target(name: "HTMLReport", dependencies: [.product(name: "Plot", package: "Plot")], exclude: ["README.md"]),
        // The config file and the composition of the stages.
        .target(
            name: "Pipeline",
            dependencies: [
                "Cluster", "Consent", "Evaluation", "Factorization", "Ingest", "Interactions", "Linalg", "Platform", "Privacy",
                "Publishing", logging, "HTMLReport", crypto, .product(name: "TOMLKit", package: "TOMLKit"), .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Plot", package: "Plot"),
            ],
            exclude: ["README.md"]
        ),
        .executableTarget(
            name: "consentrec",
            dependencies: [
                "Consent", "ConsentPostgres", "Evaluation", "Factorization", "Ingest", "Interactions", "Platform", "Privacy", "Publishing", "Pipeline",
                "SyntheticData", .product(name: "ArgumentParser", package: "swift-argument-parser"), logging,
            ]
        ),

        // MARK: - Implementation details
        // The only target that sees BLAS: cblas.h and lapacke.h from Debian's OpenBLAS and LAPACKE.
        .systemLibrary(
            name: "CBLAS",
            providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]
        ),
        // OpenMPI's C API, seen only by Cluster/Communicator.swift.
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c", providers: [.apt(["openmpi-bin", "libopenmpi-dev"])]),
        // OpenMPI under the Collective protocol; linked by consentrec-mpi only.
        .target(name: "ClusterMPI", dependencies: ["CMPI", "Cluster"], exclude: ["README.md"]),
        // Pure computational C kernels beside the BLAS boundary: cpuid, and the fused CG row kernel
        // at three levels (scalar reference, AVX2+FMA, AVX-512) chosen at run time. No I/O.
        .target(name: "CPUKernels", exclude: ["README.md"]),
        // Generated interaction data with known structure, for tests, benchmarks and the demo.
        .target(name: "SyntheticData", dependencies: ["Ingest", "Linalg", "Platform"], exclude: ["README.md"]),
        // The nightly job across the ranks of an mpirun job.
        .executableTarget(
            name: "consentrec-mpi",
            dependencies: [
                "Cluster", "ClusterMPI", "ConsentPostgres", "Factorization", "Ingest", "Linalg", "Pipeline", "Platform", "SyntheticData",
                .product(name: "ArgumentParser", package: "swift-argument-parser"), logging,
            ]
        ),
        .executableTarget(
            name: "consentrec-bench",
            dependencies: [
                "Consent", "Evaluation", "Factorization", "Ingest", "Interactions", "Linalg", "Pipeline", "Platform", "Privacy", "SyntheticData",
                .product(name: "ArgumentParser", package: "swift-argument-parser"), logging,
            ]
        ),

        // The fuzz targets: libFuzzer with `make fuzz`, a replayer of saved inputs otherwise.
        .executableTarget(
            name: "consentrec-fuzz",
            dependencies: ["Ingest", "Pipeline", "Publishing"]
        ),

        // MARK: - Tests
        .target(
            name: "TestSupport",
            dependencies: ["Consent", "Ingest", "Linalg", "Platform", logging],
            path: "Tests/TestSupport"
        ),
        .testTarget(name: "PlatformTests", dependencies: ["Platform", "TestSupport"]),
        // Run under mpirun by ClusterTests: checks every collective on each rank.
        .executableTarget(
            name: "ClusterProbe", dependencies: ["Cluster", "ClusterMPI", "Consent", "Factorization", "Ingest", "Interactions", "Linalg", "SyntheticData", logging], path: "Tests/ClusterProbe"),
        .testTarget(
            name: "ClusterTests",
            dependencies: ["ClusterProbe", "consentrec", "consentrec-mpi", "Consent", "Ingest", "Platform", "Publishing", "SyntheticData", "TestSupport"]
        ),
        .testTarget(name: "LinalgTests", dependencies: ["Linalg", "TestSupport"]),
        .testTarget(name: "ConsentTests", dependencies: ["Consent", "Ingest", "Interactions", "Linalg", "Platform", "TestSupport"]),
        .testTarget(
            name: "IngestTests",
            dependencies: [
                "Consent", "Ingest", "Linalg", "Platform", "SyntheticData", "TestSupport", crypto,
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ]
        ),
        .testTarget(name: "InteractionsTests", dependencies: ["Consent", "Ingest", "Interactions", "Linalg", "Platform", "SyntheticData", "TestSupport"]),
        .testTarget(
            name: "FactorizationTests",
            dependencies: ["Evaluation", "Factorization", "Interactions", "Linalg", "SyntheticData", "TestSupport"]
        ),
        .testTarget(
            name: "PrivacyTests",
            dependencies: ["Consent", "Factorization", "Ingest", "Interactions", "Linalg", "Privacy", "TestSupport"]
        ),
        .testTarget(
            name: "EvaluationTests",
            dependencies: ["Evaluation", "Factorization", "Interactions", "Linalg", "SyntheticData", "TestSupport"]
        ),
        .testTarget(
            name: "PublishingTests",
            dependencies: ["Consent", "Evaluation", "Factorization", "Ingest", "Interactions", "Linalg", "Platform", "Publishing", "TestSupport"]
        ),
        .testTarget(
            name: "PipelineTests",
            dependencies: [
                "Consent", "ConsentPostgres", "Evaluation", "Factorization", "Ingest", "Interactions", "Linalg", "Pipeline", "Platform", "Publishing",
                "SyntheticData", "TestSupport",
            ]
        ),
        // Runs the built `consentrec` binary end to end.
        .testTarget(
            name: "ConsentRecCLITests",
            dependencies: [
                "consentrec", "consentrec-mpi", "Consent", "Ingest", "Pipeline", "Platform", "Publishing", "TestSupport",
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ]
        ),
    ]
)
