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
        Self.gram(summing: gramPartials(segments: [0..<rows], parallel: parallel), order: columns, ridge: ridge)
    }

    /// `MᵀM + ridge·I` summed segment by segment: each segment's rows in blocks from its own
    /// start, the segments' products added in the order given. When the segments are the
    /// person buckets of a global model, a distributed fit whose ranks hold whole segments adds
    /// the same products in the same order (`DistributedALS`), so the bits do not depend on
    /// the rank count.
    public func gram(segments: [Range<Int>], ridge: Float = 0, parallel: ParallelFor) -> [Float] {
        Self.gram(summing: gramPartials(segments: segments, parallel: parallel), order: columns, ridge: ridge)
    }

    /// One lower-triangle product (column-major, `columns²` floats) per segment, in segment
    /// order: the sum of the segment's `gramBlockRows`-row blocks, added in block order.
    public func gramPartials(segments: [Range<Int>], parallel: ParallelFor) -> [[Float]] {
        let f = columns
        let blocks = segments.flatMap { s in stride(from: s.lowerBound, to: s.upperBound, by: Self.gramBlockRows).map { ($0, Swift.min($0 + Self.gramBlockRows, s.upperBound)) } }
        var products = [Float](repeating: 0, count: Swift.max(blocks.count, 1) * f * f)
        storage.withUnsafeBufferPointer { m in
            products.withUnsafeMutableBufferPointer { out in
                let src = SendablePointer(m.baseAddress ?? UnsafePointer(bitPattern: 8)!)
                let dst = SendableMutablePointer(out.baseAddress!)
                parallel.forEach(chunks: blocks.count) { block in
                    let (start, end) = blocks[block]
                    BLAS.syrkLower(order: f, count: end - start, alpha: 1, a: src.pointer + start * f, beta: 0, c: dst.pointer + block * f * f)
                }
            }
        }
        var partials: [[Float]] = []
        partials.reserveCapacity(segments.count)
        var block = 0
        for s in segments {
            var sum = [Float](repeating: 0, count: f * f)
            for _ in stride(from: s.lowerBound, to: s.upperBound, by: Self.gramBlockRows) {
                let base = block * f * f
                for i in 0..<(f * f) { sum[i] += products[base + i] }
                block += 1
            }
            partials.append(sum)
        }
        return partials
    }

    /// The partial products added in order, mirrored into a full symmetric matrix, plus
    /// `ridge` on the diagonal.
    public static func gram(summing partials: [[Float]], order f: Int, ridge: Float) -> [Float] {
        var result = [Float](repeating: 0, count: f * f)
        for partial in partials {
            precondition(partial.count == f * f, "a partial product of another order")
            for i in 0..<(f * f) { result[i] += partial[i] }
        }
        // ssyrk filled the column-major lower triangle: element (i, j) with i ≥ j at j*f + i.
        for j in 0..<f {
            for i in j..<f { result[i * f + j] = result[j * f + i] }
            result[j * f + j] += ridge
        }
        return result
    }
}
