import ArgumentParser
import Foundation
import Linalg
import SyntheticData

/// Writes a generated data set as a `row,col,value` CSV, the form both ConsentRec's `train`
/// helper and the Python side of `scripts/bench_vs_implicit.sh` read.
struct ExportMatrix: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Write a generated data set as row,col,value CSV.")

    @OptionGroup var data: DataSetOptions
    @Option(help: "The CSV file to write.") var out: String

    func run() throws {
        let shape = SyntheticInteractions.Shape(
            users: data.users * data.scale, items: data.items * data.scale,
            nonZeros: data.nonZeros * data.scale)
        let matrix = SyntheticInteractions.generate(shape, seed: data.dataSeed)
        try MatrixCSV.write(matrix, to: out)
        print("wrote \(out): \(matrix.rows) × \(matrix.columns), \(matrix.nonZeros) non-zeros")
    }
}

/// The `row,col,value` CSV form of a sparse matrix (with that header line).
enum MatrixCSV {
    static func write(_ matrix: SparseMatrix, to path: String) throws {
        var text = "row,col,value\n"
        text.reserveCapacity(matrix.nonZeros * 16)
        for r in 0..<matrix.rows {
            for (c, v) in zip(matrix.row(r).columns, matrix.row(r).values) {
                text += "\(r),\(c),\(v == v.rounded() ? String(Int(v)) : String(v))\n"
            }
        }
        // Written beside the target and renamed, so a reader never sees half a file.
        let url = URL(fileURLWithPath: path)
        try Data(text.utf8).write(to: url, options: .atomic)
    }

    /// Reads a `row,col,value` CSV. The shape is the largest indices + 1 unless given.
    static func read(_ path: String, rows: Int?, columns: Int?) throws -> SparseMatrix {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("cannot read \(path)")
        }
        var r = [Int32](), c = [Int32](), v = [Float]()
        var lineNumber = 0
        for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
            lineNumber += 1
            if lineNumber == 1, line.first.map({ !(48...57).contains($0) }) == true { continue }  // header
            let fields = line.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
            guard fields.count == 3,
                let row = Int32(String(decoding: fields[0], as: UTF8.self)),
                let col = Int32(String(decoding: fields[1], as: UTF8.self)),
                let value = Float(String(decoding: fields[2], as: UTF8.self).trimmingCharacters(in: .whitespaces))
            else {
                throw ValidationError("\(path):\(lineNumber): expected row,col,value with integer indices")
            }
            r.append(row); c.append(col); v.append(value)
        }
        let shapeRows = rows ?? Int(r.max().map { $0 + 1 } ?? 0)
        let shapeColumns = columns ?? Int(c.max().map { $0 + 1 } ?? 0)
        return try SparseMatrix(rows: shapeRows, columns: shapeColumns, rowIndices: r, columnIndices: c, values: v)
    }
}
