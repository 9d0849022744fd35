import ArgumentParser
import Factorization
import Foundation
import Linalg

/// Trains on a `row,col,value` CSV and writes the factors as raw little-endian `float32`
/// (numpy: `np.fromfile(path, '<f4').reshape(-1, factors)`), with one JSON line of timings.
struct TrainMatrix: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Train on a row,col,value CSV and write raw float32 factors.")

    @Option(help: "The row,col,value CSV.") var input: String
    @Option(help: "Rows of the matrix (default: largest row index + 1).") var rows: Int?
    @Option(help: "Columns of the matrix (default: largest column index + 1).") var columns: Int?
    @OptionGroup var training: TrainingOptions
    @Option(help: "cg or cholesky.") var solver: ALSConfiguration.Solver = .conjugateGradient
    @Option(help: "Write PREFIX.users.f32 and PREFIX.items.f32.") var factorsOut: String

    func run() throws {
        let matrix = try MatrixCSV.read(input, rows: rows, columns: columns)
        let config = training.configuration(solver: solver)
        var perIteration = [Double]()
        let (model, total) = try measure {
            try ImplicitALS(configuration: config).fit(matrix, logger: .bench) { perIteration.append($0.seconds) }
        }
        try write(model.userFactors, to: factorsOut + ".users.f32")
        try write(model.itemFactors, to: factorsOut + ".items.f32")
        let mean = perIteration.reduce(0, +) / Double(max(perIteration.count, 1))
        print("machine: \(BLASCore.summary)")
        print(#"{"solver": "\#(solver.rawValue)", "rows": \#(matrix.rows), "columns": \#(matrix.columns), "nnz": \#(matrix.nonZeros), "seconds_per_iteration": \#(mean), "total_seconds": \#(total), "peak_rss_mib": \#(ResourceUsage.peakRSSMiB)}"#)
    }

    private func write(_ matrix: Matrix, to path: String) throws {
        let data = matrix.storage.withUnsafeBufferPointer { Data(buffer: $0) }  // x86-64 and arm64 are little-endian
        try data.write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
