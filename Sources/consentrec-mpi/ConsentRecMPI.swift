import ArgumentParser
import Cluster
import ClusterMPI
import Factorization
import Ingest
import Foundation
import Linalg
import Logging
import Pipeline
import Platform

/// `consentrec` across the ranks of an OpenMPI job: `mpirun -np N consentrec-mpi run --config F`.
/// Every rank runs the same command; rank 0 prints the report.
@main
struct ConsentRecMPI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consentrec-mpi",
        abstract: "The ConsentRec nightly job across the ranks of an OpenMPI job (run it under mpirun).",
        version: TrainingRun.toolVersion,
        subcommands: [Run.self]
    )

    static func main() {
        BLASCore.prepareProcess(environment: ProcessInfo.processInfo.environment)
        main(nil)
    }
}

extension ConsentRecMPI {
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The nightly job on every rank: the same config, inputs and output root (shared storage) as `consentrec run`.",
            discussion: """
                Rank 0 takes the output root's lock and runs the consent purge; the inputs are read in \
                pieces across the ranks, through consent at the rank that reads them; each workspace's \
                events go to the rank that owns it, where its models are built, judged and trained; rank 0 \
                gathers the manifest, audits the run and publishes it. Every rank exits with the run's \
                status, the table of `consentrec run` (0 published, 1 training failed, 2 config error, \
                3 input error, 4 consent or key failure, 5 no model passed its gate, 6 privacy audit \
                failed, 7 I/O failure, 8 another run holds the lock, 9 nothing is published). See docs/scaling.md.
                """)

        @Option(help: "The TOML config (see data/nightly.toml and docs/nightly.md).") var config: String
        @Option(help: "Override output.root (storage every rank shares).") var out: String?
        @Option(help: "Override privacy.as_of (RFC 3339 or Unix seconds).") var asOf: String?
        @Option(help: "Override run.threads (threads per rank).") var threads: Int?
        @Option(help: "Log level: trace, debug, info, notice, warning, error.") var logLevel: String = "info"
        @Option(help: "Plain input files above this many bytes are read in stretches of about this size by different ranks.")
        var stretchBytes: Int = InputPlan.defaultStretchBytes

        func validate() throws {
            if let asOf, Timestamp.parse(asOf) == nil { throw ValidationError("--as-of must be RFC 3339 or Unix seconds") }
            if let threads, !(1...ALSConfiguration.maxThreads).contains(threads) {
                throw ValidationError("--threads must be 1…\(ALSConfiguration.maxThreads) (as run.threads)")
            }
            if stretchBytes < 4096 { throw ValidationError("--stretch-bytes must be at least 4096") }
            if Logger.Level(rawValue: logLevel) == nil { throw ValidationError("--log-level must be trace, debug, info, notice, warning or error") }
        }

        func run() throws {
            let world = Communicator()
            var logger = Logger(label: "consentrec-mpi.run")
            logger.logLevel = Logger.Level(rawValue: logLevel)!
            logger[metadataKey: "rank"] = "\(world.rank)"
            let status = execute(world, logger: logger)
            world.finish()
            if status != 0 { throw ExitCode(status) }
        }

        /// The run on this rank; its exit status.
        private func execute(_ world: Communicator, logger: Logger) -> Int32 {
            var loaded: NightlyConfig
            do {
                loaded = try NightlyConfig.load(path: config)
            } catch {
                if world.isLeader { FileHandle.standardError.write(Data("error: \(error)\n".utf8)) }
                return ExitStatus.configError
            }
            if let out { loaded.outputRoot = out }
            if let asOf { loaded.asOf = Timestamp.parse(asOf) }
            if let threads { loaded.threads = threads }
            do {
                var run = ClusterNightlyRun(config: loaded, collective: world, configPath: config)
                run.stretchBytes = stretchBytes
                if let report = try run.execute(logger: logger) {
                    print(report.text)
                }
                return 0
            } catch {
                if world.isLeader || !(error.isOtherRank) { FileHandle.standardError.write(Data("error (rank \(world.rank)): \(error)\n".utf8)) }
                return ExitStatus.of(error)
            }
        }
    }
}

extension NightlyError {
    var isOtherRank: Bool { if case .otherRank = self { true } else { false } }
}
