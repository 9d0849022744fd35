import ArgumentParser
import ConsentPostgres
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
        abstract: "The ConsentRec nightly job and hand retrain across the ranks of an OpenMPI job (run it under mpirun).",
        version: TrainingRun.toolVersion,
        subcommands: [Run.self, Train.self, BenchFit.self]
    )

    static func main() {
        BLASCore.prepareProcess(environment: ProcessInfo.processInfo.environment)
        // A consent registry may live in PostgreSQL (docs/data.md#the-registry-in-postgresql).
        RegistrySource.readDatabases(with: PostgresRegistry.load)
        main(nil)
    }

    static let statusTable = """
        Every rank exits with the run's status, the table of `consentrec run`: \(ExitStatus.summary) \
        (docs/nightly.md#exit-statuses; docs/scaling.md for the ranks).
        """
}

/// The options every subcommand takes: the nightly config and what may override it.
struct ClusterOptions: ParsableArguments {
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

    /// `body` on this rank with the config loaded and overridden, MPI begun and ended around
    /// it; exits with the run's status.
    func onEveryRank(_ label: String, _ body: (NightlyConfig, Communicator, Logger) throws(NightlyError) -> Void) throws {
        let world = Communicator()
        var logger = Logger(label: label)
        logger.logLevel = Logger.Level(rawValue: logLevel)!
        logger[metadataKey: "rank"] = "\(world.rank)"
        var status: Int32 = 0
        do {
            var loaded = try NightlyConfig.load(path: config)
            if let out { loaded.outputRoot = out }
            if let asOf { loaded.asOf = Timestamp.parse(asOf) }
            if let threads { loaded.threads = threads }
            do { try body(loaded, world, logger) } catch {
                if world.isLeader || !error.isOtherRank { FileHandle.standardError.write(Data("error (rank \(world.rank)): \(error)\n".utf8)) }
                status = ExitStatus.of(error)
            }
        } catch {
            if world.isLeader { FileHandle.standardError.write(Data("error: \(error)\n".utf8)) }
            status = ExitStatus.configError
        }
        world.finish()
        if status != 0 { throw ExitCode(status) }
    }
}

extension ConsentRecMPI {
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The nightly job on every rank: the same config, inputs and output root (shared storage) as `consentrec run`.",
            discussion: """
                Rank 0 takes the output root's lock and runs the consent purge; the inputs are read in \
                pieces across the ranks, through consent at the rank that reads them; each workspace's \
                events go to the rank that owns it, where its models are built, judged and trained; every \
                rank builds, judges and fits its own people's rows of a global model with the others; \
                rank 0 gathers the manifest, audits the run and publishes it. 
                """ + ConsentRecMPI.statusTable)

        @OptionGroup var options: ClusterOptions

        func run() throws {
            try options.onEveryRank("consentrec-mpi.run") { (config, world, logger) throws(NightlyError) in
                var run = ClusterNightlyRun(config: config, collective: world, configPath: options.config)
                run.stretchBytes = options.stretchBytes
                if let report = try run.execute(logger: logger) {
                    print(report.text)
                    print("report: \(report.pagePath(root: config.outputRoot))")
                    print("metrics: \(config.metricsFile ?? JobMetrics.defaultPath(root: config.outputRoot))")
                }
            }
        }
    }

    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Retrain by hand on every rank: what `consentrec train --config` trains, without evaluation or gates.",
            discussion: """
                Reads as `run` does, trains every workspace's models at the rank that owns it and each \
                global model across every rank, and publishes them as one run under the lock: the model \
                files and manifest of `consentrec train --config` on the same config. 
                """ + ConsentRecMPI.statusTable)

        @OptionGroup var options: ClusterOptions
        @Flag(help: "Publish user factors too (by default models hold item factors only).") var userFactors = false

        func run() throws {
            try options.onEveryRank("consentrec-mpi.train") { (config, world, logger) throws(NightlyError) in
                if world.isLeader, config.recommenders.contains(where: { $0.tune != nil }) {
                    FileHandle.standardError.write(Data(("warning: train does not tune; its models use the config's als values, not the "
                        + "values the nightly's [recommenders.X.tune] chooses\n").utf8))
                }
                var now = WireWriter()
                now.int64(Int64(Date().timeIntervalSince1970))
                var r = WireReader(world.broadcast(now.bytes))
                let asOf = config.asOf ?? ((try? r.int64()) ?? 0)
                var run = ClusterTrainingRun(request: TrainingRequest(nightly: config, asOf: asOf, includeUserFactors: userFactors), collective: world)
                run.stretchBytes = options.stretchBytes
                guard let result = try run.execute(logger: logger) else { return }
                print(UsageSummary.text(result.manifest.usage))
                print("published \(result.manifest.models.count) models (\(result.manifest.models.reduce(0) { $0 + $1.bytes } / 1024) KiB) as run \(result.manifest.runID)")
                print("run directory: \(result.runDirectory)")
                if !result.pruned.isEmpty { print("pruned old runs: \(result.pruned.joined(separator: ", "))") }
                if !result.purge.withdrawn.isEmpty { print(result.purge.summary) }
            }
        }
    }
}

extension NightlyError {
    var isOtherRank: Bool { if case .otherRank = self { true } else { false } }
}
