import Consent
import Evaluation
import Foundation
import Linalg
import Platform
import Privacy

/// One published model: what determines it and nothing else, so the same training data gives
/// the same bytes. Stored as safetensors:
///
/// - tensor `item_factors` `[items, factors]`; `user_factors` `[users, factors]` only when
///   the operator asks for user factors;
/// - metadata (strings): `format` (`consentrec-als-3`), `recommender`, `scope`, `workspace`
///   (a pseudonym, or empty for a global model), `item_ids` (JSON array, row order),
///   `user_ids` (with user factors), `hyperparameters` (JSON), `ranker` (`als`, `popularity`
///   or `blend:β`: what the model ranks by, `Ranker`), `item_popularity` (JSON array: users
///   per item in the training data, row order), the provenance —
///   `contributors` (JSON array of the workspace pseudonyms whose events shaped the model),
///   `tuned_on` (JSON array, for a model with tuned hyper-parameters: the workspaces whose
///   validation events chose them),
///   `events_from` and `events_to` (RFC 3339) — and for global models
///   `item_workspace_counts`, `item_user_counts`, `min_workspaces`, `min_users`; for a private
///   model `privacy` (JSON: the `PrivacyPlan` — ε, δ, the bounding parameters and every
///   Gaussian mechanism composed, so that ε can be recomputed; docs/privacy.md).
///
/// In Python: `f = safe_open(path, "np"); y = f.get_tensor("item_factors");
/// ids = json.loads(f.metadata()["item_ids"])`.
///
/// Files of the previous format, `consentrec-als-2` (before rankers), are read as ALS-ranked
/// models without a popularity vector.
public struct ModelFile: Sendable, Equatable {
    public static let format = "consentrec-als-3"
    public static let previousFormat = "consentrec-als-2"

    public var recommender: String
    public var scope: String
    /// Pseudonym of the workspace, or nil for a global model.
    public var workspace: String?
    public var itemIDs: [String]
    public var itemFactors: Matrix
    public var userIDs: [String]?
    public var userFactors: Matrix?
    public var hyperparameters: Hyperparameters
    public var support: Support?
    /// The workspaces and time span of the events that shaped the model.
    public var provenance: Provenance
    /// What the model ranks by.
    public var ranker: Ranker
    /// Users per item in the training data (row order): the popularity a `popularity` or
    /// `blend` ranker scores by. Nil only in a file of the previous format.
    public var itemPopularity: [Int]?
    /// For a model whose hyper-parameters were tuned: the pseudonyms of the workspaces whose
    /// validation events chose them (for a per-workspace model, its size bucket's). They shaped
    /// the model as much as its contributors did, so consent applies to them alike.
    public var tunedOn: [String]?
    /// For a differentially private model: the plan its noise was calibrated by. Its support
    /// counts and popularity are then noisy, and its provenance's time span is the run's window.
    public var privacy: PrivacyPlan?

    /// The hyper-parameters that determine a model (not the thread count, which does not).
    public struct Hyperparameters: Sendable, Equatable, Codable {
        public var factors: Int
        public var regularization: Float
        public var alpha: Float
        public var iterations: Int
        public var solver: String
        public var cgSteps: Int
        public var seed: UInt64
        /// Iterations run from the nightly's held-out model's factors in place of `iterations`
        /// from seeded random ones; nil for a fit from random factors. In a manifest's
        /// recommender entry: the configured count, applied to each model that has a held-out
        /// model.
        public var warmStartIterations: Int?
        /// The held-out split whose training part the held-out model was fitted on (with
        /// `iterations` from random factors), when the model was warm-started from it: with the
        /// data and the other fields, what determines the bytes.
        public var warmStartSplit: String?
        /// For a model started from the last published run's model: the SHA-256 of that model
        /// file — with the data and the other fields, what determines the bytes (the run it
        /// came from is in the manifest entry's `warmStartedFrom`).
        public var warmStartModel: String?
        /// α₀, the unobserved weight, when not 1 (iALS++; `ALSConfiguration`).
        public var unobservedWeight: Float?
        /// ν, the exponent of the frequency-scaled penalty, when not 0.
        public var regularizationExponent: Float?

        public init(
            factors: Int, regularization: Float, alpha: Float, iterations: Int, solver: String, cgSteps: Int, seed: UInt64,
            warmStartIterations: Int? = nil, warmStartSplit: String? = nil, unobservedWeight: Float? = nil, regularizationExponent: Float? = nil
        ) {
            self.unobservedWeight = unobservedWeight
            self.regularizationExponent = regularizationExponent
            self.factors = factors
            self.regularization = regularization
            self.alpha = alpha
            self.iterations = iterations
            self.solver = solver
            self.cgSteps = cgSteps
            self.seed = seed
            self.warmStartIterations = warmStartIterations
            self.warmStartSplit = warmStartSplit
        }

