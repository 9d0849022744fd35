extension Matrix {
    /// Rows per block of the Gram product. A constant, never derived from the thread count, so
    /// the sum of the block products (and so every later bit) is the same for any thread count.
    static let gramBlockRows = 4096

    /// `MᵀM + ridge·I` as a full symmetric `columns × columns` matrix.
    ///
    /// OpenBLAS does not split `ssyrk` across threads for small orders (≤ 128), so the rows are
    /// cut into fixed blocks, each block's product is formed by its own `ssyrk` in parallel,
    /// and the partial products are added in block order. The result is symmetric and stored
    /// in full, so it reads the same row-major or column-major.
    public func gram(ridge: Float = 0, parallel: ParallelFor) -> [Float] {
        let f = columns
        let blocks = (rows + Self.gramBlockRows - 1) / Self.gramBlockRows
        var partials = [Float](repeating: 0, count: max(blocks, 1) * f * f)
        storage.withUnsafeBufferPointer { m in
            partials.withUnsafeMutableBufferPointer { out in
                let src = SendablePointer(m.baseAddress!)
                let dst = SendableMutablePointer(out.baseAddress!)
                parallel.forEach(chunks: blocks) { block in
                    let start = block * Self.gramBlockRows
                    let count = Swift.min(Self.gramBlockRows, rows - start)
                    BLAS.syrkLower(
                        order: f, count: count, alpha: 1, a: src.pointer + start * f, beta: 0,
                        c: dst.pointer + block * f * f)
                }
            }
        }
        var result = [Float](repeating: 0, count: f * f)
        for block in 0..<blocks {
            let base = block * f * f
            for i in 0..<(f * f) { result[i] += partials[base + i] }
        }
        // ssyrk filled the column-major lower triangle: element (i, j) with i ≥ j at j*f + i.
        for j in 0..<f {
            for i in j..<f { result[i * f + j] = result[j * f + i] }
            result[j * f + j] += ridge
        }
        return result
    }
}
