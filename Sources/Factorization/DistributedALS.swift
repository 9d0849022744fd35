import Cluster
import Linalg
import Logging
import Platform

/// `ImplicitALS` with its users spread over the ranks of a distributed run: each rank holds
/// the rows of some people and solves them; the items are solved in slices, one per rank, and
/// every rank holds all item factors between iterations.
///
/// Per iteration, as Spark's blocked ALS does, each rank ships the user factors an item slice
/// needs to that slice's rank (the rows it ships were fixed once per fit: the users with an
/// entry in the slice), the ranks gather the users' Gram products and the solved item slices,
/// and each rank forms the items' Gram matrix itself.
///
/// Every sum has a fixed order: the users' Gram matrix is summed over the shards' person
/// segments (`Cluster.PersonSegments`: the same segments whatever the rank count, each held
/// whole by one rank) in segment order, and an item's row reads its users in row order. A fit
/// therefore gives the bits `ImplicitALS.fit(_:userSegments:)` gives with the same segments,
/// on any number of ranks.
public struct DistributedALS: Sendable {
    /// The rows of the people one rank holds.
    public struct Shard: Sendable {
        /// This rank's rows (a run of consecutive global rows), every column.
        public let rows: SparseMatrix
        /// The global row of `rows`' first.
        public let firstRow: Int
        /// Every rank's rows together.
        public let totalRows: Int
        /// This rank's person segments, in its own row numbers, covering its rows in order.
        public let segments: [Range<Int>]

        public init(rows: SparseMatrix, firstRow: Int, totalRows: Int, segments: [Range<Int>]) {
            self.rows = rows
            self.firstRow = firstRow
            self.totalRows = totalRows
            self.segments = segments
        }

        /// Rank `rank`'s shard of a whole matrix (benchmarks and checks that hold the whole
        /// matrix on every rank; a run sends each rank its own rows instead): the segments
        /// `PersonSegments.held(by:of:)` gives it.
        public init(of matrix: SparseMatrix, rank: Int, ranks: Int) {
            let all = DistributedALS.segments(rows: matrix.rows)
            let mine = PersonSegments.held(by: rank, of: ranks).map { all[$0] }
            let first = mine.first?.lowerBound ?? matrix.rows, end = mine.last?.upperBound ?? matrix.rows
            self.init(rows: matrix.rows(first..<end), firstRow: first, totalRows: matrix.rows,
                      segments: mine.map { $0.lowerBound - first..<$0.upperBound - first })
        }

        /// This shard's rows of a factor matrix over every row.
        public func rows(of whole: Matrix) -> Matrix {
            let f = whole.columns
            return Matrix(rows: rows.rows, columns: f, storage: Array(whole.storage[firstRow * f..<(firstRow + rows.rows) * f]))
        }
    }

    /// Equal person segments of a matrix with `rows` users: `PersonSegments.count` runs of
    /// consecutive rows, as equal as the count allows (some may be empty) — for a matrix whose
    /// rows have no workspaces (benchmarks, checks); a global recommender's matrix brings its own
    /// (`PersonRows`).
    public static func segments(rows: Int) -> [Range<Int>] {
        let n = PersonSegments.count
        return (0..<n).map { s in s * rows / n..<(s + 1) * rows / n }
    }

    public let configuration: ALSConfiguration
    public let collective: any Collective
    public let kernels: KernelLevel

    public init(configuration: ALSConfiguration, collective: any Collective, kernels: KernelLevel = .best) {
        self.configuration = configuration
        self.collective = collective
        self.kernels = kernels
    }

    /// A fit from the start one process gives the whole matrix — seeded random factors, with
    /// `warmStart` (mapped onto this rank's rows) laid over them. Every rank calls it, each
    /// with its shard; a start that cannot be made stops every rank.
    public func fit(_ shard: Shard, warmStart: WarmStart?, logger: Logger) throws(TrainingError) -> (users: Matrix, items: Matrix) {
        var start: (users: Matrix, items: Matrix)?
        let config = configuration
        try agree { () throws(TrainingError) in
            try config.validate()
            var generator = SeededGenerator(seed: config.seed)
            let mine = shard.firstRow..<shard.firstRow + shard.rows.rows
            var users = Matrix.random(rows: shard.totalRows, columns: config.factors, scale: 0.01, keeping: mine, using: &generator)
            var items = Matrix.random(rows: shard.rows.columns, columns: config.factors, scale: 0.01, using: &generator)
            if let warmStart {
                try warmStart.validate(rows: shard.rows.rows, columns: shard.rows.columns, factors: config.factors)
                warmStart.apply(users: &users, items: &items)
            }
            start = (users, items)
        }
        return try fit(shard, users: start!.users, items: start!.items, startsFromItems: warmStart?.startsFromItems == true, logger: logger)
    }

