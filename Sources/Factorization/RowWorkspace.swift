import Linalg

/// One worker thread's buffers for solving rows: reused across all rows it solves, so the
/// hot loop allocates nothing.
final class RowWorkspace {
    /// Most fixed-side rows gathered at once. Longer rows (an item everyone touched) are
    /// processed in segments of this many, so memory stays bounded: 16 Ki rows × f floats.
    static let segmentRows = 16_384

    let factors: Int
    /// Gathered fixed-side factor rows of the current segment, contiguous, row-major, with the
    /// fused kernel's padded stride (`Kernels.paddedFactors`) when it fills them.
    let gathered: UnsafeMutablePointer<Float>
    /// One value per gathered row.
    let perRow: UnsafeMutablePointer<Float>
    /// Vectors of length `factors`.
    let r, p, ap, b: UnsafeMutablePointer<Float>
    /// A `factors × factors` matrix.
    let a: UnsafeMutablePointer<Float>
    /// The fused CG kernel's vectors (`Kernels.scratchCount`).
    let kernelScratch: UnsafeMutablePointer<Float>

    init(factors: Int) {
        self.factors = factors
        gathered = .allocate(capacity: Self.segmentRows * Kernels.paddedFactors(factors))
        perRow = .allocate(capacity: Self.segmentRows)
        r = .allocate(capacity: factors)
        p = .allocate(capacity: factors)
        ap = .allocate(capacity: factors)
        b = .allocate(capacity: factors)
        a = .allocate(capacity: factors * factors)
        kernelScratch = .allocate(capacity: Kernels.scratchCount(factors: factors))
    }

    deinit {
        for buffer in [gathered, perRow, r, p, ap, b, a, kernelScratch] { buffer.deallocate() }
    }

    /// Copies the fixed-side rows named by `indices` into `gathered`.
    ///
    /// One contiguous block lets the per-row products run as two `sgemv` calls instead of a
    /// `sdot` and a `saxpy` per entry: 2–3× faster once the fixed side is out of cache.
    @inline(__always)
    func gather(_ indices: UnsafePointer<Int32>, count: Int, from fixed: UnsafePointer<Float>) {
        let f = factors
        for k in 0..<count {
            (gathered + k * f).update(from: fixed + Int(indices[k]) * f, count: f)
        }
    }
}

/// One row of a half-sweep: the columns it touched, their interactions `r`, and α (α/α₀ with
/// an unobserved weight α₀: `SweepWeighting`); an entry's weight is `w = α·r = c/α₀ − 1`. `ridge` is the row's own penalty beyond the one in the
/// Gram matrix (frequency-scaled regularization, `SweepWeighting`); 0 for the classic problem.
struct RowEntries {
    let indices: UnsafePointer<Int32>
    let values: UnsafePointer<Float>
    let alpha: Float
    let count: Int
    var ridge: Float = 0

    /// `wₖ = α·rₖ`.
    @inline(__always)
    func weight(_ k: Int) -> Float { alpha * values[k] }
}
