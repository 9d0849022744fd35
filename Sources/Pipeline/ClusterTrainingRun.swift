import Cluster
import Consent
import Foundation
import Ingest
import Interactions
import Logging
import Platform
@_spi(Testing) import Publishing

/// A hand retrain across the ranks of a distributed run (`consentrec-mpi train`): the steps of
/// `TrainingRun`, each where its data is, as `ClusterNightlyRun` places the nightly's.
///
/// Rank 0 takes the lock and runs the consent purge; the read is `ClusterRead`'s; each rank
/// builds and trains its workspaces' matrices; every rank builds and fits its people's rows of a
/// global recommender's matrix together (`GlobalMatrixBuild`, `DistributedALS`), rank 0 writing
/// the model (a private one is made at rank 0 from the events gathered there); each rank writes its model files into
/// the run rank 0 began, and rank 0 gathers their entries and matrix counts, writes the manifest
/// and publishes. The ranks agree after every step that can fail; the model files and manifest
/// are the bytes `TrainingRun` writes on the same request.
public struct ClusterTrainingRun: Sendable {
    public let request: TrainingRequest
    public let collective: any Collective
    /// As `ClusterNightlyRun.stretchBytes`.
    public var stretchBytes = InputPlan.defaultStretchBytes
    private var single: TrainingRun { TrainingRun(request: request) }

    public init(request: TrainingRequest, collective: any Collective) {
        self.request = request
        self.collective = collective
    }

    /// Runs the retrain on this rank. - Returns: rank 0's result; nil on the other ranks.
    public func execute(logger: Logger) throws(NightlyError) -> TrainingResult? {
        if collective.isLeader { MachineLog.announce(logger) }
        let r = request
        let runID = String(decoding: collective.broadcast(Array(TrainingRun.makeRunID().utf8)), as: UTF8.self)
        let consent = try collective.agreed { () throws(NightlyError) in
            do { return try RunConsent.load(path: r.consentPath, policy: r.ingest.policy, keyFile: r.keyFile, asOf: r.ingest.asOf) } catch { throw .consent(error) }
        }
        let (lock, purge) = try collective.agreed { () throws(NightlyError) -> (RunLock?, PurgeOutcome) in
            do {
                try single.check()
                guard collective.isLeader else { return (nil, PurgeOutcome()) }
                let lock = try OutputRoot(path: r.outputRoot).lock()
                return (lock, try ConsentErasure(registry: consent.today, pseudonymiser: consent.pseudonymiser, policy: r.ingest.policy)
                    .purge(OutputRoot(path: r.outputRoot), logger: logger))
            } catch { throw NightlyRun.classify(error) }
        }
        defer { withExtendedLifetime(lock) {} }
        let reader = EventLogReader(options: r.ingest, registry: consent.registry, pseudonymiser: consent.pseudonymiser)
        let log = try ClusterRead(collective: collective, reader: reader, stretchBytes: stretchBytes).read(r.events, logger: logger)
        // Rank 0 begins the run; once it is there, the others join it.
        let begun = try collective.agreed { () throws(NightlyError) -> RunAssembly? in
            guard collective.isLeader else { return nil }
            do { return try RunAssembly(root: OutputRoot(path: r.outputRoot), runID: runID, pseudonymiser: consent.pseudonymiser, faults: r.faults) } catch {
                throw NightlyRun.classify(error)
            }
        }
        let assembly = try collective.agreed { () throws(NightlyError) -> RunAssembly in
            do { return try begun ?? RunAssembly(joining: OutputRoot(path: r.outputRoot), runID: runID) } catch { throw NightlyRun.classify(error) }
        }
        var matrices: [MatrixUsage] = []
        for rc in r.recommenders {
            matrices += try trainRecommender(rc, log, consent: consent, into: assembly, logger: logger)
        }
        let shares = collective.gather(TrainedShare(entries: assembly.entries, tallies: [:], workspaces: RunRecord.workspacesRead(log)).wire)
        return try collective.agreed { () throws(NightlyError) -> TrainingResult? in
            guard collective.isLeader else { return nil }
            do {
                let merged = try TrainedShare.merged(shares, order: r.recommenders.map(\.definition.target.rawValue))
                assembly.replaceEntries(merged.entries)
                var usage = RunUsage(read: log.usage)
                usage.matrices = matrices
                return try single.publish(assembly, consent: consent, usage: usage, workspacesRead: merged.workspaces, purge: purge, logger: logger)
            } catch { throw NightlyRun.classify(error) }
        }
    }

    /// One recommender's models trained where their data is and written into the run; its
    /// matrices' counts, every rank's, at rank 0 (in the order one process lists them).
    private func trainRecommender(
        _ rc: TrainingRequest.Recommender, _ log: EventLog, consent: RunConsent, into assembly: RunAssembly, logger: Logger
    ) throws(NightlyError) -> [MatrixUsage] {
        if rc.definition.scope == .global && rc.privacy != nil {
            // The private global model is fitted where its events are gathered: rank 0.
            let events = collective.gatherAtLeader(log, target: rc.definition.target)
            return try collective.agreed { () throws(NightlyError) -> [MatrixUsage] in
                guard let events else { return [] }
                do {
                    let (built, usage) = try single.build(rc, events, consent: consent, logger: logger)
                    for b in built { try single.train(b, into: assembly, collective: SingleRank(), logger: logger) }
                    return usage
                } catch { throw NightlyRun.classify(error) }
            }
        }
        if rc.definition.scope == .global {
            // Every rank builds and fits its people's rows, together; rank 0 writes the model.
            let usage = try collective.agreed { () throws(NightlyError) -> [MatrixUsage] in
                do {
                    let (built, usage) = try single.build(rc, log, consent: consent, collective: collective, logger: logger)
                    for b in built { try single.train(b, into: assembly, collective: collective, logger: logger) }
                    return usage
                } catch { throw NightlyRun.classify(error) }
            }
            return collective.isLeader ? usage : []
        }
        let usage = try collective.agreed { () throws(NightlyError) -> [MatrixUsage] in
            do {
                let (built, usage) = try single.build(rc, log, consent: consent, logger: logger)
                for b in built { try single.train(b, into: assembly, collective: collective, logger: logger) }
                return usage
            } catch { throw NightlyRun.classify(error) }
        }
        var w = WireWriter()
        w.blob(Array((try? JSONEncoder().encode(usage)) ?? Data()))
        return collective.gather(w.bytes).flatMap { message -> [MatrixUsage] in
            var r = WireReader(message)
            return (try? r.blob()).flatMap { try? JSONDecoder().decode([MatrixUsage].self, from: Data($0)) } ?? []
        }.sorted { ($0.workspace ?? "") < ($1.workspace ?? "") }
    }
}
