import Events
import Factorization
import Foundation

/// What a run used and produced, written as `manifest.json` in the run directory. Run-specific
/// facts live here, not in the model files. Pseudonymous ids only.
public struct Manifest: Sendable, Codable, Equatable {
    public static let fileName = "manifest.json"

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
        /// Set when a model failed its quality gate and the previous run's model was kept:
        /// the id of the run it was trained in.
        public var carriedFrom: String?

        public init(path: String, recommender: String, scope: String, workspace: String?, users: Int, items: Int,
                    factors: Int, nonZeros: Int, bytes: Int, sha256: String, metrics: [String: Double]? = nil) {
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

    public var toolVersion: String
    public var runID: String
    public var createdAt: String
    public var asOf: String
    public var retentionDays: Int?
    /// SHA-256 of the canonical JSON of everything configurable (definitions, hyper-parameters,
    /// policy, retention): two runs with the same digest were configured the same way.
    public var configDigest: String
    public var inputs: [Input]
    public var consent: Consent
    public var usage: DataUsage
    /// Pseudonyms of every workspace whose events were used.
    public var workspacesUsed: [String]
    public var recommenders: [RecommenderDefinition]
    public var hyperparameters: ALSConfiguration
    public var models: [Model]

    public init(
        toolVersion: String, runID: String, createdAt: String, asOf: String, retentionDays: Int?, configDigest: String,
        inputs: [Input], consent: Consent, usage: DataUsage, workspacesUsed: [String], recommenders: [RecommenderDefinition],
        hyperparameters: ALSConfiguration, models: [Model]
    ) {
        self.toolVersion = toolVersion
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
        self.hyperparameters = hyperparameters
        self.models = models
    }

    public func encoded() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try! encoder.encode(self)
    }

    public static func decode(_ data: Data, path: String) throws(ModelStoreError) -> Manifest {
        do {
            return try JSONDecoder().decode(Manifest.self, from: data)
        } catch {
            throw .notARun(path: path, reason: "manifest.json cannot be read: \(error)")
        }
    }
}
