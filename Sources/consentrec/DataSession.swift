import Consent
import Foundation
import Ingest
import Interactions
import Logging
import Pipeline
import Platform

/// The front half every data command shares: consent registry and key first (fail closed),
/// then the log, then the matrices.
struct DataSession {
    let reader: EventLogReader
    let files: [String]

    /// Loads the registry, then the key. Either failing stops the command before any event
    /// file is opened.
    static func open(_ data: DataOptions, logger: Logger) throws -> DataSession {
        let options = data.ingestOptions
        let registry = try RegistrySource.load(data.consentPath, asOf: options.asOf)
        let key = try PseudonymKey.load(file: data.keyFile)
        logger.info("consent registry loaded", metadata: [LogKey.registrySHA256: "\(registry.sha256)", LogKey.policy: "\(options.policy.rawValue)"])
        return DataSession(reader: EventLogReader(options: options, registry: registry, pseudonymiser: Pseudonymiser(key: key)), files: data.events)
    }

    func read(definitions: [RecommenderDefinition], logger: Logger) throws
        -> (EventLog, [(definition: RecommenderDefinition, matrices: [InteractionMatrix], usage: [MatrixUsage])])
    {
        let log = try reader.read(files, logger: logger) { progress in
            logger.info("reading", metadata: [LogKey.file: "\(progress.file)", LogKey.rows: "\(progress.rowsRead)", LogKey.kept: "\(progress.eventsKept)"])
        }
        let built = definitions.map { definition in
            let (matrices, usage) = InteractionMatrixBuilder(definition: definition).build(log)
            return (definition, matrices, usage)
        }
        return (log, built)
    }
}
