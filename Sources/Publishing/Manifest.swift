import Consent
import Foundation
import Interactions
import Privacy

/// What a run used and produced, written as `manifest.json` in the run directory. Run-specific
/// facts live here, not in the model files. Pseudonymous ids only.
public struct Manifest: Sendable, Codable, Equatable {
    public static let fileName = "manifest.json"
    /// The largest manifest read (a run of a hundred thousand workspaces writes tens of MiB).
    public static let maxBytes = 1 << 30

    public struct Input: Sendable, Codable, Equatable {
        public let path: String
        public let sha256: String
        public let rows: Int
        public let format: String
        public let gzip: Bool

        public init(path: String, sha256: String, rows: Int, format: String, gzip: Bool) {
            self.path = path
            self.sha256 = sha256
            self.rows = rows
            self.format = format
            self.gzip = gzip
        }
    }

    public struct Consent: Sendable, Codable, Equatable {
        public let policy: ConsentPolicy
        public let registryPath: String
        public let registrySHA256: String

        public init(policy: ConsentPolicy, registryPath: String, registrySHA256: String) {
            self.policy = policy
            self.registryPath = registryPath
            self.registrySHA256 = registrySHA256
        }
    }

    public struct Model: Sendable, Codable, Equatable {
        /// Relative to the run directory.
        public let path: String
        public let recommender: String
        public let scope: String
        public let workspace: String?
        public let users: Int
        public let items: Int
        public let factors: Int
        public let nonZeros: Int
        public let bytes: Int
        public let sha256: String
        /// Held-out metrics, when the run evaluated the model.
        public var metrics: [String: Double]?
        /// What the model ranks by (`als`, `popularity`, `blend:β`); nil in a manifest written
        /// before rankers (its models rank by ALS).
        public var ranker: String?
        /// For a model started from the last run's model (`als.warm_start = "last_run"`): that
        /// run's id.
        public var warmStartedFrom: String?
        /// The workspaces whose validation events chose the model's tuned hyper-parameters (nil:
        /// not tuned). Consent applies to them as to `provenance`.
        public var tunedOn: [String]?
        /// For a differentially private model: ε, δ, the bounding parameters and the Gaussian
        /// mechanisms composed (as in its file's `privacy` metadata).
        public var privacy: PrivacyPlan?

        /// Every workspace whose events shaped the model: its contributors and, for a tuned
        /// model, the workspaces its hyper-parameters were tuned on.
        public var shapedBy: [String] { Array(Set(provenance.workspaces + (tunedOn ?? []))).sorted() }
        /// Set when a model failed its quality gate and the previous run's model was kept:
        /// the id of the run it was trained in. Its `metrics` are then that run's.
        public var carriedFrom: String?
        /// When the model was trained (RFC 3339): a carried model keeps its first time.
        public var trainedAt: String
        /// The workspaces whose events shaped the model, and their time span: what the audit,
        /// the purge and carry-forward check against today's registry and retention window.
        public var provenance: Provenance

        public init(path: String, recommender: String, scope: String, workspace: String?, users: Int, items: Int,
                    factors: Int, nonZeros: Int, bytes: Int, sha256: String, metrics: [String: Double]? = nil,
                    ranker: String? = nil, trainedAt: String, provenance: Provenance) {
            self.ranker = ranker
            self.trainedAt = trainedAt
            self.provenance = provenance
            self.path = path
            self.recommender = recommender
            self.scope = scope
            self.workspace = workspace
            self.users = users
            self.items = items
            self.factors = factors
            self.nonZeros = nonZeros
            self.bytes = bytes
            self.sha256 = sha256
            self.metrics = metrics
        }
    }

    /// A recommender as the run configured it: its definition and the hyper-parameters of the
    /// models it trained (a carried model's own are in its file).
    public struct Recommender: Sendable, Codable, Equatable {
        public var definition: RecommenderDefinition
        public var hyperparameters: ModelFile.Hyperparameters
        /// What tuning chose, per bucket, when the recommender was tuned.
        public var tuning: [Tuning]?

        public init(definition: RecommenderDefinition, hyperparameters: ModelFile.Hyperparameters) {
            self.definition = definition
            self.hyperparameters = hyperparameters
        }
    }

    /// One tuned bucket: the hyper-parameters chosen on the validation split, the score and
    /// users they were chosen by, and the workspaces whose events that was.
    public struct Tuning: Sendable, Codable, Equatable {
        public var bucket: String
        public var hyperparameters: ModelFile.Hyperparameters
        public var metric: String
        public var validationScore: Double?
        public var validationUsers: Int
        public var trials: Int
        public var workspaces: [String]

        public init(bucket: String, hyperparameters: ModelFile.Hyperparameters, metric: String, validationScore: Double?,
                    validationUsers: Int, trials: Int, workspaces: [String]) {
            self.bucket = bucket
            self.hyperparameters = hyperparameters
            self.metric = metric
            self.validationScore = validationScore
            self.validationUsers = validationUsers
            self.trials = trials
            self.workspaces = workspaces
        }
    }

    public var toolVersion: String
    /// The pseudonym scheme (`Pseudonymiser.scheme`) every pseudonym in the run was made with.
    public var pseudonymScheme: Int
    public var runID: String
    public var createdAt: String
    public var asOf: String
    public var retentionDays: Int?
    /// SHA-256 of the canonical JSON of everything configurable (definitions, hyper-parameters,
    /// policy, retention): two runs with the same digest were configured the same way.
    public var configDigest: String
    public var inputs: [Input]
    public var consent: Consent
    public var usage: RunUsage
    /// Pseudonyms of every workspace whose events were read into this run or shaped any of
    /// its models (carried ones included).
    public var workspacesUsed: [String]
    public var recommenders: [Recommender]
    public var models: [Model]

    public init(
        toolVersion: String, runID: String, createdAt: String, asOf: String, retentionDays: Int?, configDigest: String,
        inputs: [Input], consent: Consent, usage: RunUsage, workspacesUsed: [String], recommenders: [Recommender], models: [Model]
    ) {
        self.toolVersion = toolVersion
        pseudonymScheme = Pseudonymiser.scheme
        self.runID = runID
        self.createdAt = createdAt
        self.asOf = asOf
        self.retentionDays = retentionDays
        self.configDigest = configDigest
        self.inputs = inputs
        self.consent = consent
        self.usage = usage
        self.workspacesUsed = workspacesUsed
        self.recommenders = recommenders
        self.models = models
    }

    public func encoded() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try! encoder.encode(self)
    }

    /// Reads a manifest, refusing one written under another pseudonym scheme first: its
    /// pseudonyms cannot be checked against today's registry by this version.
    public static func decode(_ data: Data, path: String) throws(PublishingError) -> Manifest {
        struct Scheme: Decodable { let pseudonymScheme: Int? }
        let scheme: Int
        do {
            scheme = try JSONDecoder().decode(Scheme.self, from: data).pseudonymScheme ?? 1
        } catch {
            throw .notARun(path: path, reason: "manifest.json is not a JSON object")
        }
        guard scheme == Pseudonymiser.scheme else { throw .pseudonymScheme(path: path, found: scheme, expected: Pseudonymiser.scheme) }
        do {
            return try JSONDecoder().decode(Manifest.self, from: data)
        } catch {
            throw .notARun(path: path, reason: "manifest.json cannot be read: \(error)")
        }
    }
}
