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
        /// A global model's person segments (`DistributedALS.segments`), which its users' Gram
        /// matrix is summed over; nil for a workspace's model.
        var segments: [Range<Int>]? = nil
        /// The ranks a global model's fit spreads over, this rank leading; nil: this process.
        var ranks: DistributedFit? = nil

        init(matrix: SparseMatrix, configuration: ALSConfiguration, warmStart: WarmStart? = nil) {
            self.matrix = matrix
            self.configuration = configuration
            self.warmStart = warmStart
        }

        /// A fit of `matrix`; a global one over its person segments, spread over the ranks of
        /// `collective` when it has more than one (from rank 0) — the same model either way.
        init(_ matrix: InteractionMatrix, configuration: ALSConfiguration, warmStart: WarmStart? = nil, collective: any Collective) {
            self.init(matrix: matrix.matrix, configuration: configuration, warmStart: warmStart)
            if matrix.scope == .global {
                segments = DistributedALS.segments(rows: matrix.matrix.rows)
                if collective.size > 1 { ranks = DistributedFit(collective: collective) }
            }
        }

        func fit(threads: Int, logger: Logger) throws(TrainingError) -> ALSModel {
            var configuration = configuration
            configuration.threads = threads
            if let ranks { return try ranks.fit(matrix, configuration: configuration, warmStart: warmStart, logger: logger) }
            return try ImplicitALS(configuration: configuration).fit(matrix, warmStart: warmStart, logger: logger, userSegments: segments)
        }

        /// Fitted alone with every thread: a large matrix, or one whose fit spreads over the
        /// ranks (its collectives must come from one thread, in order).
        var isLarge: Bool { matrix.nonZeros >= largeNonZeros || ranks != nil }
    }

    /// Non-zeros from which a matrix is trained with every thread.
    static let largeNonZeros = 50_000

    /// Every matrix fitted with one configuration, from random factors.
    static func fit(_ matrices: [SparseMatrix], configuration: ALSConfiguration, threads: Int, logger: Logger,
                    progress: (Int) -> Void) throws -> [ALSModel] {
        try fit(matrices.map { Job(matrix: $0, configuration: configuration) }, threads: threads, logger: logger, progress: progress)
    }

    static func fit(_ jobs: [Job], threads: Int, logger: Logger, progress: (Int) -> Void) throws -> [ALSModel] {
        var results = [ALSModel?](repeating: nil, count: jobs.count)
        let large = jobs.indices.filter { jobs[$0].isLarge }
        let small = jobs.indices.filter { !jobs[$0].isLarge }.sorted { jobs[$0].matrix.nonZeros > jobs[$1].matrix.nonZeros }
        var done = 0
        for i in large {
            results[i] = try jobs[i].fit(threads: threads, logger: logger)
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
