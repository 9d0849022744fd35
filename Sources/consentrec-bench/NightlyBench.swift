import ArgumentParser
import Foundation
import Linalg
import Logging
import Pipeline
import SyntheticData

/// The nightly job on a generated log: total time, time per stage, peak RSS.
struct NightlyBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nightly", abstract: "Time the nightly job on a generated log (default 10M events, 2,000 workspaces).")

    @Option(help: "Events to generate.") var events = 10_000_000
    @Option(help: "Workspaces to generate.") var workspaces = 2000
    @Option(help: "Worker threads.") var threads = 2
    @Option(help: "Where the generated log is kept between runs.") var cache = "/tmp/consentrec-bench-ingest"

    func run() throws {
        print("machine: \(BLASCore.summary)")
        let directory = try SyntheticEventLog.cached(in: cache, events: events, workspaces: workspaces)
        let out = NSTemporaryDirectory() + "consentrec-bench-nightly-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let config = """
            [input]
            events = ["events.csv"]
            [consent]
            registry = "consent.csv"
            [privacy]
            key_file = "pseudonym.key"
            as_of = "2026-11-20T00:00:00Z"
            retention_days = 365
            [output]
            root = "\(out)"
            [run]
            threads = \(threads)
            [recommenders.channel.als]
            factors = 32
            regularization = 1.0
            [recommenders.emoji.als]
            factors = 32
            regularization = 1.0
            [recommenders.emoji.gate]
            min_lift_over_popularity = -1.0
            """
        let path = "\(directory)/bench-nightly.toml"
        try config.write(toFile: path, atomically: true, encoding: .utf8)
        let (report, seconds) = try measure { try NightlyRun(config: NightlyConfig.load(path: path)).execute(logger: .bench) }
        let stages = ["read", "build", "evaluate", "train", "publish"].map { "\($0) \(String(format: "%.1f", report.stageSeconds[$0] ?? 0)) s" }
        print(String(format: "nightly %d events, %d workspaces, %d threads: %.1f s total (%@); %d models published; peak RSS %.0f MiB",
                     report.usage.rowsRead, workspaces, threads, seconds, stages.joined(separator: ", "), report.published.count,
                     ResourceUsage.peakRSSMiB))
    }
}
