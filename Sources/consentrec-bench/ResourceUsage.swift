import Platform

/// Process resource figures for benchmark reports.
enum ResourceUsage {
    /// Peak resident set size of this process so far, in MiB (`getrusage`, `ru_maxrss`).
    static var peakRSSMiB: Double { Double(POSIX.peakResidentBytes) / 1_048_576 }
}

extension Duration {
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) * 1e-18
    }
}

/// Times a closure on the continuous clock.
func measure<T>(_ body: () throws -> T) rethrows -> (T, Double) {
    let clock = ContinuousClock()
    let start = clock.now
    let value = try body()
    return (value, start.duration(to: clock.now).seconds)
}
