import Linalg
import Logging
import Platform
import Privacy

/// Implicit ALS with (ε, δ) user-level differential privacy of the item factors (Chien et al.,
/// "Private Alternating Least Squares", ICML 2021), by perturbing the item solves' sufficient
/// statistics.
///
/// Each iteration solves every user exactly against the current item factors (a person's own
/// vector: never published), clips it to norm `maxNorm`, and then solves every item from
/// noisy statistics:
///
///     v = (G̃ + Ãᵢ + λI)⁻¹ b̃ᵢ,   G = α₀·Σᵤ uuᵀ,  Aᵢ = Σᵤ α·r·uuᵀ,  bᵢ = Σᵤ (α₀ + α·r)·u
///
/// with Gaussian noise on G (once per iteration), on each item's Aᵢ and bᵢ, each scaled to the
/// sensitivity `PrivacyPlan` states for contributions bounded to `maxItemsPerUser` items of
/// weight at most `maxWeight` — bounds the caller's matrix must already meet (`check`). The
/// noisy G and Aᵢ are projected back to positive semi-definite. The item solve is always the
/// Cholesky path: the conjugate-gradient solver never forms G or Aᵢ, so there is nothing of
/// bounded sensitivity to perturb.
///
/// The start is data-independent (seeded item factors); the user factors returned are exact
/// solves against the final item factors — what fold-in gives — for evaluation only.
public struct PrivateALS: Sendable {
    public let configuration: ALSConfiguration
    public let plan: PrivacyPlan

    public init(configuration: ALSConfiguration, plan: PrivacyPlan) {
        self.configuration = configuration
        self.plan = plan
    }

    /// The noise standard deviations of one iteration's releases.
    struct NoiseScales {
        let gram: Double, itemGram: Double, itemRHS: Double
    }

    var scales: NoiseScales {
        NoiseScales(gram: plan.training.mechanism("global_gram").noiseScale, itemGram: plan.training.mechanism("item_grams").noiseScale,
                    itemRHS: plan.training.mechanism("item_rhs").noiseScale)
    }

    /// - Parameters:
    ///   - interactions: users × items, each row at most `maxItemsPerUser` entries of weight in
    ///     (0, `maxWeight`] (`PrivateContributions` makes such a matrix).
    ///   - noise: this release's noise (`NoiseSource`).
    public func fit(_ interactions: SparseMatrix, noise: NoiseSource, logger: Logger, progress: ((IterationReport) -> Void)? = nil)
        throws(TrainingError) -> ALSModel
    {
        var config = configuration
        config.solver = .cholesky
        try config.validate()
        guard config.regularizationExponent == 0 else {
            throw .invalidConfiguration(field: "regularization_exponent", reason: "must be 0 for a private model: a frequency-scaled penalty reads exact counts")
        }
        try check(interactions)
        let f = config.factors
        var generator = SeededGenerator(seed: config.seed)
        // Items start from seeded values around 1/√f per coordinate, independent of the data.
        var items = Matrix.random(rows: interactions.columns, columns: f, scale: 2 / Float(f).squareRoot(), using: &generator)
        for i in items.storage.indices { items.storage[i] -= 1 / Float(f).squareRoot() }
        var users = Matrix(rows: interactions.rows, columns: f)
        let userSweep = HalfSweep(interactions: interactions, weighting: SweepWeighting(config, others: interactions.columns), side: .users)
        let itemMajor = interactions.transposed()
        let parallel = ParallelFor(threads: config.threads)
        let pin = BLASThreadPin(logger: logger)
        defer { pin.release() }
        let clock = ContinuousClock()
        for iteration in 1...config.iterations {
            let start = clock.now
            try userSweep.run(solver: CholeskySolver(), fixed: items, gram: items.gram(ridge: userSweep.weighting.gramRidge, parallel: parallel),
                              target: &users, parallel: parallel, iteration: iteration)
            users.clipRows(toNorm: plan.parameters.maxNorm)
            items = try solveItems(itemMajor, users: users, noise: noise, iteration: iteration, parallel: parallel)
            let elapsed = start.duration(to: clock.now)
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            logger.debug("private als iteration finished", metadata: [LogKey.iteration: "\(iteration)", LogKey.seconds: "\(seconds)"])
            progress?(IterationReport(iteration: iteration, iterations: config.iterations, seconds: seconds, loss: nil))
        }
        try userSweep.run(solver: CholeskySolver(), fixed: items, gram: items.gram(ridge: userSweep.weighting.gramRidge, parallel: parallel),
                          target: &users, parallel: parallel, iteration: config.iterations + 1)
        return ALSModel(configuration: config, userFactors: users, itemFactors: items)
    }

