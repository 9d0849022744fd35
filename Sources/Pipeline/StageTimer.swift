import Logging
import Platform

/// Wall time per stage of a run, logged as each stage ends.
struct StageTimer {
    let logger: Logger
    private let clock = ContinuousClock()
    private let started: ContinuousClock.Instant
    private var stageStart: ContinuousClock.Instant
    /// Seconds per stage name; a stage that runs several times (per recommender) adds up.
    private(set) var seconds: [String: Double] = [:]

    init(logger: Logger) {
        self.logger = logger
        started = clock.now
        stageStart = started
    }

    /// Seconds since the run started.
    var total: Double { Self.seconds(started.duration(to: clock.now)) }

    mutating func end(_ stage: String) {
        let now = clock.now
        seconds[stage, default: 0] += Self.seconds(stageStart.duration(to: now))
        logger.info("stage finished", metadata: [LogKey.stage: "\(stage)", LogKey.seconds: "\(seconds[stage]!)"])
        stageStart = now
    }

    static func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18 }
}
