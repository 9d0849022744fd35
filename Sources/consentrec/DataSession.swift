import Consent
import Foundation
import Ingest
import Interactions
import Logging
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
        let registry = try ConsentRegistry.load(path: data.consentPath, asOf: options.asOf)
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

/// The readable form of the data-usage counts.
enum UsageSummary {
    static func text(_ u: RunUsage) -> String {
        var lines: [String] = []
        lines.append("files: " + u.files.map { "\($0.path) (\($0.format.rawValue)\($0.gzip ? ", gzip" : ""), \($0.rows) rows)" }.joined(separator: "; "))
        lines.append("rows read: \(u.rowsRead)")
        lines.append("bad rows: \(u.badRows.summary)")
        for example in u.badRows.examples { lines.append("  \(example)") }
        let consentEvents = ConsentExclusion.allCases.map { "\(u.eventsRemovedByConsent[$0, default: 0]) \($0.rawValue)" }.joined(separator: ", ")
        let consentWorkspaces = ConsentExclusion.allCases.map { "\(u.workspacesRemovedByConsent[$0, default: 0]) \($0.rawValue)" }.joined(separator: ", ")
        lines.append("consent (policy \(u.policy.rawValue)): events removed \(consentEvents); workspaces removed \(consentWorkspaces)")
        lines.append("retention: \(u.eventsRemovedByRetention) events older than the window, \(u.eventsRemovedAsFuture) after --as-of")
        lines.append("kept: \(u.eventsKept) events, \(u.workspacesKept) workspaces, \(u.usersKept) users, \(u.channelsKept) channels, \(u.emojiKept) emoji")
        for target in RecommenderDefinition.Target.allCases {
            let ms = u.matrices.filter { $0.recommender == target }
            guard !ms.isEmpty else { continue }
            let trained = ms.filter { $0.nonZeros > 0 }
            lines.append("\(target.rawValue) matrices: \(trained.count) (\(ms.first!.scope.rawValue) scope), "
                + "\(trained.reduce(0) { $0 + $1.users }) users, \(trained.reduce(0) { $0 + $1.nonZeros }) non-zeros; "
                + "thresholds removed \(ms.reduce(0) { $0 + $1.usersRemovedByThresholds }) users, "
                + "\(ms.reduce(0) { $0 + $1.itemsRemovedByThresholds }) items"
                + (ms.first!.scope == .global ? ", support removed \(ms.reduce(0) { $0 + $1.itemsRemovedBySupport }) emoji" : ""))
        }
        return lines.joined(separator: "\n")
    }
}
