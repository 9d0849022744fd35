import ArgumentParser
import ConsentPostgres
import Foundation
import Linalg
import Pipeline

/// The ConsentRec command-line tool. Each subcommand turns its arguments into a
/// configuration and calls the library; no pipeline logic lives here.
@main
struct ConsentRec: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consentrec",
        abstract: "Train channel and emoji recommenders on consenting workspaces only.",
        version: TrainingRun.toolVersion,
        subcommands: [Run.self, Generate.self, ImportSlack.self, Ingest.self, Train.self, Evaluate.self, Recommend.self, Inspect.self, Audit.self, Purge.self]
    )

    /// Makes OpenBLAS use the kernels this CPU supports (restarting once if it must), then
    /// runs the command.
    static func main() {
        BLASCore.prepareProcess(environment: ProcessInfo.processInfo.environment)
        // A consent registry may live in PostgreSQL (docs/data.md#the-registry-in-postgresql).
        RegistrySource.readDatabases(with: PostgresRegistry.load)
        main(nil)
    }
}
