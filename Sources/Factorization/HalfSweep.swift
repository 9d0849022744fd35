import Linalg

/// One half of an ALS iteration: every row of `weights` solved against the fixed factors.
struct HalfSweep {
    /// Rows are the side being solved; values are the interactions `r`, all positive.
    let weights: SparseMatrix
    /// α/α₀ and each row's own ridge (`SweepWeighting`): an entry's weight is `w = (α/α₀)·r`.
    let weighting: SweepWeighting
    /// Row ranges cut by the data alone (see `SparseMatrix.rowChunks`).
    let chunks: [Range<Int>]
    let side: TrainingError.Side

    init(interactions weights: SparseMatrix, weighting: SweepWeighting, side: TrainingError.Side) {
        self.weights = weights
        self.weighting = weighting
        self.side = side
        // ~32k entries per chunk: enough chunks to balance two to a few dozen threads, few
        // enough that claiming one costs nothing. A row's fixed cost (the f × f products)
        // counts as 64 entries.
        self.chunks = weights.rowChunks(targetWork: 32_768, rowCost: 64)
    }

    /// Solves every row, writing into `target` (which holds the previous factors).
    func run(
        solver: some RowSolver, fixed: Matrix, gram: [Float], target: inout Matrix,
        parallel: ParallelFor, iteration: Int
    ) throws(TrainingError) {
        let f = fixed.columns
        let side = self.side
        let chunks = self.chunks
        let weighting = self.weighting
        try weights.rowPointers.withUnsafeBufferPointer { rowPointers throws(TrainingError) in
            try weights.columnIndices.withUnsafeBufferPointer { indices throws(TrainingError) in
                try weights.values.withUnsafeBufferPointer { values throws(TrainingError) in
                    try fixed.storage.withUnsafeBufferPointer { fixedBuffer throws(TrainingError) in
                        try gram.withUnsafeBufferPointer { gramBuffer throws(TrainingError) in
                            try target.storage.withUnsafeMutableBufferPointer { out throws(TrainingError) in
                                let pointers = UncheckedSendableBuffers(
                                    rowPointers: rowPointers.baseAddress!,
                                    indices: indices.baseAddress ?? UnsafePointer(bitPattern: 8)!,
                                    values: values.baseAddress ?? UnsafePointer(bitPattern: 8)!,
                                    fixed: fixedBuffer.baseAddress!, gram: gramBuffer.baseAddress!,
                                    out: out.baseAddress!)
                                try parallel.forEach(
                                    chunks: chunks.count, scratch: { RowWorkspace(factors: f) }
                                ) { (chunk: Int, ws: inout RowWorkspace) throws(TrainingError) in
                                    for row in chunks[chunk] {
                                        let start = pointers.rowPointers[row]
                                        let count = pointers.rowPointers[row + 1] - start
                                        let x = pointers.out + row * f
                                        if count == 0 {
                                            // Nothing known about this row: the zero vector
                                            // scores 0 everywhere, as in `implicit`.
                                            x.update(repeating: 0, count: f)
                                            continue
                                        }
                                        let entries = RowEntries(
                                            indices: pointers.indices + start,
                                            values: pointers.values + start, alpha: weighting.alpha,
                                            count: count, ridge: weighting.rowRidge(count: count))
                                        do throws(LinalgError) {
                                            try solver.solve(
                                                entries, fixed: pointers.fixed, gram: pointers.gram,
                                                x: x, workspace: ws)
                                        } catch {
                                            throw .solveFailed(
                                                iteration: iteration, side: side, row: row,
                                                underlying: error)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        if let row = target.isFinite ? nil : target.firstNonFiniteRow() {
            throw .nonFiniteFactors(iteration: iteration, side: side, row: row)
        }
    }
}

/// The raw buffers of one half-sweep, shared read-only (and `out` by disjoint rows) by the
/// workers of one `ParallelFor`, which all finish before the buffers go away.
struct UncheckedSendableBuffers: @unchecked Sendable {
    let rowPointers: UnsafePointer<Int>
    let indices: UnsafePointer<Int32>
    let values: UnsafePointer<Float>
    let fixed: UnsafePointer<Float>
    let gram: UnsafePointer<Float>
    let out: UnsafeMutablePointer<Float>
}
