import Logging

extension Logger {
    /// A logger for tests that prints nothing below critical.
    public static var quiet: Logger {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return logger
    }
}
