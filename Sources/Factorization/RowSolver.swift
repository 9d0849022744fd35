import Linalg

/// Solves one row's weighted least-squares problem of an ALS half-sweep:
/// `(YᵀY + λI + ρI + Yᵀ(Cᵤ − I)Y)·x = YᵀCᵤpᵤ`, with `Y` the fixed side's factors and `ρ` the
/// row's own ridge (`entries.ridge`, 0 unless the penalty is frequency-scaled).
///
/// Both solvers get the same inputs, so the conformance suite and the half-sweep driver hold
/// them to the same behaviour; they differ only in how they reach `x`.
protocol RowSolver: Sendable {
    /// Writes the row's new factor into `x`, which holds the previous factor on entry.
    ///
    /// - Parameters:
    ///   - entries: the row's columns and interactions, with `α`; never empty.
    ///   - fixed: the fixed side's factors, row-major, `factors` per row.
    ///   - gram: `YᵀY + λI` (λ = `SweepWeighting.gramRidge`, 0 when each row has its own
    ///     ridge), full symmetric `factors × factors`.
    func solve(
        _ entries: RowEntries, fixed: UnsafePointer<Float>, gram: UnsafePointer<Float>,
        x: UnsafeMutablePointer<Float>, workspace: RowWorkspace
    ) throws(LinalgError)
}

/// The exact solver: forms the row's matrix and solves it by Cholesky factorisation.
struct CholeskySolver: RowSolver {
    func solve(
        _ entries: RowEntries, fixed: UnsafePointer<Float>, gram: UnsafePointer<Float>,
        x: UnsafeMutablePointer<Float>, workspace ws: RowWorkspace
    ) throws(LinalgError) {
        let f = ws.factors
        ws.a.update(from: gram, count: f * f)
        if entries.ridge != 0 { for j in 0..<f { ws.a[j * f + j] += entries.ridge } }
        ws.b.update(repeating: 0, count: f)
        var start = 0
        while start < entries.count {
            let count = min(RowWorkspace.segmentRows, entries.count - start)
            ws.gather(entries.indices + start, count: count, from: fixed)
            // b += cₖ·yₖ from the plain row, then scale the row by √wₖ so that one ssyrk adds
            // Σ wₖ·yₖyₖᵀ = Yᵀ(Cᵤ − I)Y to the lower triangle of A.
            for k in 0..<count {
                let w = entries.weight(start + k)
                let row = ws.gathered + k * f
                let c = 1 + w
                let s = w.squareRoot()
                for j in 0..<f {
                    ws.b[j] += c * row[j]
                    row[j] *= s
                }
            }
            BLAS.syrkLower(order: f, count: count, alpha: 1, a: ws.gathered, beta: 1, c: ws.a)
            start += count
        }
        try LAPACK.solvePositiveDefinite(order: f, a: ws.a, b: ws.b)
        x.update(from: ws.b, count: f)
    }
}

/// The conjugate-gradient solver (Takács, Pilászy & Tikk 2011): `steps` CG iterations from
/// the previous factor, with the matrix applied as `(YᵀY + λI)·v + Yᵀ(w ∘ (Y·v))` and never
/// formed. Each step is one pass of the fused row kernel (`Kernels.conjugateGradientRow`) over
/// the row's entries, reading the fixed factors in place.
struct ConjugateGradientSolver: RowSolver {
    let steps: Int
    /// Which implementation of the kernel runs; every level gives the same bits.
    var level: KernelLevel = .best

    /// A squared residual below this means the row is solved (as `implicit` does).
    static let tolerance: Float = 1e-20

