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
    /// Non-zeros from which a matrix is trained with every thread.
    static let largeNonZeros = 50_000

    static func fit(_ matrices: [SparseMatrix], configuration: ALSConfiguration, threads: Int, logger: Logger,
                    progress: (Int) -> Void) throws -> [ALSModel] {
        var results = [ALSModel?](repeating: nil, count: matrices.count)
        let large = matrices.indices.filter { matrices[$0].nonZeros >= largeNonZeros }
        let small = matrices.indices.filter { matrices[$0].nonZeros < largeNonZeros }.sorted { matrices[$0].nonZeros > matrices[$1].nonZeros }
        var done = 0
        var wide = configuration
        wide.threads = threads
        for i in large {
            results[i] = try ImplicitALS(configuration: wide).fit(matrices[i], logger: logger)
            done += 1
            progress(done)
        }
        var narrow = configuration
        narrow.threads = 1
        let shared = Mutex<[ALSModel?]>(results)
        let quiet = logger
        try ParallelFor(threads: threads).forEach(chunks: small.count, scratch: {}) { (chunk: Int, _: inout Void) throws(TrainingError) in
            let i = small[chunk]
            let model = try ImplicitALS(configuration: narrow).fit(matrices[i], logger: quiet)
            shared.withLock { $0[i] = model }
        }
        progress(matrices.count)
        return shared.withLock { $0 }.map { $0! }
    }
}