        enum CodingKeys: String, CodingKey {
            case factors, regularization, alpha, iterations, solver, seed
            case cgSteps = "cg_steps"
            case warmStartIterations = "warm_start_iterations"
            case warmStartSplit = "warm_start_split"
            case warmStartModel = "warm_start_model"
            case unobservedWeight = "unobserved_weight"
            case regularizationExponent = "regularization_exponent"
        }
    }

    /// Support of each item of a global model, and the thresholds it had to meet.
    public struct Support: Sendable, Equatable {
        public var itemWorkspaceCounts: [Int]
        public var itemUserCounts: [Int]
        public var minWorkspaces: Int
        public var minUsers: Int

        public init(itemWorkspaceCounts: [Int], itemUserCounts: [Int], minWorkspaces: Int, minUsers: Int) {
            self.itemWorkspaceCounts = itemWorkspaceCounts
            self.itemUserCounts = itemUserCounts
            self.minWorkspaces = minWorkspaces
            self.minUsers = minUsers
        }
    }

    public init(
        recommender: String, scope: String, workspace: String?, itemIDs: [String], itemFactors: Matrix,
        userIDs: [String]? = nil, userFactors: Matrix? = nil, hyperparameters: Hyperparameters, support: Support? = nil,
        provenance: Provenance, ranker: Ranker = .als, itemPopularity: [Int]?
    ) {
        self.provenance = provenance
        self.ranker = ranker
        self.itemPopularity = itemPopularity
        self.recommender = recommender
        self.scope = scope
        self.workspace = workspace
        self.itemIDs = itemIDs
        self.itemFactors = itemFactors
        self.userIDs = userIDs
        self.userFactors = userFactors
        self.hyperparameters = hyperparameters
        self.support = support
    }

    public func encode() -> Data {
        var tensors = ["item_factors": SafeTensors.Tensor(shape: [itemFactors.rows, itemFactors.columns], values: itemFactors.storage)]
        var metadata = [
            "format": Self.format, "recommender": recommender, "scope": scope, "workspace": workspace ?? "",
            "item_ids": Self.jsonArray(itemIDs), "hyperparameters": Self.canonicalJSON(hyperparameters),
            "contributors": Self.jsonArray(provenance.workspaces), "events_from": Timestamp.format(provenance.oldestEvent),
            "events_to": Timestamp.format(provenance.newestEvent), "ranker": ranker.description,
        ]
        if let itemPopularity { metadata["item_popularity"] = Self.jsonInts(itemPopularity) }
        if let tunedOn { metadata["tuned_on"] = Self.jsonArray(tunedOn) }
        if let privacy { metadata["privacy"] = Self.canonicalJSON(privacy) }
        if let userFactors, let userIDs {
            tensors["user_factors"] = SafeTensors.Tensor(shape: [userFactors.rows, userFactors.columns], values: userFactors.storage)
            metadata["user_ids"] = Self.jsonArray(userIDs)
        }
        if let support {
            metadata["item_workspace_counts"] = Self.jsonInts(support.itemWorkspaceCounts)
            metadata["item_user_counts"] = Self.jsonInts(support.itemUserCounts)
            metadata["min_workspaces"] = String(support.minWorkspaces)
            metadata["min_users"] = String(support.minUsers)
        }
        return SafeTensors.encode(SafeTensors.File(tensors: tensors, metadata: metadata))
    }

