import Cluster
import Factorization
import Interactions
import Linalg
import Logging
import Synchronization

/// Trains many matrices — thousands of small workspaces and a few large ones — so that the
/// whole set takes little more than its total work.
///
/// Large matrices are trained one at a time with every thread inside; the small ones run in
/// parallel, one thread each, largest first. Models do not depend on the thread count, so the
/// schedule never changes a byte.
enum TrainingScheduler {
    /// One model to fit: its matrix, hyper-parameters and, optionally, the factors it starts from.
    struct Job {
        let matrix: SparseMatrix
        let configuration: ALSConfiguration
        var warmStart: WarmStart? = nil
        /// A global model's rows (`PersonRows`): its users' Gram matrix is summed over their
        /// person segments; nil for a workspace's model.
        var persons: PersonRows? = nil
        /// The ranks a global model's rows are spread over: every rank fits its own rows
        /// together (`DistributedALS`) when there are more than one.
        var collective: any Collective = SingleRank()

        init(matrix: SparseMatrix, configuration: ALSConfiguration, warmStart: WarmStart? = nil) {
            self.matrix = matrix
            self.configuration = configuration
            self.warmStart = warmStart
        }

        /// A fit of `matrix`; a global one over its person segments, with every rank of
        /// `collective` fitting its rows together — the same model however they are spread.
        init(_ matrix: InteractionMatrix, configuration: ALSConfiguration, warmStart: WarmStart? = nil, collective: any Collective) {
            self.init(matrix: matrix.matrix, configuration: configuration, warmStart: warmStart)
            persons = matrix.persons
            self.collective = collective
        }

        /// - Returns: the model; a spread global fit's holds this rank's users' factors.
        func fit(threads: Int, logger: Logger) throws(TrainingError) -> ALSModel {
            var configuration = configuration
            configuration.threads = threads
            guard let persons, isSpread else {
                return try ImplicitALS(configuration: configuration).fit(matrix, warmStart: warmStart, logger: logger, userSegments: persons?.rows)
            }
            let shard = DistributedALS.Shard(rows: matrix, firstRow: persons.firstRow, totalRows: persons.totalRows, segments: persons.rows)
            let (users, items) = try DistributedALS(configuration: configuration, collective: collective).fit(shard, warmStart: warmStart, logger: logger)
            return ALSModel(configuration: configuration, userFactors: users, itemFactors: items)
        }

        /// The fit with its training loss after every iteration (`ImplicitALS.loss`, one
        /// extra pass over the data each); a fit spread over the ranks records none.
        func fitRecordingLoss(threads: Int, logger: Logger) throws(TrainingError) -> (model: ALSModel, loss: [Double]?) {
            guard !isSpread else { return (try fit(threads: threads, logger: logger), nil) }
            var configuration = configuration
            configuration.threads = threads
            var losses: [Double] = []
            let model = try ImplicitALS(configuration: configuration).fit(
                matrix, warmStart: warmStart, logger: logger, reportLoss: true, userSegments: persons?.rows) { losses.append($0.loss ?? .nan) }
            return (model, losses)
        }

        /// A global fit over more than one rank, in step with the others.
        var isSpread: Bool { persons != nil && collective.size > 1 }

        /// Fitted alone with every thread: a large matrix, or a global one (whose fit may spread
        /// over the ranks: its collectives must come from one thread, in order).
        var isLarge: Bool { matrix.nonZeros >= largeNonZeros || persons != nil }
    }

    /// Non-zeros from which a matrix is trained with every thread.
    static let largeNonZeros = 50_000

    /// Every matrix fitted with one configuration, from random factors.
    static func fit(_ matrices: [SparseMatrix], configuration: ALSConfiguration, threads: Int, logger: Logger,
                    progress: (Int) -> Void) throws -> [ALSModel] {
        try fit(matrices.map { Job(matrix: $0, configuration: configuration) }, threads: threads, logger: logger, progress: progress)
    }

    /// - Parameter loss: given, each large job (fitted alone) records its training loss per
    ///   iteration and hands it over with its index; the models are the same bytes either way.
    static func fit(_ jobs: [Job], threads: Int, logger: Logger, loss: ((Int, [Double]) -> Void)? = nil,
                    progress: (Int) -> Void) throws -> [ALSModel] {
        var results = [ALSModel?](repeating: nil, count: jobs.count)
        let large = jobs.indices.filter { jobs[$0].isLarge }
        let small = jobs.indices.filter { !jobs[$0].isLarge }.sorted { jobs[$0].matrix.nonZeros > jobs[$1].matrix.nonZeros }
        var done = 0
        for i in large {
            if let loss {
                let fitted = try jobs[i].fitRecordingLoss(threads: threads, logger: logger)
                results[i] = fitted.model
                if let curve = fitted.loss { loss(i, curve) }
            } else {
                results[i] = try jobs[i].fit(threads: threads, logger: logger)
            }
            done += 1
            progress(done)
        }
        let shared = Mutex<[ALSModel?]>(results)
        let quiet = logger
        try ParallelFor(threads: threads).forEach(chunks: small.count, scratch: {}) { (chunk: Int, _: inout Void) throws(TrainingError) in
            let i = small[chunk]
            let model = try jobs[i].fit(threads: 1, logger: quiet)
            shared.withLock { $0[i] = model }
        }
        progress(jobs.count)
        return shared.withLock { $0 }.map { $0! }
    }
}