    func solve(
        _ entries: RowEntries, fixed: UnsafePointer<Float>, gram: UnsafePointer<Float>,
        x: UnsafeMutablePointer<Float>, workspace ws: RowWorkspace
    ) throws(LinalgError) {
        guard level != .blas else {
            return solveWithBLAS(entries, fixed: fixed, gram: gram, x: x, workspace: ws)
        }
        Kernels.conjugateGradientRow(
            level: level, factors: ws.factors, count: entries.count, indices: entries.indices,
            values: entries.values, alpha: entries.alpha, fixed: fixed, gram: gram, ridge: entries.ridge, x: x, steps: steps,
            tolerance: Self.tolerance, scratch: ws.kernelScratch, gathered: ws.gathered,
            capacity: RowWorkspace.segmentRows)
    }

    /// The same steps with each product an `sgemv` over the gathered rows: two passes over the
    /// block per step, in whatever kernels OpenBLAS chose. For CPUs without AVX2 and FMA.
    private func solveWithBLAS(
        _ entries: RowEntries, fixed: UnsafePointer<Float>, gram: UnsafePointer<Float>,
        x: UnsafeMutablePointer<Float>, workspace ws: RowWorkspace
    ) {
        let f = ws.factors
        // A row that fits one segment is gathered once and reused by every step.
        let resident = entries.count <= RowWorkspace.segmentRows
        if resident { ws.gather(entries.indices, count: entries.count, from: fixed) }

        // r = b − A·x = −(YᵀY + λI + ρI)·x + Σₖ (cₖ − wₖ·(yₖ·x))·yₖ
        BLAS.gemv(.none, rows: f, columns: f, alpha: -1, a: gram, lda: f, x: x, beta: 0, y: ws.r)
        if entries.ridge != 0 { for j in 0..<f { ws.r[j] -= entries.ridge * x[j] } }
        applyEntries(entries, to: x, into: ws.r, residual: true, resident: resident, fixed, ws)
        ws.p.update(from: ws.r, count: f)
        var rsOld = BLAS.dot(count: f, ws.r, ws.r)
        if rsOld < Self.tolerance { return }

        for _ in 0..<steps {
            // Ap = (YᵀY + λI + ρI)·p + Σₖ wₖ·(yₖ·p)·yₖ
            BLAS.gemv(.none, rows: f, columns: f, alpha: 1, a: gram, lda: f, x: ws.p, beta: 0, y: ws.ap)
            if entries.ridge != 0 { for j in 0..<f { ws.ap[j] += entries.ridge * ws.p[j] } }
            applyEntries(entries, to: ws.p, into: ws.ap, residual: false, resident: resident, fixed, ws)
            let step = rsOld / BLAS.dot(count: f, ws.p, ws.ap)
            for j in 0..<f {
                x[j] += step * ws.p[j]
                ws.r[j] -= step * ws.ap[j]
            }
            let rsNew = BLAS.dot(count: f, ws.r, ws.r)
            if rsNew < Self.tolerance { break }
            let beta = rsNew / rsOld
            for j in 0..<f { ws.p[j] = ws.r[j] + beta * ws.p[j] }
            rsOld = rsNew
        }
    }

    /// `out += Σₖ φₖ(yₖ·v)·yₖ` with `φₖ(t) = cₖ − wₖ·t` (residual) or `wₖ·t` (product): two
    /// `sgemv` calls per segment of gathered rows.
    @inline(__always)
    private func applyEntries(
        _ entries: RowEntries, to v: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>,
        residual: Bool, resident: Bool, _ fixed: UnsafePointer<Float>, _ ws: RowWorkspace
    ) {
        let f = ws.factors
        var start = 0
        while start < entries.count {
            let count = min(RowWorkspace.segmentRows, entries.count - start)
            if !resident { ws.gather(entries.indices + start, count: count, from: fixed) }
            let t = ws.perRow
            BLAS.gemv(.none, rows: count, columns: f, alpha: 1, a: ws.gathered, lda: f, x: v, beta: 0, y: t)
            for k in 0..<count {
                let w = entries.weight(start + k)
                t[k] = residual ? 1 + w - w * t[k] : t[k] * w
            }
            BLAS.gemv(.transposed, rows: count, columns: f, alpha: 1, a: ws.gathered, lda: f, x: t, beta: 1, y: out)
            start += count
        }
    }
}
