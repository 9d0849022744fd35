import ArgumentParser
import Factorization
import Foundation
import Linalg

/// Benchmarks and interop helpers for ConsentRec's numeric core. Every figure is printed,
/// never asserted: compare ratios measured in one run on one machine.
@main
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consentrec-bench",
        abstract: "Benchmarks of the ALS trainer, fold-in and top-k, and interop helpers.",
        subcommands: [ALSBench.self, WarmStartBench.self, FoldInBench.self, IngestBench.self, NightlyBench.self, ExportMatrix.self, TrainMatrix.self, TuneMatrix.self, Demo.self]
    )

    /// As `consentrec`: the right BLAS kernels first (restarting once if it must).
    static func main() {
        BLASCore.prepareProcess(environment: ProcessInfo.processInfo.environment)
        main(nil)
    }
}

/// The shape of a generated power-law data set.
struct DataSetOptions: ParsableArguments {
    @Option(help: "Users (rows).") var users = 70_000
    @Option(help: "Items (columns).") var items = 10_000
    @Option(help: "Non-zeros (distinct user–item pairs) wanted.") var nonZeros = 4_000_000
    @Option(help: "Multiply users, items and interactions by this.") var scale = 1
    @Option(help: "Seed of the generator.") var dataSeed: UInt64 = 2026
}

/// Hyper-parameters shared by the training commands.
struct TrainingOptions: ParsableArguments {
    @Option(help: "Factors per vector.") var factors = 64
    @Option(help: "ALS iterations.") var iterations = 15
    @Option(help: "Regularization λ.") var regularization: Float = 0.01
    @Option(help: "α in the confidence 1 + α·r.") var alpha: Float = 1
    @Option(help: "Conjugate-gradient steps per row.") var cgSteps = 3
    @Option(help: "Worker threads.") var threads = 2
    @Option(help: "Seed of the initial factors.") var seed: UInt64 = 0
    @Option(help: "α₀, the weight of unobserved pairs (iALS++).") var unobservedWeight: Float = 1
    @Option(help: "ν, the exponent of the frequency-scaled penalty (iALS++).") var regularizationExponent: Float = 0

    func configuration(solver: ALSConfiguration.Solver) -> ALSConfiguration {
        ALSConfiguration(
            factors: factors, regularization: regularization, alpha: alpha, iterations: iterations, solver: solver,
            cgSteps: cgSteps, threads: threads, seed: seed, unobservedWeight: unobservedWeight,
            regularizationExponent: regularizationExponent)
    }
}
