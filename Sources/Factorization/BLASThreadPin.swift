import Foundation
import Linalg
import Logging
import Platform

/// Pins OpenBLAS's own thread pool to one thread while the trainer's threads run.
///
/// The trainer already keeps every core busy with one row per thread; if each of its BLAS
/// calls also woke OpenBLAS's pool, the threads would oversubscribe the cores and spin on each
/// other (`implicit` measures up to 10× slower). The previous setting is restored afterwards.
struct BLASThreadPin {
    /// Environment variables through which OpenBLAS is told how many threads to use.
    static let environmentKeys = ["OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS"]

    private let previous: Int

    init(logger: Logger) {
        previous = BLASThreads.current
        let environment = ProcessInfo.processInfo.environment
        for key in Self.environmentKeys {
            if let value = environment[key], let n = Int(value), n > 1 {
                logger.warning(
                    "BLAS thread count from the environment is overridden to 1 during training",
                    metadata: [LogKey.variable: "\(key)", LogKey.value: "\(n)"])
            }
        }
        BLASThreads.set(1)
        if BLASThreads.current != 1 {
            logger.warning(
                "BLAS library ignored the request for one thread; training will oversubscribe cores",
                metadata: [LogKey.blasThreads: "\(BLASThreads.current)"])
        }
    }

    func release() { BLASThreads.set(previous) }
}
