import Linalg

/// Recommends from published item factors alone: folds a user's vector in from that user's
/// own interactions (the "billboard" setting), ranks items, finds similar items.
///
/// Building one precomputes `YᵀY + λI` and the item norms; each query is then an `f × f`
/// Cholesky solve plus one pass over the item factors.
public struct Recommender: Sendable {
    public let itemFactors: Matrix
    public let regularization: Float
    public let alpha: Float
    /// The user side's weighting (α/α₀, the ridge of a user with n interactions).
    let weighting: SweepWeighting
    let gram: [Float]
    let itemNorms: [Float]

    /// - Parameters:
    ///   - itemFactors: `items × factors`, as trained.
    ///   - regularization, alpha, unobservedWeight, regularizationExponent: the values the
    ///     factors were trained with (λ, α, α₀, ν).
    ///   - threads: threads for the one-off Gram product (it does not change the result).
    public init(
        itemFactors: Matrix, regularization: Float, alpha: Float, unobservedWeight: Float = 1, regularizationExponent: Float = 0,
        threads: Int = 1
    ) {
        self.itemFactors = itemFactors
        self.regularization = regularization
        self.alpha = alpha
        let c = ALSConfiguration(
            regularization: regularization, alpha: alpha, unobservedWeight: unobservedWeight, regularizationExponent: regularizationExponent)
        self.weighting = SweepWeighting(c, others: itemFactors.rows)
        self.gram = itemFactors.gram(ridge: weighting.gramRidge, parallel: ParallelFor(threads: threads))
        let f = itemFactors.columns
        self.itemNorms = (0..<itemFactors.rows).map { i in
            itemFactors.storage.withUnsafeBufferPointer { y in
                BLAS.dot(count: f, y.baseAddress! + i * f, y.baseAddress! + i * f).squareRoot()
            }
        }
    }

    /// A recommender for a trained model's item factors.
    public init(model: ALSModel) {
        self.init(
            itemFactors: model.itemFactors, regularization: model.configuration.regularization,
            alpha: model.configuration.alpha, unobservedWeight: model.configuration.unobservedWeight,
            regularizationExponent: model.configuration.regularizationExponent, threads: model.configuration.threads)
    }

    /// The user vector that minimises the ALS objective for these item factors and the given
    /// interactions: the exact solve the Cholesky trainer performs for that user.
    ///
    /// - Parameters:
    ///   - items: item rows the user interacted with, in any order; repeats are summed.
    ///   - weights: the interaction weight `r` of each (confidence `α₀ + α·r`).
    /// - Throws: `TrainingError.invalidInput` for an unknown item or a negative weight.
    public func userVector(items: [Int], weights: [Float]) throws(TrainingError) -> [Float] {
        let f = itemFactors.columns
        guard items.count == weights.count else {
            throw .invalidInput(reason: "\(items.count) items but \(weights.count) weights")
        }
        // Same entry order and weights as the training matrix (sorted, summed, w = α·r), so a
        // training user's fold-in is the trainer's own computation.
        var merged = [(Int32, Float)]()
        for (item, weight) in zip(items, weights).sorted(by: { $0.0 < $1.0 }) {
            guard item >= 0, item < itemFactors.rows else {
                throw .invalidInput(reason: "item \(item) is not in 0..<\(itemFactors.rows)")
            }
            guard weight.isFinite, weight >= 0 else {
                throw .invalidInput(reason: "item \(item) has weight \(weight); weights must be ≥ 0")
            }
            if let last = merged.last, last.0 == Int32(item) {
                merged[merged.count - 1].1 += weight
            } else {
                merged.append((Int32(item), weight))
            }
        }
        let entries = merged.filter { $0.1 > 0 }
        var x = [Float](repeating: 0, count: f)
        if entries.isEmpty { return x }
        let indices = entries.map(\.0)
        let r = entries.map(\.1)
        let workspace = RowWorkspace(factors: f)
        do throws(LinalgError) {
            try indices.withUnsafeBufferPointer { ib throws(LinalgError) in
                try r.withUnsafeBufferPointer { rb throws(LinalgError) in
                    try itemFactors.storage.withUnsafeBufferPointer { y throws(LinalgError) in
                        try gram.withUnsafeBufferPointer { g throws(LinalgError) in
                            try x.withUnsafeMutableBufferPointer { xb throws(LinalgError) in
                                try CholeskySolver().solve(
                                    RowEntries(
                                        indices: ib.baseAddress!, values: rb.baseAddress!, alpha: weighting.alpha,
                                        count: ib.count, ridge: weighting.rowRidge(count: ib.count)),
                                    fixed: y.baseAddress!, gram: g.baseAddress!, x: xb.baseAddress!,
                                    workspace: workspace)
                            }
                        }
                    }
                }
            }
        } catch {
            throw .invalidInput(reason: "fold-in failed: \(error)")
        }
        return x
    }

    /// Every item's score `x·yᵢ` for a user vector.
    public func scores(userVector x: [Float]) -> [Float] {
        precondition(x.count == itemFactors.columns, "user vector has \(x.count) factors, "
            + "the model \(itemFactors.columns)")
        var scores = [Float](repeating: 0, count: itemFactors.rows)
        itemFactors.storage.withUnsafeBufferPointer { y in
            scores.withUnsafeMutableBufferPointer { s in
                BLAS.gemv(
                    .none, rows: itemFactors.rows, columns: itemFactors.columns, alpha: 1,
                    a: y.baseAddress!, lda: itemFactors.columns, x: x, beta: 0, y: s.baseAddress!)
            }
        }
        return scores
    }

    /// The `k` items with the highest `x·yᵢ`, best first, leaving out `excluded` items.
    public func recommend(userVector x: [Float], k: Int, excluding excluded: some Sequence<Int> = []) -> [ScoredItem] {
        var scores = scores(userVector: x)
        for item in excluded where item >= 0 && item < scores.count { scores[item] = -.infinity }
        return scores.withUnsafeBufferPointer { TopK.select($0, k: k) }
    }

    /// Folds the user in from `items`/`weights` and recommends `k` items they have not
    /// interacted with.
    public func recommend(items: [Int], weights: [Float], k: Int) throws(TrainingError) -> [ScoredItem] {
        let x = try userVector(items: items, weights: weights)
        return recommend(userVector: x, k: k, excluding: items)
    }

    /// The `k` items most similar to `item` by cosine of their factors, best first, the item
    /// itself left out. Items with all-zero factors (never interacted with) score 0.
    public func similarItems(to item: Int, k: Int) -> [ScoredItem] {
        precondition(item >= 0 && item < itemFactors.rows, "item \(item) is out of range")
        let f = itemFactors.columns
        var scores = [Float](repeating: 0, count: itemFactors.rows)
        itemFactors.storage.withUnsafeBufferPointer { y in
            scores.withUnsafeMutableBufferPointer { s in
                BLAS.gemv(
                    .none, rows: itemFactors.rows, columns: f, alpha: 1, a: y.baseAddress!, lda: f,
                    x: y.baseAddress! + item * f, beta: 0, y: s.baseAddress!)
            }
        }
        let norm = itemNorms[item]
        for i in scores.indices {
            let denominator = norm * itemNorms[i]
            scores[i] = denominator > 0 ? scores[i] / denominator : 0
        }
        scores[item] = -.infinity
        return scores.withUnsafeBufferPointer { TopK.select($0, k: k) }
    }
}