    /// Reads and checks a model file.
    /// - Throws: `PublishingError.corruptModel` for anything malformed or inconsistent.
    public static func decode(_ data: Data, path: String) throws(PublishingError) -> ModelFile {
        func fail(_ reason: String) -> PublishingError { .corruptModel(path: path, reason: reason) }
        let file = try SafeTensors.decode(data, path: path)
        let m = file.metadata
        guard m["format"] == format || m["format"] == previousFormat else {
            throw fail("metadata 'format' is \(m["format"] ?? "missing"), expected \(format) (or \(previousFormat))")
        }
        guard let items = file.tensors["item_factors"], items.shape.count == 2 else { throw fail("no 2-D item_factors tensor") }
        guard let recommender = m["recommender"], let scope = m["scope"] else { throw fail("metadata lacks recommender or scope") }
        guard let itemIDs = decodeStrings(m["item_ids"]), itemIDs.count == items.shape[0] else {
            throw fail("item_ids does not list one id per row of item_factors")
        }
        guard let hp = m["hyperparameters"].flatMap({ try? JSONDecoder().decode(Hyperparameters.self, from: Data($0.utf8)) }) else {
            throw fail("hyperparameters are missing or malformed (factors, regularization, alpha, iterations, solver, cg_steps, seed "
                + "as JSON numbers and strings; warm_start_iterations an integer, warm_start_split a string)")
        }
        guard hp.factors == items.shape[1], (1...4096).contains(hp.factors) else {
            throw fail("hyperparameters give \(hp.factors) factors, item_factors has \(items.shape[1]) (1…4096)")
        }
        guard (0...10_000).contains(hp.iterations), hp.warmStartIterations.map({ (0...10_000).contains($0) }) ?? true else {
            throw fail("hyperparameters give iterations outside 0…10000")
        }
        guard hp.regularization.isFinite, hp.regularization >= 0, hp.alpha.isFinite, hp.alpha >= 0,
            hp.unobservedWeight.map({ $0.isFinite && $0 > 0 && $0 <= 1e6 }) ?? true,
            hp.regularizationExponent.map({ $0.isFinite && (0...2).contains($0) }) ?? true
        else {
            throw fail("hyperparameters give a regularization or alpha below 0, an unobserved_weight outside (0, 1e6] or a regularization_exponent outside 0…2")
        }
        guard let contributors = decodeStrings(m["contributors"]), let from = m["events_from"].flatMap(Timestamp.parse),
            let to = m["events_to"].flatMap(Timestamp.parse)
        else { throw fail("the provenance (contributors, events_from, events_to) is missing or malformed") }
        var model = ModelFile(
            recommender: recommender, scope: scope, workspace: (m["workspace"] ?? "").isEmpty ? nil : m["workspace"],
            itemIDs: itemIDs, itemFactors: Matrix(rows: items.shape[0], columns: items.shape[1], storage: items.values),
            hyperparameters: hp, provenance: Provenance(workspaces: contributors, oldestEvent: from, newestEvent: to), itemPopularity: nil)
        if m["format"] == format {
            (model.ranker, model.itemPopularity) = try rankerAndPopularity(m, items: itemIDs.count, fail: fail)
        }
        if let text = m["tuned_on"] {
            guard let workspaces = decodeStrings(text) else { throw fail("tuned_on is not a JSON array of strings") }
            model.tunedOn = workspaces
        }
        if let text = m["privacy"] {
            guard let plan = try? JSONDecoder().decode(PrivacyPlan.self, from: Data(text.utf8)) else { throw fail("privacy is not a JSON privacy plan") }
            model.privacy = plan
        }
        if let users = file.tensors["user_factors"] {
            guard users.shape.count == 2, users.shape[1] == items.shape[1], let ids = decodeStrings(m["user_ids"]), ids.count == users.shape[0] else {
                throw fail("user_factors and user_ids do not match")
            }
            model.userFactors = Matrix(rows: users.shape[0], columns: users.shape[1], storage: users.values)
            model.userIDs = ids
        }
        if let w = m["item_workspace_counts"] {
            guard let wc = decodeInts(w), let uc = decodeInts(m["item_user_counts"]), wc.count == itemIDs.count, uc.count == itemIDs.count,
                let k = m["min_workspaces"].flatMap(Int.init), let mu = m["min_users"].flatMap(Int.init)
            else { throw fail("support metadata is incomplete") }
            model.support = Support(itemWorkspaceCounts: wc, itemUserCounts: uc, minWorkspaces: k, minUsers: mu)
        }
        guard model.itemFactors.isFinite, model.userFactors?.isFinite ?? true else { throw fail("the factors hold NaN or infinite values") }
        return model
    }

    /// A format-3 file's ranker and popularity vector, checked: one count ≥ 0 per item.
    private static func rankerAndPopularity(
        _ m: [String: String], items: Int, fail: (String) -> PublishingError
    ) throws(PublishingError) -> (Ranker, [Int]) {
        guard let text = m["ranker"], let ranker = Ranker(parsing: text), ranker.description == text else {
            throw fail("metadata 'ranker' is \(m["ranker"].map { "'\($0)'" } ?? "missing"); expected als, popularity or blend:β, spelled as written")
        }
        guard let counts = decodeInts(m["item_popularity"]), counts.count == items, counts.allSatisfy({ $0 >= 0 }) else {
            throw fail("item_popularity does not list one count ≥ 0 per row of item_factors")
        }
        return (ranker, counts)
    }

    static func jsonInts(_ values: [Int]) -> String { "[" + values.map(String.init).joined(separator: ",") + "]" }

    static func jsonArray(_ strings: [String]) -> String { "[" + strings.map(JSONText.string).joined(separator: ",") + "]" }

    static func canonicalJSON(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try! encoder.encode(value), as: UTF8.self)
    }

    static func decodeStrings(_ text: String?) -> [String]? {
        text.flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) }
    }

    static func decodeInts(_ text: String?) -> [Int]? {
        text.flatMap { try? JSONDecoder().decode([Int].self, from: Data($0.utf8)) }
    }
}
