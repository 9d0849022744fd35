import Linalg

extension ImplicitALS {
    /// The implicit-ALS objective of `userFactors` and `itemFactors` on `interactions`,
    /// divided by `Σ cᵤᵢ` over all user–item pairs — the same figure `implicit` logs, so
    /// the two can be compared directly (with α₀ = 1 and ν = 0).
    ///
    /// Computed without visiting the zero entries, on the objective divided by α₀: for user
    /// `u`, `Σᵢ (cᵤᵢ/α₀)(pᵤᵢ − sᵤᵢ)² = xᵤᵀ(YᵀY)xᵤ + Σ_{observed} [(1 + wᵤᵢ)(1 − sᵤᵢ)² − sᵤᵢ²]`
    /// with `w = (α/α₀)·r`.
    /// Partial sums are kept per chunk in `Double` and added in chunk order, so the value
    /// does not depend on the thread count.
    public func loss(
        interactions: SparseMatrix, userFactors: Matrix, itemFactors: Matrix
    ) throws(TrainingError) -> Double {
        let r = try Self.preferences(interactions)
        let parallel = ParallelFor(threads: configuration.threads)
        let userSweep = HalfSweep(interactions: r, weighting: SweepWeighting(configuration, others: r.columns), side: .users)
        let itemSweep = HalfSweep(interactions: r.transposed(), weighting: SweepWeighting(configuration, others: r.rows), side: .items)
        let gram = itemFactors.gram(ridge: userSweep.weighting.gramRidge, parallel: parallel)
        return Self.loss(
            interactions: r, users: userSweep, items: itemSweep, userFactors: userFactors, itemFactors: itemFactors, gram: gram,
            parallel: parallel)
    }

    /// The loss from the interactions `r` (zeros dropped), both sweeps' weighting and the
    /// items' `YᵀY + ridge·I`.
    static func loss(
        interactions weights: SparseMatrix, users userSweep: HalfSweep, items itemSweep: HalfSweep, userFactors users: Matrix,
        itemFactors items: Matrix, gram: [Float], parallel: ParallelFor
    ) -> Double {
        let alpha = userSweep.weighting.alpha, chunks = userSweep.chunks, weighting = userSweep.weighting
        let f = items.columns
        var partials = [Double](repeating: 0, count: chunks.count)
        partials.withUnsafeMutableBufferPointer { partialBuffer in
            let out = SendableMutablePointer(partialBuffer.baseAddress!)
            users.storage.withUnsafeBufferPointer { x in
                items.storage.withUnsafeBufferPointer { y in
                    gram.withUnsafeBufferPointer { g in
                        let px = SendablePointer(x.baseAddress!), py = SendablePointer(y.baseAddress!)
                        let pg = SendablePointer(g.baseAddress!)
                        parallel.forEach(chunks: chunks.count, scratch: { [Float](repeating: 0, count: f) }) {
                            chunk, q in
                            var sum = 0.0
                            for u in chunks[chunk] {
                                let xu = px.pointer + u * f
                                // xᵀ(YᵀY + λI)x: the unobserved part plus λ‖x‖².
                                q.withUnsafeMutableBufferPointer { qb in
                                    BLAS.gemv(.none, rows: f, columns: f, alpha: 1, a: pg.pointer, lda: f, x: xu, beta: 0, y: qb.baseAddress!)
                                    sum += Double(BLAS.dot(count: f, qb.baseAddress!, xu))
                                }
                                let row = weights.row(u)
                                let ridge = weighting.rowRidge(count: row.columns.count)
                                if ridge != 0 { sum += Double(ridge) * Double(BLAS.dot(count: f, xu, xu)) }
                                for (i, r) in zip(row.columns, row.values) {
                                    let w = alpha * r
                                    let s = Double(BLAS.dot(count: f, xu, py.pointer + Int(i) * f))
                                    let c = 1 + Double(w)
                                    sum += c * (1 - s) * (1 - s) - s * s
                                }
                            }
                            out.pointer[chunk] = sum
                        }
                    }
                }
            }
        }
        var total = partials.reduce(0, +)
        total += Self.itemPenalty(items, itemSweep.weighting, counts: itemSweep.weights)
        let confidence = Double(weights.nonZeros) + weights.values.reduce(0.0) { $0 + Double(alpha * $1) }
        let pairs = Double(users.rows) * Double(items.rows)
        return total / (confidence + pairs - Double(weights.nonZeros))
    }

    /// `Σᵢ λᵢ‖yᵢ‖² / α₀`: the items' penalty in the objective divided by α₀.
    static func itemPenalty(_ items: Matrix, _ w: SweepWeighting, counts: SparseMatrix) -> Double {
        let f = items.columns
        if w.exponent == 0 {
            var norms = 0.0
            for v in items.storage { norms += Double(v) * Double(v) }
            return Double(w.gramRidge) * norms
        }
        var total = 0.0
        for i in 0..<items.rows {
            var norm = 0.0
            for k in 0..<f { norm += Double(items.storage[i * f + k]) * Double(items.storage[i * f + k]) }
            total += w.penalty(count: counts.count(ofRow: i)) / Double(w.unobservedWeight) * norm
        }
        return total
    }
}
