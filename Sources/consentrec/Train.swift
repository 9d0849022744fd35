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
                pointing ROOT/current at it. A failed run leaves ROOT/current as it was. With \
                --config, retrains what the nightly job with that config trains (its inputs, \
                consent, data options, recommenders, hyper-parameters and output root), without \
                its evaluation and gates; every option given overrides the config's value.
                """)

        @OptionGroup var configOption: ConfigOption
        @OptionGroup var data: DataOptions
        @OptionGroup var training: TrainingOptions
        @Option(help: "Output root: runs are written under ROOT/runs, ROOT/current is the published one (with --config: default output.root).")
        var out: String?
        @Option(help: "Complete runs to keep (the current one is never removed; default 5, with --config output.keep_runs).") var keepRuns: Int?
        @Flag(help: "Publish user factors too (by default models hold item factors only).") var userFactors = false
        @Option(help: "What every model ranks by: als (default; with --config each recommender's ranker.unjudged), popularity, or blend:BETA (ALS score + BETA × popularity / max popularity). The nightly job chooses per model on held-out data instead.")
        var ranker: Ranker?

        func validate() throws {
            if configOption.config == nil {
                try data.requireEvents()
                guard out != nil else { throw ValidationError("give --out ROOT (or --config, whose output.root is used)") }
            }
            if let keepRuns, keepRuns < 1 { throw ValidationError("--keep-runs must be at least 1") }
        }

        func run() throws {
            try ExitCodes.mapped {
                var logger = Logger(label: "consentrec")
                logger.logLevel = .info
                let display = ProgressDisplay(logger: logger)
                let config = try configOption.load()
                try data.checkStricter(than: config, publishing: true)
                try training.checkStricter(than: config)
                if let config, config.recommenders.contains(where: { $0.tune != nil }) {
                    FileHandle.standardError.write(Data(("warning: train does not tune; its models use the config's als values, not the "
                        + "values the nightly's [recommenders.X.tune] chooses (evaluate --config or run tune)\n").utf8))
                }
                let recommenders = try training.recommenders(over: config).map { rc in
                    TrainingRequest.Recommender(definition: rc.definition, als: rc.als, ranker: ranker ?? (config == nil ? .als : rc.ranker.unjudged),
                                                privacy: rc.privacy)
                }
                let root = out ?? config!.outputRoot
                let request = TrainingRequest(
                    events: data.events(over: config), consentPath: data.consentPath(over: config), keyFile: data.keyFile(over: config),
                    ingest: data.ingestOptions(over: config), recommenders: recommenders, outputRoot: root,
                    keepRuns: keepRuns ?? config?.keepRuns ?? 5, includeUserFactors: userFactors)
                let result = try TrainingRun(request: request).execute(logger: logger, progress: display.update)
                display.finish()
                print(UsageSummary.text(result.manifest.usage))
                let bytes = result.manifest.models.reduce(0) { $0 + $1.bytes }
                print("published \(result.manifest.models.count) models (\(bytes / 1024) KiB) as run \(result.manifest.runID)")
                print("run directory: \(result.runDirectory)")
                print("current: \(root)/current")
                if !result.pruned.isEmpty { print("pruned old runs: \(result.pruned.joined(separator: ", "))") }
                if !result.purge.withdrawn.isEmpty { print(result.purge.summary) }
            }
        }
    }
}

extension Ranker: ExpressibleByArgument {
    public init?(argument: String) { self.init(parsing: argument) }
}
