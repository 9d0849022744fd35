import ArgumentParser
import Evaluation
import Foundation
import Logging
import Pipeline

extension ConsentRec {
    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Retrain by hand: read, filter, train every model and publish them as one run.",
            discussion: """
                Checks the consent registry and key, takes the output root's lock, reads the events \
                through the consent, validation and retention filters, trains one channel model per \
                workspace and the emoji model(s), and publishes the run atomically under ROOT/runs, \
                pointing ROOT/current at it. A failed run leaves ROOT/current as it was.
                """)

        @OptionGroup var data: DataOptions
        @OptionGroup var training: TrainingOptions
        @Option(help: "Output root: runs are written under ROOT/runs, ROOT/current is the published one.") var out: String
        @Option(help: "Complete runs to keep (the current one is never removed).") var keepRuns = 5
        @Flag(help: "Publish user factors too (by default models hold item factors only).") var userFactors = false
        @Option(help: "What every model ranks by: als (default), popularity, or blend:BETA (ALS score + BETA × popularity / max popularity). The nightly job chooses per model on held-out data instead.")
        var ranker: Ranker = .als

        func validate() throws {
            try data.requireEvents()
            guard keepRuns >= 1 else { throw ValidationError("--keep-runs must be at least 1") }
        }

        func run() throws {
            try ExitCodes.mapped {
                var logger = Logger(label: "consentrec")
                logger.logLevel = .info
                let display = ProgressDisplay(logger: logger)
                var request = TrainingRequest(
                    events: data.events, consentPath: data.consent, keyFile: data.keyFile, ingest: data.ingestOptions,
                    recommenders: training.definitions, als: training.configuration, outputRoot: out, keepRuns: keepRuns,
                    includeUserFactors: userFactors)
                request.ranker = ranker
                let result = try TrainingRun(request: request).execute(logger: logger, progress: display.update)
                display.finish()
                print(UsageSummary.text(result.manifest.usage))
                let bytes = result.manifest.models.reduce(0) { $0 + $1.bytes }
                print("published \(result.manifest.models.count) models (\(bytes / 1024) KiB) as run \(result.manifest.runID)")
                print("run directory: \(result.runDirectory)")
                print("current: \(out)/current")
                if !result.pruned.isEmpty { print("pruned old runs: \(result.pruned.joined(separator: ", "))") }
                if !result.purge.withdrawn.isEmpty { print(result.purge.summary) }
            }
        }
    }
}

extension Ranker: ExpressibleByArgument {
    public init?(argument: String) { self.init(parsing: argument) }
}
