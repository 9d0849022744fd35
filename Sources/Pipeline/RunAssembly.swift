import Consent
import Evaluation
import Factorization
import Foundation
import Ingest
import Interactions
import Platform
import Privacy
@_spi(Testing) import Publishing

/// One run as it is written: freshly trained models, models carried from the last run, the
/// manifest and its seal, then the atomic publish. `consentrec train` and the nightly job
/// write every run through it, so model files and manifest entries are made one way.
final class RunAssembly {
    /// The run's writer: nil on a rank that joined a run rank 0 began (it adds model files only).
    let writer: RunWriter?
    let files: any RunFileWriting
    let runID: String
    let writerRoot: OutputRoot
    /// When the run's models were trained (RFC 3339).
    let trainedAt = Timestamp.format(Int64(Date().timeIntervalSince1970))
    private(set) var entries: [Manifest.Model] = []

    init(root: OutputRoot, runID: String, pseudonymiser: Pseudonymiser, faults: FaultInjection) throws {
        self.runID = runID
        writerRoot = root
        let writer = try root.beginRun(id: runID, seal: ManifestSeal(pseudonymiser: pseudonymiser), faults: faults)
        self.writer = writer
        files = writer
    }

    /// Another rank's view of the run rank 0 began: it writes its models' files there and
    /// hands their entries to rank 0 (`record`).
    init(joining root: OutputRoot, runID: String) throws {
        self.runID = runID
        writerRoot = root
        writer = nil
        files = try root.joinRun(id: runID)
    }

    /// Every model of the run, this rank's and the other ranks', in the manifest's order.
    func replaceEntries(_ all: [Manifest.Model]) { entries = all }

    /// Writes one freshly trained model with its provenance; returns its manifest entry. A
    /// private model (`privacy`) publishes its matrix's noisy user counts as its popularity.
    @discardableResult
    func add(
        _ model: ALSModel, of interactions: InteractionMatrix, definition: RecommenderDefinition, hyperparameters: ModelFile.Hyperparameters,
        ranker: Ranker, includeUserFactors: Bool = false, users: SpreadUsers? = nil, metrics: [String: Double]? = nil, tunedOn: [String]? = nil,
        provenance: Provenance? = nil, warmStartedFrom: String? = nil, privacy: PrivacyPlan? = nil
    ) throws -> Manifest.Model {
        let provenance = provenance ?? interactions.provenance
        var file = ModelFile(
            recommender: definition.target.rawValue, scope: definition.scope.rawValue, workspace: interactions.workspace,
            itemIDs: interactions.itemIDs, itemFactors: model.itemFactors,
            userIDs: includeUserFactors ? users?.ids ?? interactions.userIDs : nil, userFactors: includeUserFactors ? users?.factors ?? model.userFactors : nil,
            hyperparameters: hyperparameters,
            support: interactions.itemWorkspaceCounts.map {
                ModelFile.Support(itemWorkspaceCounts: $0, itemUserCounts: interactions.itemUserCounts ?? [],
                                  minWorkspaces: definition.minEmojiWorkspaces, minUsers: definition.minEmojiUsers)
            },
            provenance: provenance, ranker: ranker,
            // A private model's popularity is its noisy user counts: the exact ones are not released.
            itemPopularity: privacy != nil ? interactions.itemUserCounts : interactions.columnUsers)
        file.tunedOn = tunedOn
        file.privacy = privacy
        let data = file.encode()
        let path = "models/\(definition.target.rawValue)/\(interactions.workspace ?? "global").safetensors"
        let sha = try files.write(data, to: path)
        var entry = Manifest.Model(
            path: path, recommender: definition.target.rawValue, scope: definition.scope.rawValue, workspace: interactions.workspace,
            users: interactions.totalUsers, items: interactions.matrix.columns, factors: hyperparameters.factors,
            nonZeros: interactions.totalNonZeros, bytes: data.count, sha256: sha, metrics: metrics,
            ranker: ranker.description, trainedAt: trainedAt, provenance: provenance)
        entry.tunedOn = tunedOn
        entry.warmStartedFrom = warmStartedFrom
        entry.privacy = privacy
        entries.append(entry)
        return entry
    }

    /// Copies a model of an earlier run into this one byte for byte: the bytes read once and
    /// checked against that run's manifest are the bytes written. The entry keeps its metrics,
    /// training time and provenance and says which run it was trained in.
    @discardableResult
    func carry(_ entry: Manifest.Model, from run: PublishedRun) throws -> Manifest.Model {
        _ = try files.write(try run.checkedModel(entry).bytes, to: entry.path)
        var carried = entry
        carried.carriedFrom = entry.carriedFrom ?? run.manifest.runID
        entries.append(carried)
        return carried
    }

    /// Writes the manifest and its seal; returns the unpublished run for the privacy gate.
    func stage(_ manifest: Manifest) throws -> PublishedRun { try writer!.stage(manifest: manifest) }

    /// Makes the staged run durable and current. - Returns: its directory.
    func publish() throws -> String { try writer!.publishStaged() }

    /// Removes the unpublished run.
    func abandon() { writer?.abandon() }
}

/// What a run's manifest says beyond its models.
struct RunRecord {
    let runID: String
    let asOf: Int64
    let configuration: RunConfiguration
    let consentPath: String
    let registry: ConsentRegistry
    /// Pseudonyms of the workspaces whose events were read (`workspacesRead(log)`).
    let workspacesRead: Set<String>
    let usage: RunUsage

    static func workspacesRead(_ log: EventLog) -> Set<String> { Set(log.workspaces.map { log.vocabulary.workspaces[Int($0)] }) }

    /// The manifest: inputs with checksums, consent, usage, and every workspace that was read
    /// or shaped any model (carried ones included).
    func manifest(models: [Manifest.Model]) throws -> Manifest {
        // Checksums of the bytes read, taken while reading: never a second look at the inputs.
        let inputs = usage.files.map { Manifest.Input(path: $0.path, sha256: $0.sha256, rows: $0.rows, format: $0.format.rawValue, gzip: $0.gzip) }
        var used = workspacesRead
        for m in models { used.formUnion(m.shapedBy) }
        return Manifest(
            toolVersion: TrainingRun.toolVersion, runID: runID, createdAt: Timestamp.format(Int64(Date().timeIntervalSince1970)),
            asOf: Timestamp.format(asOf), retentionDays: configuration.data.retentionDays, configDigest: configuration.digest,
            inputs: inputs, consent: .init(policy: configuration.data.policy, registryPath: RegistrySource.display(consentPath), registrySHA256: registry.sha256),
            usage: usage, workspacesUsed: used.sorted(), recommenders: configuration.manifestRecommenders, models: models)
    }
}
