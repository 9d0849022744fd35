import Linalg
import Logging
import Platform

/// Implicit-feedback matrix factorisation by alternating least squares.
///
/// Each iteration solves every item against the fixed user factors, then every user against
/// the new item factors (Spark's order). Ending on the user side means the trained user
/// factors are exactly what fold-in computes from the published item factors (with the
/// Cholesky solver), so evaluation with trained factors and serving with folded-in ones agree.
public struct ImplicitALS: Sendable {
    public let configuration: ALSConfiguration
    /// The level of the fused CG kernel. Every level gives the same bits, so it is not part of
    /// the configuration; the benchmarks compare them.
    public let kernels: KernelLevel

    public init(configuration: ALSConfiguration = ALSConfiguration(), kernels: KernelLevel = .best) {
        self.configuration = configuration
        self.kernels = kernels
    }

    /// Trains on a `users × items` matrix of non-negative interaction weights.
    ///
    /// The matrix is checked once at entry; entries of weight 0 carry no preference and are
    /// dropped. Factors are checked for NaN and infinity after every half-sweep.
    /// - Parameters:
    ///   - interactions: user-major weights `r`; confidence is `α₀ + α·r` (`1 + α·r` by default).
    ///   - warmStart: start from an earlier model's factors where it has them (seeded random
    ///     factors elsewhere); the configuration's `iterations` then counts from there. A start
    ///     from item factors alone first solves every user against them (a half-sweep before
    ///     the first iteration).
    ///   - logger: receives the BLAS thread-pool warning and per-iteration debug lines.
    ///   - reportLoss: compute the loss after every iteration (one extra pass over the data).
    ///   - progress: called after every iteration.
    ///   - userSegments: consecutive row ranges covering every user (a global model's person
    ///     buckets): the users' Gram matrix is summed per segment, in this order, as a
    ///     `DistributedALS` fit whose ranks hold whole segments sums it — so the two give the
    ///     same bits. Nil: one segment.
    /// - Throws: `TrainingError`.
    public func fit(
        _ interactions: SparseMatrix, warmStart: WarmStart? = nil, logger: Logger,
        reportLoss: Bool = false, userSegments: [Range<Int>]? = nil, progress: ((IterationReport) -> Void)? = nil
    ) throws(TrainingError) -> ALSModel {
        let config = configuration
        try config.validate()
        // r itself, shared with the caller's matrix (no copy unless it holds zeros); each solver
        // forms w = α·r where it reads an entry.
        let userWeights = try Self.preferences(interactions)
        let itemWeights = userWeights.transposed()

        var (users, items) = try Self.start(config, rows: interactions.rows, columns: interactions.columns, warmStart: warmStart)

        let userSweep = HalfSweep(interactions: userWeights, weighting: SweepWeighting(config, others: interactions.columns), side: .users)
        let itemSweep = HalfSweep(interactions: itemWeights, weighting: SweepWeighting(config, others: interactions.rows), side: .items)
        let parallel = ParallelFor(threads: config.threads)
        let solver: any RowSolver =
            switch config.solver {
            case .cholesky: CholeskySolver()
            case .conjugateGradient: ConjugateGradientSolver(steps: config.cgSteps, level: kernels)
            }

        let pin = BLASThreadPin(logger: logger)
        defer { pin.release() }
        if warmStart?.startsFromItems == true {
            // Published item factors and no users: solve the users against them first.
            let itemGram = items.gram(ridge: userSweep.weighting.gramRidge, parallel: parallel)
            try userSweep.run(solver: solver, fixed: items, gram: itemGram, target: &users, parallel: parallel, iteration: 0)
        }
        let clock = ContinuousClock()
        for iteration in stride(from: 1, through: config.iterations, by: 1) {
            let start = clock.now
            let userGram = users.gram(segments: userSegments ?? [0..<users.rows], ridge: itemSweep.weighting.gramRidge, parallel: parallel)
            try itemSweep.run(
                solver: solver, fixed: users, gram: userGram, target: &items, parallel: parallel,
                iteration: iteration)
            let itemGram = items.gram(ridge: userSweep.weighting.gramRidge, parallel: parallel)
            try userSweep.run(
                solver: solver, fixed: items, gram: itemGram, target: &users, parallel: parallel,
                iteration: iteration)
            let elapsed = start.duration(to: clock.now)
            let loss =
                reportLoss
                ? Self.loss(
                    interactions: userWeights, users: userSweep, items: itemSweep, userFactors: users, itemFactors: items,
                    gram: itemGram, parallel: parallel)
                : nil
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            logger.debug(
                "als iteration finished",
                metadata: [
                    LogKey.iteration: "\(iteration)", LogKey.seconds: "\(seconds)",
                    LogKey.loss: loss.map { "\($0)" } ?? "-",
                ])
            progress?(IterationReport(iteration: iteration, iterations: config.iterations, seconds: seconds, loss: loss))
        }
        return ALSModel(configuration: config, userFactors: users, itemFactors: items)
    }

    /// Where a fit starts: seeded random factors, users first, then items, from one generator
    /// (the same seed gives the same start), overlaid with `warmStart`'s rows where it has them.
    public static func start(
        _ config: ALSConfiguration, rows: Int, columns: Int, warmStart: WarmStart?
    ) throws(TrainingError) -> (users: Matrix, items: Matrix) {
        var generator = SeededGenerator(seed: config.seed)
        var users = Matrix.random(rows: rows, columns: config.factors, scale: 0.01, using: &generator)
        var items = Matrix.random(rows: columns, columns: config.factors, scale: 0.01, using: &generator)
        if let warmStart {
            try warmStart.validate(rows: rows, columns: columns, factors: config.factors)
            warmStart.apply(users: &users, items: &items)
        }
        return (users, items)
    }

    /// The interactions with zero entries dropped — the same matrix, storage shared, when it
    /// has none. Training reads `w = α·r` (so `c = 1 + w`) from it entry by entry rather than
    /// holding a scaled copy (320 MB at 40M non-zeros).
    /// - Throws: `TrainingError.invalidInput` for a negative value.
    /// - Parameter firstRow: the matrix's first row in the whole (a rank's shard), for the error.
    static func preferences(_ interactions: SparseMatrix, firstRow: Int = 0) throws(TrainingError) -> SparseMatrix {
        if let negative = interactions.values.firstIndex(where: { $0 < 0 }) {
            let row = firstRow + (interactions.rowPointers.lastIndex(where: { $0 <= negative }) ?? 0)
            throw .invalidInput(reason: "row \(row) has a negative weight "
                + "\(interactions.values[negative]); interaction weights must be ≥ 0")
        }
        if !interactions.values.contains(0) { return interactions }
        return interactions.compactMapValues { $0 > 0 ? $0 : nil }
    }
}
