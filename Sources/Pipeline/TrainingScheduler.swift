import Factorization
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

        func fit(threads: Int, logger: Logger) throws(TrainingError) -> ALSModel {
            var configuration = configuration
            configuration.threads = threads
            return try ImplicitALS(configuration: configuration).fit(matrix, warmStart: warmStart, logger: logger)
        }
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
        let large = jobs.indices.filter { jobs[$0].matrix.nonZeros >= largeNonZeros }
        let small = jobs.indices.filter { jobs[$0].matrix.nonZeros < largeNonZeros }.sorted { jobs[$0].matrix.nonZeros > jobs[$1].matrix.nonZeros }
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
