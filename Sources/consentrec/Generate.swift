import ArgumentParser
import Foundation
import SyntheticData

extension ConsentRec {
    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a synthetic event log, consent registry and key for demos and benchmarks.",
            discussion: """
                Writes events.csv, consent.csv and pseudonym.key into DIR. The data has power-law \
                workspace sizes and user activity, planted channel teams, per-user emoji tastes, \
                custom emoji, and a registry with opted-out and opted-in workspaces. The key is \
                derived from the seed: fine for a demo, never for real data (make one with \
                `openssl rand -hex 32`).
                """)

        @Option(help: "Directory to write into (created if missing).") var out: String
        @Option(help: "Workspaces.") var workspaces = 40
        @Option(help: "Events, approximately.") var events = 200_000
        @Option(help: "Days the log spans, ending 2026-11-20.") var days = 30
        @Option(help: "Seed.") var seed: UInt64 = 1

        func validate() throws {
            guard workspaces >= 1 else { throw ValidationError("--workspaces must be at least 1") }
            guard events >= 1 else { throw ValidationError("--events must be at least 1") }
            guard days >= 1 else { throw ValidationError("--days must be at least 1") }
        }

        func run() throws {
            var options = SyntheticEventLog.Options()
            options.workspaces = workspaces
            options.events = events
            options.days = days
            options.seed = seed
            let written = try SyntheticEventLog(options: options).write(to: out)
            print("wrote \(written) events from \(workspaces) workspaces to \(out)/events.csv, with consent.csv and pseudonym.key")
        }
    }
}
