import Linalg

extension ImplicitALS {
    /// The implicit-ALS objective of `userFactors` and `itemFactors` on `interactions`,
    /// divided by `Σ cᵤᵢ` over all user–item pairs — the same figure `implicit` logs, so
    /// the two can be compared directly.
    ///
    /// Computed without visiting the zero entries: for user `u`,
    /// `Σᵢ cᵤᵢ(pᵤᵢ − sᵤᵢ)² = xᵤᵀ(YᵀY)xᵤ + Σ_{observed} [cᵤᵢ(1 − sᵤᵢ)² − sᵤᵢ²]`.
    /// Partial sums are kept per chunk in `Double` and added in chunk order, so the value
    /// does not depend on the thread count.
    public func loss(
        interactions: SparseMatrix, userFactors: Matrix, itemFactors: Matrix
    ) throws(TrainingError) -> Double {
        let r = try Self.preferences(interactions)
        let alpha = configuration.alpha
        let parallel = ParallelFor(threads: configuration.threads)
        let gram = itemFactors.gram(ridge: configuration.regularization, parallel: parallel)
        return Self.loss(
            interactions: r, alpha: alpha,
            chunks: HalfSweep(interactions: r, alpha: alpha, side: .users).chunks,
            users: userFactors, items: itemFactors, gram: gram,
            regularization: configuration.regularization, parallel: parallel)
    }

    /// The loss from the interactions `r` (zeros dropped), `α` and the items' `YᵀY + λI`.
    static func loss(
        interactions weights: SparseMatrix, alpha: Float, chunks: [Range<Int>], users: Matrix, items: Matrix, gram: [Float],
        regularization: Float, parallel: ParallelFor
    ) -> Double {
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
        var itemNorms = 0.0
        for v in items.storage { itemNorms += Double(v) * Double(v) }
        total += Double(regularization) * itemNorms
        let confidence = Double(weights.nonZeros) + weights.values.reduce(0.0) { $0 + Double(alpha * $1) }
        let pairs = Double(users.rows) * Double(items.rows)
        return total / (confidence + pairs - Double(weights.nonZeros))
    }
}
