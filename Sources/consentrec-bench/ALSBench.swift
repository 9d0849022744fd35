import ArgumentParser
import Factorization
import Foundation
import Linalg
import SyntheticData

/// Trains on a generated power-law data set and prints time per iteration and peak RSS.
struct ALSBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "als", abstract: "Time ALS training per iteration on generated data.")

    @OptionGroup var data: DataSetOptions
    @OptionGroup var training: TrainingOptions
    @Option(help: "Solvers to time: cg, cholesky.") var solver: [ALSConfiguration.Solver] = [.conjugateGradient, .cholesky]
    @Option(help: "Levels of the fused CG kernel to time: reference, avx2+fma, avx512 (default: the best this CPU runs).")
    var kernels: [KernelLevel] = [KernelLevel.best]

    func validate() throws {
        for level in kernels where !level.isSupported {
            throw ValidationError("this CPU cannot run the \(level) kernels (best: \(KernelLevel.best))")
        }
    }

    func run() throws {
        let shape = SyntheticInteractions.Shape(
            users: data.users * data.scale, items: data.items * data.scale,
            nonZeros: data.nonZeros * data.scale)
        let (matrix, generateSeconds) = measure { SyntheticInteractions.generate(shape, seed: data.dataSeed) }
        print(String(format: "data: %d users × %d items, %d non-zeros (generated in %.1f s)",
                     matrix.rows, matrix.columns, matrix.nonZeros, generateSeconds))
        print("machine: \(BLASCore.summary)")
        if let note = BLASCore.note { print("note: \(note)") }
        for solver in self.solver {
            for level in solver == .conjugateGradient ? kernels : [KernelLevel.best] {
                try time(solver: solver, kernels: level, matrix)
            }
        }
    }

    private func time(solver: ALSConfiguration.Solver, kernels: KernelLevel, _ matrix: SparseMatrix) throws {
        let config = training.configuration(solver: solver)
        var perIteration = [Double]()
        let (_, total) = try measure {
            try ImplicitALS(configuration: config, kernels: kernels).fit(matrix, logger: .bench) {
                perIteration.append($0.seconds)
            }
        }
        let mean = perIteration.reduce(0, +) / Double(max(perIteration.count, 1))
        let median = perIteration.sorted()[perIteration.count / 2]
        let name = solver == .conjugateGradient ? "cg (\(kernels) kernel)" : "cholesky (BLAS \(BLASThreads.coreName))"
        print(String(
            format: "als %@ f=%d threads=%d: %.3f s/iteration (median %.3f), %.1f ns per non-zero per iteration, total %.1f s, peak RSS %.0f MiB",
            name, config.factors, config.threads, mean, median,
            mean / Double(matrix.nonZeros) * 1e9, total, ResourceUsage.peakRSSMiB))
    }
}

extension ALSConfiguration.Solver: ExpressibleByArgument {}
extension KernelLevel: ExpressibleByArgument {}
