import Logging

extension Logger {
    /// The benchmarks' logger: warnings only, so the figures stay readable and a warning
    /// (a BLAS thread pool that cannot be pinned, a bad row) still shows.
    static var bench: Logger {
        var logger = Logger(label: "consentrec.bench")
        logger.logLevel = .warning
        return logger
    }
}