    /// Fits from a start every rank has (`ImplicitALS.start`): `users` this rank's rows of it,
    /// `items` all of them. Every rank calls it, each with its shard.
    /// - Returns: this rank's user factors and every item's.
    /// - Throws: `TrainingError` on every rank when any rank fails (`.otherRank` on the others).
    public func fit(
        _ shard: Shard, users start: Matrix, items: Matrix, startsFromItems: Bool, logger: Logger
    ) throws(TrainingError) -> (users: Matrix, items: Matrix) {
        let config = configuration
        var weights: SparseMatrix?
        try agree { () throws(TrainingError) in
            try config.validate()
            weights = try ImplicitALS.preferences(shard.rows, firstRow: shard.firstRow)
        }
        let plan = try agreed { () throws(TrainingError) in try ItemSlicePlan(weights: weights!, collective: collective) }
        let f = config.factors
        let parallel = ParallelFor(threads: config.threads)
        let solver: any RowSolver =
            switch config.solver {
            case .cholesky: CholeskySolver()
            case .conjugateGradient: ConjugateGradientSolver(steps: config.cgSteps, level: kernels)
            }
        let userSweep = HalfSweep(interactions: weights!, weighting: SweepWeighting(config, others: items.rows), side: .users)
        let itemSweep = HalfSweep(interactions: plan.itemMajor, weighting: SweepWeighting(config, others: shard.totalRows), side: .items)
        let pin = BLASThreadPin(logger: logger)
        defer { pin.release() }
        var users = start, items = items
        if startsFromItems {
            let itemGram = items.gram(ridge: userSweep.weighting.gramRidge, parallel: parallel)
            try agree { () throws(TrainingError) in
                do throws(TrainingError) { try userSweep.run(solver: solver, fixed: items, gram: itemGram, target: &users, parallel: parallel, iteration: 0) } catch {
                    throw Self.shifted(error, by: shard.firstRow)
                }
            }
        }
        for iteration in stride(from: 1, through: config.iterations, by: 1) {
            let userGram = Matrix.gram(summing: gatherPartials(users.gramPartials(segments: shard.segments, parallel: parallel)),
                                       order: f, ridge: itemSweep.weighting.gramRidge)
            let fixed = plan.shipUsers(users, collective: collective)
            var slice = Matrix(rows: plan.items.count, columns: f, storage: Array(items.storage[plan.items.lowerBound * f..<plan.items.upperBound * f]))
            try agree { () throws(TrainingError) in
                do throws(TrainingError) { try itemSweep.run(solver: solver, fixed: fixed, gram: userGram, target: &slice, parallel: parallel, iteration: iteration) } catch {
                    throw Self.shifted(error, by: plan.items.lowerBound)
                }
            }
            var w = WireWriter()
            w.floats(slice.storage)
            items = Matrix(rows: items.rows, columns: f, storage: collective.gather(w.bytes).flatMap { message in
                var r = WireReader(message)
                return (try? r.floats()) ?? []
            })
            let itemGram = items.gram(ridge: userSweep.weighting.gramRidge, parallel: parallel)
            try agree { () throws(TrainingError) in
                do throws(TrainingError) { try userSweep.run(solver: solver, fixed: items, gram: itemGram, target: &users, parallel: parallel, iteration: iteration) } catch {
                    throw Self.shifted(error, by: shard.firstRow)
                }
            }
            logger.debug("distributed als iteration finished", metadata: [LogKey.iteration: "\(iteration)"])
        }
        return (users, items)
    }

    /// A half-sweep's error with its row in the whole matrix's numbering (a rank solves rows
    /// from `offset` on), as one process would name it.
    private static func shifted(_ error: TrainingError, by offset: Int) -> TrainingError {
        switch error {
        case .nonFiniteFactors(let iteration, let side, let row): .nonFiniteFactors(iteration: iteration, side: side, row: row + offset)
        case .solveFailed(let iteration, let side, let row, let underlying): .solveFailed(iteration: iteration, side: side, row: row + offset, underlying: underlying)
        default: error
        }
    }

    /// Every rank's segment products, in rank order: the global segment order.
    private func gatherPartials(_ partials: [[Float]]) -> [[Float]] {
        var w = WireWriter()
        for p in partials { w.floats(p) }
        return collective.gather(w.bytes).flatMap { message in
            var r = WireReader(message), all: [[Float]] = []
            while !r.isAtEnd, let p = try? r.floats() { all.append(p) }
            return all
        }
    }

    private func agreed<T>(_ body: () throws(TrainingError) -> T) throws(TrainingError) -> T {
        var value: T?
        try agree { () throws(TrainingError) in value = try body() }
        return value!
    }

    /// `body` on every rank, then agreement: a failed rank throws its error, the others
    /// `.otherRank` with the first failed rank's.
    private func agree(_ body: () throws(TrainingError) -> Void) throws(TrainingError) {
        var failure: TrainingError?
        do { try body() } catch { failure = error }
        var w = WireWriter()
        if let failure { w.string(failure.description) }
        let all = collective.gather(w.bytes)
        if let failure { throw failure }
        for (rank, message) in all.enumerated() where !message.isEmpty {
            var r = WireReader(message)
            throw .otherRank(rank: rank, reason: (try? r.string()) ?? "failed")
        }
    }
}
