import Consent
import Evaluation
import Factorization
import Foundation
import Ingest
import Interactions
import Linalg
import Logging
import Publishing

/// Recommends for one user from a published run: the user's own events are read from the
/// given files, weighted exactly as in training, folded into a user vector against the
/// model's item factors, and ranked.
public struct UserRecommendation: Sendable {
    public struct Item: Sendable, Codable, Equatable {
        /// Row in the model's item factors.
        public let row: Int
        /// The operator's raw id when the events let it be resolved, else the pseudonym (for
        /// emoji, the name).
        public let id: String
        public let score: Float
    }

    /// What was recommended, with what went into it (for `scripts/check_model.py`).
    public struct Result: Sendable, Codable {
        public let model: String
        public let recommender: String
        /// What the model ranks by (`als`, `popularity`, `blend:β`).
        public let ranker: String
        /// Model rows the user interacted with, and their training weights.
        public let userItems: [Int]
        public let userWeights: [Float]
        /// Model rows left out of the ranking (channels the user is in).
        public let excluded: [Int]
        public let k: Int
        public let recommendations: [Item]

        enum CodingKeys: String, CodingKey {
            case model, recommender, ranker, k, recommendations, excluded
            case userItems = "user_items"
            case userWeights = "user_weights"
        }
    }

    public enum Failure: Error, CustomStringConvertible {
        case noModel(recommender: String)
        case noEvents(files: [String])
        /// The workspace may not be served: the registry excludes it today.
        case excluded(reason: String)
        /// The model was shaped by a workspace the registry excludes today.
        case modelNotAllowed(path: String, reasons: [String])
        case invalidID(field: String, problem: IDGrammar.Problem)

        public var description: String {
            switch self {
            case .noModel(let recommender):
                "the run has no \(recommender) model for this workspace (opted out, below the thresholds, or no data)"
            case .noEvents(let files):
                "the user has no usable events in \(files.joined(separator: ", ")) (within the retention window); there is nothing to fold in"
            case .excluded(let reason):
                "refused: \(reason) in the consent registry; nothing of this workspace may be used"
            case .modelNotAllowed(let path, let reasons):
                "refused: the model \(path) was trained on events of a workspace the registry excludes now ("
                    + reasons.joined(separator: "; ") + "); `consentrec purge` or the next run withdraws it"
            case .invalidID(let field, let problem):
                "the \(field) is not a valid id: \(problem.rawValue)"
            }
        }
    }

    public let runPath: String
    public let workspace: String
    public let user: String
    public let events: [String]
    public let keyFile: String?
    public let recommender: RecommenderDefinition.Target
    public let k: Int
    public let consentPath: String
    /// Default: the policy the run was trained under.
    public var policy: ConsentPolicy?
    /// Only the user's events of the last this many days are folded in; default: the run's window.
    public var retentionDays: Int?
    /// Unix seconds; default: now.
    public var asOf: Int64?

    public init(runPath: String, workspace: String, user: String, events: [String], keyFile: String?,
                recommender: RecommenderDefinition.Target, k: Int, consentPath: String) {
        self.consentPath = consentPath
        self.runPath = runPath
        self.workspace = workspace
        self.user = user
        self.events = events
        self.keyFile = keyFile
        self.recommender = recommender
        self.k = k
    }

    /// - Parameter logger: receives the reader's lines about the user's events.
    public func execute(logger: Logger) throws -> Result {
        // Consent first: the registry and the key, before the run is opened. Consent as of the
        // real time, whatever --as-of says: a future as-of must not bring a future opt-in into
        // force (opt-outs count from when they are recorded anyway).
        let clock = Int64(Date().timeIntervalSince1970)
        let registry = try RegistrySource.load(consentPath, asOf: clock)
        let pseudonymiser = Pseudonymiser(key: try PseudonymKey.load(file: keyFile))
        if let problem = IDGrammar.problem(workspace) { throw Failure.invalidID(field: "workspace", problem: problem) }
        if let problem = IDGrammar.problem(user) { throw Failure.invalidID(field: "user", problem: problem) }
        let served = try servedModel(registry: registry, pseudonymiser: pseudonymiser)
        let log = try userEvents(pseudonymiser: pseudonymiser, now: asOf ?? clock, retentionDays: retentionDays ?? served.run.manifest.retentionDays,
                                 logger: logger)
        return try rank(served, log: log, userPseudonym: pseudonymiser.user(user, workspace: workspace))
    }

    /// The run's model for this workspace, if today's registry lets it serve the workspace and
    /// every workspace that shaped the model.
    private func servedModel(registry: ConsentRegistry, pseudonymiser: Pseudonymiser) throws -> ServedModel {
        let run = try PublishedRun.open(runPath, seal: ManifestSeal(pseudonymiser: pseudonymiser))
        let rules = ConsentRules(registry: registry, pseudonymiser: pseudonymiser,
                                 policy: (policy ?? run.manifest.consent.policy).stricter(run.manifest.consent.policy))
        let workspacePseudonym = pseudonymiser.workspace(workspace)
        if let reason = rules.violation(workspacePseudonym) { throw Failure.excluded(reason: reason) }
        guard let entry = run.manifest.models.first(where: {
            $0.recommender == recommender.rawValue && ($0.scope == "global" || $0.workspace == workspacePseudonym)
        }), let definition = run.manifest.recommenders.first(where: { $0.definition.target == recommender })?.definition else {
            throw Failure.noModel(recommender: recommender.rawValue)
        }
        let violations = entry.shapedBy.compactMap(rules.violation)
        guard violations.isEmpty else { throw Failure.modelNotAllowed(path: entry.path, reasons: violations) }
        return ServedModel(run: run, entry: entry, model: try run.model(entry), definition: definition)
    }