    /// `α₀·Σ uuᵀ` in Double, user by user in row order: adding one person adds one term and
    /// moves the others' rounding by Double's unit roundoff only (a blocked Float sum would move
    /// block boundaries, and its rounding, by far more).
    static func globalGram(_ users: Matrix, unobservedWeight a0: Double) -> [Double] {
        let f = users.columns
        var gram = [Double](repeating: 0, count: f * f)
        users.storage.withUnsafeBufferPointer { u in
            for r in 0..<users.rows {
                for i in 0..<f {
                    let ui = a0 * Double(u[r * f + i])
                    for j in i..<f { gram[i * f + j] += ui * Double(u[r * f + j]) }
                }
            }
        }
        for i in 0..<f { for j in 0..<i { gram[i * f + j] = gram[j * f + i] } }
        return gram
    }

    /// Refuses a matrix whose rows break the contribution bounds the noise was scaled to.
    func check(_ m: SparseMatrix) throws(TrainingError) {
        let bound = plan.parameters.maxItemsPerUser, top = plan.parameters.maxWeight
        for row in 0..<m.rows where m.count(ofRow: row) > bound {
            throw .invalidInput(reason: "row \(row) has \(m.count(ofRow: row)) items; a private model takes at most max_items_per_user = \(bound)")
        }
        if let v = m.values.first(where: { !(Double($0) > 0 && Double($0) <= top) }) {
            throw .invalidInput(reason: "weight \(v) is outside (0, max_weight = \(top)]")
        }
    }

    /// Every item's factor from its noisy statistics, against clipped user factors.
    func solveItems(_ itemMajor: SparseMatrix, users: Matrix, noise: NoiseSource, iteration: Int, parallel: ParallelFor)
        throws(TrainingError) -> Matrix
    {
        let f = users.columns
        let a0 = Double(configuration.unobservedWeight)
        var gram = Self.globalGram(users, unobservedWeight: a0)
        var stream = noise.stream("iteration \(iteration) global_gram")
        SymmetricNoise.add(to: &gram, order: f, scale: scales.gram, from: &stream)
        do throws(LinalgError) { try SymmetricNoise.projectPositiveSemidefinite(&gram, order: f) } catch {
            throw .solveFailed(iteration: iteration, side: .items, row: -1, underlying: error)
        }
        var out = Matrix(rows: itemMajor.rows, columns: f)
        let scales = self.scales, lambda = Double(configuration.regularization), alpha = Double(configuration.alpha)
        let globalGram = gram
        try out.storage.withUnsafeMutableBufferPointer { (buffer) throws(TrainingError) in
            let result = SendableMutablePointer(buffer.baseAddress!)
            try parallel.forEach(chunks: itemMajor.rows, scratch: { () }) { (item: Int, _: inout ()) throws(TrainingError) in
                // Each item's noise is its own stream: the same draws for any thread count.
                var stats = ItemStatistics(item: item, itemMajor: itemMajor, users: users, alpha: alpha, unobservedWeight: a0)
                var stream = noise.stream("iteration \(iteration) item \(item)")
                stats.perturb(gramScale: scales.itemGram, rhsScale: scales.itemRHS, from: &stream)
                do throws(LinalgError) {
                    let v = try stats.solve(globalGram: globalGram, regularization: lambda)
                    for j in 0..<f { result.pointer[item * f + j] = Float(v[j]) }
                } catch { throw .solveFailed(iteration: iteration, side: .items, row: item, underlying: error) }
            }
        }
        if let row = out.firstNonFiniteRow() { throw .nonFiniteFactors(iteration: iteration, side: .items, row: row) }
        return out
    }
}

/// One item's sufficient statistics in Double: `A = Σ α·r·uuᵀ` (full symmetric, row-major) and
/// `b = Σ (α₀ + α·r)·u` over its users' clipped vectors.
struct ItemStatistics {
    let order: Int
    var gram: [Double]
    var rhs: [Double]

