import ArgumentParser
import Factorization
import Foundation
import Ingest
import Logging
import Pipeline
import Platform

extension ConsentRec {
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The nightly job: train every configured recommender, gate, audit and publish.",
            discussion: """
                Reads the config, the consent registry and the key; takes the output root's lock; audits \
                every kept run against today's registry and withdraws each that fails; reads \
                and filters the events once; evaluates every model on held-out data against its quality \
                gate; retrains what passes on all the data (carrying forward the last run's model where a \
                new one fails, if today's consent and retention still allow it); audits the new run against the registry; \
                publishes it atomically. A report goes to ROOT/reports/RUN_ID.json and .txt whatever \
                happens. Exit status: \(ExitStatus.summary) (docs/nightly.md#exit-statuses).
                """)

        @Option(help: "The TOML config (see data/nightly.toml and docs/nightly.md).") var config: String
        @Option(help: "Override output.root.") var out: String?
        @Option(help: "Override privacy.as_of (RFC 3339 or Unix seconds).") var asOf: String?
        @Option(help: "Override run.threads.") var threads: Int?
        @Option(help: "Log level: trace, debug, info, notice, warning, error.") var logLevel: Logger.Level = .info

        func validate() throws {
            if let asOf, Timestamp.parse(asOf) == nil { throw ValidationError("--as-of must be RFC 3339 or Unix seconds") }
            if let threads, !(1...ALSConfiguration.maxThreads).contains(threads) {
                throw ValidationError("--threads must be 1…\(ALSConfiguration.maxThreads) (as run.threads)")
            }
        }

        func run() throws {
            var logger = Logger(label: "consentrec.run")
            logger.logLevel = logLevel
            var loaded: NightlyConfig
            do {
                loaded = try NightlyConfig.load(path: config)
            } catch {
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                throw ExitCode(ExitCodes.configError)
            }
            if let out { loaded.outputRoot = out }
            if let asOf { loaded.asOf = Timestamp.parse(asOf) }
            if let threads { loaded.threads = threads }
            let display = ProgressDisplay(logger: logger)
            do {
                let report = try NightlyRun(config: loaded).execute(logger: logger, progress: display.update)
                display.finish()
                print(report.text)
                print("report: \(report.pagePath(root: loaded.outputRoot))")
                print("metrics: \(loaded.metricsFile ?? JobMetrics.defaultPath(root: loaded.outputRoot))")
            } catch {
                display.finish()
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                throw ExitCode(ExitCodes.status(for: error))
            }
        }
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