    private struct ServedModel {
        let run: PublishedRun
        let entry: Manifest.Model
        let model: ModelFile
        let definition: RecommenderDefinition
    }

    /// This workspace's events only (the registry admits nothing else), inside the retention
    /// window, with the raw channel ids kept for display.
    private func userEvents(pseudonymiser: Pseudonymiser, now: Int64, retentionDays: Int?, logger: Logger) throws -> EventLog {
        var options = IngestOptions(policy: .optIn, asOf: now, retentionDays: retentionDays)
        options.keepChannelIDsForDisplay = true
        return try EventLogReader(options: options, registry: .allowing([workspace]), pseudonymiser: pseudonymiser)
            .read(events, logger: logger)
    }

    /// The user's row, weighted as in training but without thresholds, folded in and ranked by
    /// the model's ranker. A popularity-ranked model serves a user without events too.
    private func rank(_ served: ServedModel, log: EventLog, userPseudonym: String) throws -> Result {
        let model = served.model
        let rowOf = Dictionary(uniqueKeysWithValues: model.itemIDs.enumerated().map { ($1, $0) })
        let (items, weights) = userItems(served, log: log, userPseudonym: userPseudonym, rowOf: rowOf)
        guard !items.isEmpty || model.ranker == .popularity else { throw Failure.noEvents(files: events) }
        var als = [Float](repeating: 0, count: model.itemIDs.count)
        if model.ranker.usesFactors {
            let h = model.hyperparameters
            let recommenderModel = Recommender(
                itemFactors: model.itemFactors, regularization: h.regularization, alpha: h.alpha,
                unobservedWeight: h.unobservedWeight ?? 1, regularizationExponent: h.regularizationExponent ?? 0)
            als = recommenderModel.scores(userVector: try recommenderModel.userVector(items: items, weights: weights))
        }
        var scores = als
        let popularity = PopularityBaseline(counts: (model.itemPopularity ?? []).map(Float.init))
        model.ranker.scores(als: als, popularity: popularity, into: &scores)
        let excluded = recommender == .channel ? memberships(log, userPseudonym).compactMap { rowOf[$0] }.sorted() : []
        for item in excluded { scores[item] = -.infinity }
        let top = scores.withUnsafeBufferPointer { TopK.select($0, k: k) }
        let display = displayIDs(log)
        let ranked = top.map { Item(row: $0.index, id: display[model.itemIDs[$0.index]] ?? model.itemIDs[$0.index], score: $0.score) }
        return Result(model: served.entry.path, recommender: recommender.rawValue, ranker: model.ranker.description, userItems: items,
                      userWeights: weights, excluded: excluded, k: k, recommendations: ranked)
    }

    /// The user's model rows and training weights (weighted as in training, without thresholds).
    private func userItems(_ served: ServedModel, log: EventLog, userPseudonym: String, rowOf: [String: Int]) -> ([Int], [Float]) {
        var definition = served.definition
        definition.scope = .workspace
        definition.minUserItems = 1
        definition.minItemUsers = 1
        let matrices = InteractionMatrixBuilder(definition: definition).build(log).matrices
        guard let matrix = matrices.first, let row = matrix.userIDs.firstIndex(of: userPseudonym) else { return ([], []) }
        var items: [Int] = [], weights: [Float] = []
        for (c, w) in zip(matrix.matrix.row(row).columns, matrix.matrix.row(row).values) {
            if let r = rowOf[matrix.itemIDs[Int(c)]] { items.append(r); weights.append(w) }
        }
        return (items, weights)
    }

    /// The operator's own channel ids by pseudonym, where the events let them be resolved.
    private func displayIDs(_ log: EventLog) -> [String: String] {
        guard recommender == .channel, let raw = log.displayChannelIDs else { return [:] }
        var display: [String: String] = [:]
        for (i, pseudonym) in log.vocabulary.channels.enumerated() { display[pseudonym] = raw[i] }
        return display
    }

    /// Channel pseudonyms the user is in now: their latest membership event there is a join
    /// (or they were active there without ever leaving).
    func memberships(_ log: EventLog, _ userPseudonym: String) -> [String] {
        guard let u = log.vocabulary.users.firstIndex(of: userPseudonym) else { return [] }
        var latest: [Int32: (Int64, Bool)] = [:]
        for i in 0..<log.count where log.users[i] == Int32(u) {
            let kind = log.kinds[i]
            let channel = log.channels[i]
            let inChannel = kind != .leave
            let isMembership = kind == .join || kind == .leave
            if let current = latest[channel] {
                if isMembership && (log.timestamps[i] > current.0 || (log.timestamps[i] == current.0 && !inChannel)) {
                    latest[channel] = (log.timestamps[i], inChannel)
                }
            } else {
                latest[channel] = (isMembership ? log.timestamps[i] : Int64.min, inChannel)
            }
        }
        return latest.filter { $0.value.1 }.map { log.vocabulary.channels[Int($0.key)] }
    }
}