    init(item: Int, itemMajor: SparseMatrix, users: Matrix, alpha: Double, unobservedWeight: Double) {
        let f = users.columns
        order = f
        gram = [Double](repeating: 0, count: f * f)
        rhs = [Double](repeating: 0, count: f)
        let row = itemMajor.row(item)
        var u = [Double](repeating: 0, count: f)
        for (user, r) in zip(row.columns, row.values) {
            for j in 0..<f { u[j] = Double(users.storage[Int(user) * f + j]) }
            let w = alpha * Double(r), c = unobservedWeight + alpha * Double(r)
            for i in 0..<f {
                rhs[i] += c * u[i]
                let wi = w * u[i]
                for j in i..<f { gram[i * f + j] += wi * u[j] }
            }
        }
        for i in 0..<f { for j in 0..<i { gram[i * f + j] = gram[j * f + i] } }
    }

    mutating func perturb(gramScale: Double, rhsScale: Double, from stream: inout NoiseStream) {
        SymmetricNoise.add(to: &gram, order: order, scale: gramScale, from: &stream)
        for i in 0..<order { rhs[i] += rhsScale * stream.gaussian() }
    }

    /// `(G + PSD(A) + λI)⁻¹ b`.
    func solve(globalGram: [Double], regularization: Double) throws(LinalgError) -> [Double] {
        var a = gram
        try SymmetricNoise.projectPositiveSemidefinite(&a, order: order)
        for k in a.indices { a[k] += globalGram[k] }
        for i in 0..<order { a[i * order + i] += regularization }
        var b = rhs
        try a.withUnsafeMutableBufferPointer { (pa) throws(LinalgError) in
            try b.withUnsafeMutableBufferPointer { (pb) throws(LinalgError) in
                try LAPACK.solvePositiveDefinite(order: order, a: pa.baseAddress!, b: pb.baseAddress!)
            }
        }
        return b
    }
}

/// Gaussian noise on a symmetric matrix and the projection back to positive semi-definite.
enum SymmetricNoise {
    /// Adds `N(0, scale²)` to each entry on and above the diagonal, mirrored below: the upper
    /// triangle is the released vector, whose L2 norm `‖uuᵀ‖_F` bounds.
    static func add(to m: inout [Double], order f: Int, scale: Double, from stream: inout NoiseStream) {
        for i in 0..<f {
            for j in i..<f {
                let e = scale * stream.gaussian()
                m[i * f + j] += e
                if i != j { m[j * f + i] += e }
            }
        }
    }

    /// The nearest positive semi-definite matrix in Frobenius norm: the eigen-decomposition with
    /// negative eigenvalues set to 0.
    static func projectPositiveSemidefinite(_ m: inout [Double], order f: Int) throws(LinalgError) {
        var vectors = m, values = [Double](repeating: 0, count: f)
        try vectors.withUnsafeMutableBufferPointer { (pv) throws(LinalgError) in
            try values.withUnsafeMutableBufferPointer { (pw) throws(LinalgError) in
                try LAPACK.symmetricEigen(order: f, a: pv.baseAddress!, values: pw.baseAddress!)
            }
        }
        guard values.contains(where: { $0 < 0 }) else { return }
        for i in 0..<f { for j in 0..<f { m[i * f + j] = 0 } }
        for k in 0..<f where values[k] > 0 {
            // Column k of the column-major result is the k-th eigenvector.
            for i in 0..<f {
                let vi = values[k] * vectors[k * f + i]
                for j in 0..<f { m[i * f + j] += vi * vectors[k * f + j] }
            }
        }
    }
}

extension Matrix {
    /// Scales every row whose Euclidean norm exceeds `bound` down to just below it: to
    /// `bound·(1 − 10⁻⁶)`, so that the Float result's norm stays at most `bound` whatever its
    /// rounding.
    mutating func clipRows(toNorm bound: Double) {
        let target = bound * (1 - 1e-6)
        for r in 0..<rows {
            var sum: Double = 0
            for j in 0..<columns { sum += Double(storage[r * columns + j]) * Double(storage[r * columns + j]) }
            let norm = sum.squareRoot()
            guard norm > target else { continue }
            let s = target / norm
            for j in 0..<columns { storage[r * columns + j] = Float(Double(storage[r * columns + j]) * s) }
        }
    }
}
