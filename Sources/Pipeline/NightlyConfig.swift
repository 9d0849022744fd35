import Consent
import Evaluation
import Factorization
import Foundation
import Ingest
import Interactions
import Platform
import Privacy
import Publishing
import TOMLKit

/// The nightly job's configuration, read from a TOML file (see `data/nightly.toml` and
/// docs/nightly.md). Relative paths are resolved against the config file's folder.
public struct NightlyConfig: Sendable {
    /// `als.warm_start`.
    public enum WarmStartSource: String, Sendable, Codable, CaseIterable {
        case heldOut = "held_out"
        case lastRun = "last_run"
    }

    public struct Recommender: Sendable {
        public var definition: RecommenderDefinition
        public var als: ALSConfiguration
        /// Iterations of the full model when it starts from the held-out model's factors
        /// (`als.warm_start_iterations`); 0 fits it from random factors with `als.iterations`.
        public var warmStartIterations: Int
        /// Where the full model starts (`als.warm_start`): the held-out model's factors, or the
        /// last published run's item factors for the same model when tonight's consent and
        /// retention still allow that model (the held-out model's otherwise).
        public var warmStartFrom: WarmStartSource = .heldOut
        public var split: SplitStrategy
        public var k: Int
        public var gate: QualityGate
        /// Which ranker each model publishes (`[recommenders.X.ranker]`).
        public var ranker: RankerPolicy = RankerPolicy()
        /// `[recommenders.X.tune]`: tune the ALS hyper-parameters (those the `als` table does
        /// not give) on a validation split carved from the training part; nil: as configured.
        public var tune: ALSTuning.Plan?
        /// `[recommenders.emoji.privacy]`: the global emoji model is fitted with (ε, δ)
        /// differential privacy (`PrivateGlobalModel`, docs/privacy.md); nil: not private.
        public var privacy: PrivacyParameters?

        public init(
            definition: RecommenderDefinition, als: ALSConfiguration, warmStartIterations: Int? = nil,
            split: SplitStrategy = .temporal(.lastFraction(0.2)), k: Int = 10, gate: QualityGate = QualityGate(), ranker: RankerPolicy = RankerPolicy()
        ) {
            self.definition = definition
            self.als = als
            self.warmStartIterations = warmStartIterations ?? (als.iterations + 2) / 3
            self.split = split
            self.k = k
            self.gate = gate
            self.ranker = ranker
        }
    }

    public var events: [String]
    public var format: EventFormat?
    public var ignoredColumns: Set<String>
    public var badRowLimit: BadRowLimit
    public var slack: SlackExport.Options
    public var consentPath: String
    public var policy: ConsentPolicy
    public var keyFile: String?
    /// Unix seconds; nil means "now" when the run starts.
    public var asOf: Int64?
    public var retentionDays: Int?
    public var outputRoot: String
    public var keepRuns: Int
    public var threads: Int
    /// `output.metrics_file`: where each run's Prometheus metrics go (nil: `JobMetrics.defaultPath`).
    public var metricsFile: String? = nil
    public var recommenders: [Recommender]

    /// The enabled recommenders with `run.threads` in their ALS configuration: what `evaluate`
    /// and `train` start from with `--config`.
    public var recommendersAtRunThreads: [Recommender] {
        recommenders.map { rc in
            var rc = rc
            rc.als.threads = threads
            return rc
        }
    }

    /// Reads and checks a config file.
    /// - Throws: `ConfigError` naming the file, and the key for anything unknown or mistyped.
    public static func load(path: String) throws(ConfigError) -> NightlyConfig {
        // A regular file only: a FIFO or a device such as /dev/zero would block or never end.
        let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        guard (try? FileManager.default.attributesOfItem(atPath: resolved)[.type] as? FileAttributeType) == .typeRegular,
            let data = FileManager.default.contents(atPath: resolved), let text = String(data: data, encoding: .utf8)
        else {
            throw .unreadable(path: path)
        }
        return try parse(text, path: path)
    }

    /// Checks a config's text; relative paths in it are taken from `path`'s folder.
    public static func parse(_ text: String, path: String) throws(ConfigError) -> NightlyConfig {
        if let (line, column) = TOMLPrecheck.badTableHeader(text) {
            throw .syntax(path: path, line: line, column: column, reason: "a table name must start with a letter, digit, '_', '-' or a quote")
        }
        if let (line, column) = TOMLPrecheck.misplacedSeparator(text) {
            throw .syntax(path: path, line: line, column: column, reason: "an array or inline table with a missing value or key")
        }
        if let (line, column) = TOMLPrecheck.dateTimeValue(text) {
            throw .syntax(path: path, line: line, column: column, reason: "a TOML date or time value; no key takes one (give times as strings: as_of = \"2026-11-20T00:00:00Z\")")
        }
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw .syntax(path: path, line: Int(error.source.begin.line), column: Int(error.source.begin.column), reason: error.description)
        } catch {
            throw .syntax(path: path, line: 0, column: 0, reason: "\(error)")
        }
        let base = (path as NSString).deletingLastPathComponent
        return try Reader(path: path, base: base).config(table)
    }
}

/// A config error: the run does not start.
public enum ConfigError: Error, Equatable, CustomStringConvertible {
    case unreadable(path: String)
    case syntax(path: String, line: Int, column: Int, reason: String)
    case unknownKey(path: String, key: String)
    case wrongType(path: String, key: String, expected: String)
    case invalid(path: String, key: String, reason: String)
    case missing(path: String, key: String)

    public var description: String {
        switch self {
        case .unreadable(let path): "\(path): the config file cannot be read (missing, not a regular file, or not UTF-8)"
        case .syntax(let path, let line, let column, let reason): "\(path):\(line):\(column): not valid TOML: \(reason)"
        case .unknownKey(let path, let key): "\(path): unknown key '\(key)' (a typo? see docs/nightly.md for every key)"
        case .wrongType(let path, let key, let expected): "\(path): '\(key)' must be \(expected)"
        case .invalid(let path, let key, let reason): "\(path): '\(key)' \(reason)"
        case .missing(let path, let key): "\(path): the required key '\(key)' is missing"
        }
    }
}

/// Strict reading: every table lists its keys, and each value is checked for its type.
private struct Reader {
    let path: String
    let base: String

    func keys(_ table: TOMLTable, _ prefix: String, allowed: Set<String>) throws(ConfigError) {
        for key in table.keys.sorted() where !allowed.contains(key) {
            throw .unknownKey(path: path, key: prefix.isEmpty ? key : prefix + "." + key)
        }
    }

    func table(_ t: TOMLTable, _ key: String, _ prefix: String) throws(ConfigError) -> TOMLTable? {
        guard let v = t[key] else { return nil }
        guard let table = v.table else { throw .wrongType(path: path, key: name(prefix, key), expected: "a table") }
        return table
    }

    func name(_ prefix: String, _ key: String) -> String { prefix.isEmpty ? key : prefix + "." + key }

    func string(_ t: TOMLTable, _ key: String, _ prefix: String) throws(ConfigError) -> String? {
        guard let v = t[key] else { return nil }
        guard let s = v.string else { throw .wrongType(path: path, key: name(prefix, key), expected: "a string") }
        return s
    }

    func int(_ t: TOMLTable, _ key: String, _ prefix: String, min: Int = Int.min, max: Int = Int.max) throws(ConfigError) -> Int? {
        guard let v = t[key] else { return nil }
        guard let i = v.int else { throw .wrongType(path: path, key: name(prefix, key), expected: "an integer") }
        guard i >= min else { throw .invalid(path: path, key: name(prefix, key), reason: "must be at least \(min)") }
        guard i <= max else { throw .invalid(path: path, key: name(prefix, key), reason: "must be at most \(max)") }
        return i
    }

    func double(_ t: TOMLTable, _ key: String, _ prefix: String) throws(ConfigError) -> Double? {
        guard let v = t[key] else { return nil }
        guard let d = v.double ?? v.int.map(Double.init) else { throw .wrongType(path: path, key: name(prefix, key), expected: "a number") }
        // TOML allows nan and inf; no setting of ours means anything by them (a NaN gate
        // threshold would let every model through).
        guard d.isFinite else { throw .invalid(path: path, key: name(prefix, key), reason: "must be a finite number, not \(d)") }
        return d
    }

    func bool(_ t: TOMLTable, _ key: String, _ prefix: String) throws(ConfigError) -> Bool? {
        guard let v = t[key] else { return nil }
        guard let b = v.bool else { throw .wrongType(path: path, key: name(prefix, key), expected: "true or false") }
        return b
    }

    func strings(_ t: TOMLTable, _ key: String, _ prefix: String) throws(ConfigError) -> [String]? {
        guard let v = t[key] else { return nil }
        if let s = v.string { return [s] }
        guard let array = v.array else { throw .wrongType(path: path, key: name(prefix, key), expected: "a string or an array of strings") }
        var out: [String] = []
        for item in array {
            guard let s = item.string else { throw .wrongType(path: path, key: name(prefix, key), expected: "an array of strings") }
            out.append(s)
        }
        return out
    }

    func resolve(_ p: String) -> String { p.hasPrefix("/") ? p : (base.isEmpty ? p : base + "/" + p) }

    func config(_ root: TOMLTable) throws(ConfigError) -> NightlyConfig {
        try keys(root, "", allowed: ["input", "consent", "privacy", "output", "run", "recommenders"])
        guard let input = try table(root, "input", "") else { throw .missing(path: path, key: "input") }
        try keys(input, "input", allowed: ["events", "format", "ignore_columns", "max_bad_rows", "max_bad_fraction",
                                           "slack_workspace_id", "keep_deleted_users", "keep_skin_tones", "max_slack_file_bytes"])
        guard let events = try strings(input, "events", "input"), !events.isEmpty else { throw .missing(path: path, key: "input.events") }
        let maxFraction = try double(input, "max_bad_fraction", "input") ?? 0.01
        guard (0...1).contains(maxFraction) else { throw .invalid(path: path, key: "input.max_bad_fraction", reason: "must be between 0 and 1") }
        let format = try format(input)

        guard let consent = try table(root, "consent", "") else { throw .missing(path: path, key: "consent") }
        try keys(consent, "consent", allowed: ["registry", "table", "query", "policy"])
        guard let registry = try string(consent, "registry", "consent") else { throw .missing(path: path, key: "consent.registry") }
        let location: String
        do { location = try RegistrySource.location(registry, table: try string(consent, "table", "consent"), query: try string(consent, "query", "consent")) } catch {
            throw .invalid(path: path, key: "consent.registry", reason: "\(error)")
        }
        let policy = try policy(consent)

        let privacy = try table(root, "privacy", "") ?? TOMLTable()
        try keys(privacy, "privacy", allowed: ["key_file", "retention_days", "as_of"])
        let asOf = try asOf(privacy)

        guard let output = try table(root, "output", "") else { throw .missing(path: path, key: "output") }
        try keys(output, "output", allowed: ["root", "keep_runs", "metrics_file"])
        guard let outRoot = try string(output, "root", "output") else { throw .missing(path: path, key: "output.root") }

        let run = try table(root, "run", "") ?? TOMLTable()
        try keys(run, "run", allowed: ["threads"])
        let recommenders = try recommenders(root)

        var config = NightlyConfig(
            events: events.map(resolve), format: format, ignoredColumns: Set(try strings(input, "ignore_columns", "input") ?? []),
            badRowLimit: BadRowLimit(maxCount: try int(input, "max_bad_rows", "input", min: 0), maxFraction: maxFraction),
            slack: try slackOptions(input), consentPath: PostgresLocation.isDatabase(location) ? location : resolve(location), policy: policy,
            keyFile: try string(privacy, "key_file", "privacy").map(resolve), asOf: asOf,
            retentionDays: try int(privacy, "retention_days", "privacy", min: 1, max: IngestOptions.maxRetentionDays), outputRoot: resolve(outRoot),
            keepRuns: try int(output, "keep_runs", "output", min: 1) ?? 5,
            threads: try int(run, "threads", "run", min: 1, max: ALSConfiguration.maxThreads) ?? ALSConfiguration.defaultThreads,
            recommenders: recommenders)
        config.metricsFile = try string(output, "metrics_file", "output").map(resolve)
        return config
    }

    func format(_ input: TOMLTable) throws(ConfigError) -> EventFormat? {
        guard let f = try string(input, "format", "input") else { return nil }
        guard let parsed = EventFormat(rawValue: f) else { throw .invalid(path: path, key: "input.format", reason: "must be csv, tsv or jsonl") }
        return parsed
    }

    func slackOptions(_ input: TOMLTable) throws(ConfigError) -> SlackExport.Options {
        SlackExport.Options(
            workspaceID: try string(input, "slack_workspace_id", "input"), keepDeletedUsers: try bool(input, "keep_deleted_users", "input") ?? false,
            keepSkinTones: try bool(input, "keep_skin_tones", "input") ?? false,
            maxFileBytes: try int(input, "max_slack_file_bytes", "input", min: 1) ?? SlackExport.Options.defaultMaxFileBytes)
    }

    func policy(_ consent: TOMLTable) throws(ConfigError) -> ConsentPolicy {
        guard let p = try string(consent, "policy", "consent") else { return .optOut }
        guard let parsed = ConsentPolicy(rawValue: p) else { throw .invalid(path: path, key: "consent.policy", reason: "must be opt-out or opt-in") }
        return parsed
    }

    /// `privacy.as_of`: Unix seconds or an RFC 3339 time; nil means the time the run starts.
    func asOf(_ privacy: TOMLTable) throws(ConfigError) -> Int64? {
        if let seconds = privacy["as_of"]?.int {
            guard Timestamp.range.contains(Int64(seconds)) else {
                throw .invalid(path: path, key: "privacy.as_of", reason: "must be a time from 1970 to 9999 (RFC 3339 or Unix seconds)")
            }
            return Int64(seconds)
        }
        guard let a = try string(privacy, "as_of", "privacy") else { return nil }
        guard let t = Timestamp.parse(a) else { throw .invalid(path: path, key: "privacy.as_of", reason: "must be RFC 3339 or Unix seconds") }
        return t
    }

    func recommenders(_ root: TOMLTable) throws(ConfigError) -> [NightlyConfig.Recommender] {
        var recommenders: [NightlyConfig.Recommender] = []
        let section = try table(root, "recommenders", "") ?? TOMLTable()
        try keys(section, "recommenders", allowed: Set(RecommenderDefinition.Target.allCases.map(\.rawValue)))
        for target in RecommenderDefinition.Target.allCases {
            let prefix = "recommenders." + target.rawValue
            let t = try table(section, target.rawValue, "recommenders") ?? TOMLTable()
            if let r = try recommender(t, target, prefix) { recommenders.append(r) }
        }
        guard !recommenders.isEmpty else { throw .invalid(path: path, key: "recommenders", reason: "enables no recommender") }
        return recommenders
    }

    func recommender(_ t: TOMLTable, _ target: RecommenderDefinition.Target, _ prefix: String) throws(ConfigError) -> NightlyConfig.Recommender? {
        try keys(t, prefix, allowed: ["enabled", "scope", "weights", "log_scaling", "leave_removes_membership", "min_user_items",
                                      "min_item_users", "min_emoji_workspaces", "min_emoji_users", "als", "evaluation", "gate", "ranker", "tune",
                                      "privacy"])
        guard try bool(t, "enabled", prefix) ?? true else { return nil }
        let (split, k) = try evaluation(t, prefix)
        let als = try als(t, prefix)
        var rc = NightlyConfig.Recommender(
            definition: try definition(t, target, prefix), als: als, warmStartIterations: try warmStartIterations(t, prefix, als: als),
            split: split, k: k, gate: try gate(t, prefix), ranker: try ranker(t, prefix))
        rc.tune = try tune(t, prefix)
        if let a = try table(t, "als", prefix), let w = try string(a, "warm_start", prefix + ".als") {
            guard let source = NightlyConfig.WarmStartSource(rawValue: w) else {
                throw .invalid(path: path, key: prefix + ".als.warm_start", reason: "must be held_out or last_run")
            }
            rc.warmStartFrom = source
            if source == .lastRun, rc.warmStartIterations == 0 {
                throw .invalid(path: path, key: prefix + ".als.warm_start", reason: "is last_run, but warm_start_iterations is 0 (no warm start at all)")
            }
        }
        if let p = try table(t, "privacy", prefix) { try makePrivate(&rc, p, t, prefix) }
        return rc
    }

    /// `[recommenders.emoji.privacy]`, and the refusal of every setting a private model cannot
    /// honour. A private model is fitted once, from seeded factors, by the Cholesky path; it is
    /// judged on held-out people, so its split is per person.
    func makePrivate(_ rc: inout NightlyConfig.Recommender, _ p: TOMLTable, _ t: TOMLTable, _ prefix: String) throws(ConfigError) {
        let key = prefix + ".privacy"
        try keys(p, key, allowed: ["enabled", "epsilon", "delta", "max_items_per_user", "bounding", "max_weight", "max_norm",
                                   "vocabulary_budget", "held_out_people"])
        guard try bool(p, "enabled", key) ?? true else { return }
        func refuse(_ k: String, _ reason: String) -> ConfigError { .invalid(path: path, key: k, reason: reason) }
        guard rc.definition.target == .emoji, rc.definition.scope == .global else {
            throw refuse(key, "is only for the global emoji model (scope = \"global\"): a per-workspace model is shaped by its own workspace alone")
        }
        guard let epsilon = try double(p, "epsilon", key) else { throw .missing(path: path, key: key + ".epsilon") }
        var parameters = PrivacyParameters(epsilon: epsilon)
        parameters.delta = try double(p, "delta", key) ?? parameters.delta
        parameters.maxItemsPerUser = try int(p, "max_items_per_user", key) ?? parameters.maxItemsPerUser
        if let b = try string(p, "bounding", key) {
            guard let bounding = PrivacyParameters.Bounding(rawValue: b) else { throw refuse(key + ".bounding", "must be uniform or least_popular") }
            parameters.bounding = bounding
        }
        parameters.maxWeight = try double(p, "max_weight", key) ?? parameters.maxWeight
        parameters.maxNorm = try double(p, "max_norm", key) ?? parameters.maxNorm
        parameters.vocabularyBudget = try double(p, "vocabulary_budget", key) ?? parameters.vocabularyBudget
        parameters.heldOutPeople = try double(p, "held_out_people", key) ?? parameters.heldOutPeople
        if let (k, reason) = parameters.problem { throw refuse(key + "." + k, reason) }
        if rc.tune != nil { throw refuse(prefix + ".tune", "cannot be used with privacy: tuning on the people's data would be a release of its own") }
        let als = try table(t, "als", prefix) ?? TOMLTable()
        for k in ["warm_start", "warm_start_iterations"] where als[k] != nil {
            throw refuse(prefix + ".als." + k, "cannot be used with privacy: a private model is fitted once, from seeded factors")
        }
        if rc.als.regularizationExponent != 0 { throw refuse(prefix + ".als.regularization_exponent", "must be 0 with privacy: a frequency-scaled penalty reads exact counts") }
        if als["solver"] != nil, rc.als.solver != .cholesky {
            throw refuse(prefix + ".als.solver", "must be cholesky with privacy: the private item solves perturb the normal equations")
        }
        if try table(t, "evaluation", prefix)?["split"] == nil { rc.split = .random(fraction: 0.2, seed: 0) }
        if case .temporal = rc.split {
            throw refuse(prefix + ".evaluation.split", "must be random:F or leave-last:N with privacy: the model is judged on held-out people, each split alone")
        }
        if rc.gate.metric == .coverage { throw refuse(prefix + ".gate.metric", "cannot be coverage with privacy: the gate's figures are noisy sums over people") }
        rc.als.solver = .cholesky
        // Each iteration is a release of its own: fewer cost less noise (docs/privacy.md, the sweep).
        if als["iterations"] == nil { rc.als.iterations = PrivacyParameters.defaultIterations }
        guard rc.als.iterations >= 1 else { throw refuse(prefix + ".als.iterations", "must be at least 1 with privacy") }
        rc.warmStartIterations = 0
        rc.privacy = parameters
    }

    /// `[recommenders.X.tune]`; the hyper-parameters the `als` table gives stay fixed.
    func tune(_ t: TOMLTable, _ prefix: String) throws(ConfigError) -> ALSTuning.Plan? {
        guard let u = try table(t, "tune", prefix) else { return nil }
        let p = prefix + ".tune"
        try keys(u, p, allowed: ["enabled", "strategy", "trials", "seconds", "seed"])
        guard try bool(u, "enabled", p) ?? true else { return nil }
        var plan = ALSTuning.Plan()
        if let s = try string(u, "strategy", p) {
            guard let strategy = HyperparameterSearch.Strategy(rawValue: s) else { throw .invalid(path: path, key: p + ".strategy", reason: "must be random or halving") }
            plan.strategy = strategy
        }
        plan.trials = try int(u, "trials", p, min: 1, max: 10_000) ?? plan.trials
        if let seconds = try double(u, "seconds", p) {
            guard seconds > 0 else { throw .invalid(path: path, key: p + ".seconds", reason: "must be > 0") }
            plan.seconds = seconds
        }
        plan.seed = UInt64(try int(u, "seed", p, min: 0) ?? 0)
        let given = try table(t, "als", prefix).map { Set($0.keys) } ?? []
        plan.fixed = Set(ALSTuning.space.map(\.name)).intersection(given)
        return plan
    }

    func ranker(_ t: TOMLTable, _ prefix: String) throws(ConfigError) -> RankerPolicy {
        var policy = RankerPolicy()
        guard let r = try table(t, "ranker", prefix) else { return policy }
        let p = prefix + ".ranker"
        try keys(r, p, allowed: ["choose", "betas", "unjudged"])
        if let c = try string(r, "choose", p) {
            guard let choice = RankerPolicy.Choice(rawValue: c) else {
                throw .invalid(path: path, key: p + ".choose", reason: "must be one of \(RankerPolicy.Choice.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            policy.choose = choice
        }
        if let betas = try doubles(r, "betas", p) { policy.betas = betas.map(Float.init) }
        if let u = try string(r, "unjudged", p) {
            guard let ranker = Ranker(parsing: u) else { throw .invalid(path: path, key: p + ".unjudged", reason: "must be als, popularity or blend:β (β from 0 to 1e6)") }
            policy.unjudgedRanker = ranker
        }
        if let problem = policy.problem {
            throw .invalid(path: path, key: p + (problem.hasPrefix("betas") ? ".betas" : ".unjudged"), reason: String(problem.drop { $0 != " " }.dropFirst()))
        }
        return policy
    }

    func doubles(_ t: TOMLTable, _ key: String, _ prefix: String) throws(ConfigError) -> [Double]? {
        guard let v = t[key] else { return nil }
        guard let array = v.array else { throw .wrongType(path: path, key: name(prefix, key), expected: "an array of numbers") }
        var out: [Double] = []
        for item in array {
            guard let d = item.double ?? item.int.map(Double.init), d.isFinite else {
                throw .wrongType(path: path, key: name(prefix, key), expected: "an array of finite numbers")
            }
            out.append(d)
        }
        return out
    }

    func definition(_ t: TOMLTable, _ target: RecommenderDefinition.Target, _ prefix: String) throws(ConfigError) -> RecommenderDefinition {
        var d = RecommenderDefinition.default(for: target)
        if let s = try string(t, "scope", prefix) {
            guard let scope = RecommenderDefinition.Scope(rawValue: s), target == .emoji || scope == .workspace else {
                throw .invalid(path: path, key: prefix + ".scope", reason: target == .channel ? "must be workspace (channels are workspace-local)" : "must be workspace or global")
            }
            d.scope = scope
        }
        if let w = try table(t, "weights", prefix) { d.weights = try weights(w, prefix + ".weights") }
        d.logScaling = try bool(t, "log_scaling", prefix) ?? d.logScaling
        d.leaveRemovesMembership = try bool(t, "leave_removes_membership", prefix) ?? d.leaveRemovesMembership
        d.minUserItems = try int(t, "min_user_items", prefix, min: 1) ?? d.minUserItems
        d.minItemUsers = try int(t, "min_item_users", prefix, min: 1) ?? d.minItemUsers
        d.minEmojiWorkspaces = try int(t, "min_emoji_workspaces", prefix, min: 1) ?? d.minEmojiWorkspaces
        d.minEmojiUsers = try int(t, "min_emoji_users", prefix, min: 1) ?? d.minEmojiUsers
        return d
    }

    func weights(_ w: TOMLTable, _ p: String) throws(ConfigError) -> [EventKind: Float] {
        var weights: [EventKind: Float] = [:]
        for key in w.keys.sorted() {
            guard let kind = EventKind(name: key) else { throw .unknownKey(path: path, key: p + "." + key) }
            guard let value = try double(w, key, p), value >= 0, Float(value).isFinite else {
                throw .invalid(path: path, key: p + "." + key, reason: "must be ≥ 0 and within the range of a 32-bit float")
            }
            weights[kind] = Float(value)
        }
        return weights
    }

    /// `als.warm_start_iterations`: default a third of `als.iterations`, rounded up.
    func warmStartIterations(_ t: TOMLTable, _ prefix: String, als: ALSConfiguration) throws(ConfigError) -> Int {
        let given = try table(t, "als", prefix).flatMap { a throws(ConfigError) in try int(a, "warm_start_iterations", prefix + ".als", min: 0, max: 10_000) }
        return given ?? (als.iterations + 2) / 3
    }

    func als(_ t: TOMLTable, _ prefix: String) throws(ConfigError) -> ALSConfiguration {
        var als = ALSConfiguration()
        guard let a = try table(t, "als", prefix) else { return als }
        let p = prefix + ".als"
        try keys(a, p, allowed: ["factors", "regularization", "alpha", "iterations", "solver", "cg_steps", "seed", "warm_start_iterations",
                                 "warm_start", "unobserved_weight", "regularization_exponent"])
        als.factors = try int(a, "factors", p) ?? als.factors
        als.regularization = Float(try double(a, "regularization", p) ?? Double(als.regularization))
        als.alpha = Float(try double(a, "alpha", p) ?? Double(als.alpha))
        als.iterations = try int(a, "iterations", p) ?? als.iterations
        if let s = try string(a, "solver", p) {
            guard let solver = ALSConfiguration.Solver(rawValue: s) else { throw .invalid(path: path, key: p + ".solver", reason: "must be cg or cholesky") }
            als.solver = solver
        }
        als.cgSteps = try int(a, "cg_steps", p) ?? als.cgSteps
        als.seed = UInt64(try int(a, "seed", p, min: 0) ?? 0)
        als.unobservedWeight = Float(try double(a, "unobserved_weight", p) ?? 1)
        als.regularizationExponent = Float(try double(a, "regularization_exponent", p) ?? 0)
        do throws(TrainingError) { try als.validate() } catch {
            if case .invalidConfiguration(let field, let reason) = error {
                let key = ["cgSteps": "cg_steps", "unobservedWeight": "unobserved_weight", "regularizationExponent": "regularization_exponent"][field] ?? field
                throw .invalid(path: path, key: p + "." + key, reason: reason)
            }
        }
        return als
    }

    func evaluation(_ t: TOMLTable, _ prefix: String) throws(ConfigError) -> (SplitStrategy, Int) {
        var split = SplitStrategy.temporal(.lastFraction(0.2)), k = 10
        guard let e = try table(t, "evaluation", prefix) else { return (split, k) }
        let p = prefix + ".evaluation"
        try keys(e, p, allowed: ["split", "k", "seed"])
        let seed = UInt64(try int(e, "seed", p, min: 0) ?? 0)
        if let s = try string(e, "split", p) {
            guard let parsed = SplitStrategy.parse(s, seed: seed) else {
                throw .invalid(path: path, key: p + ".split", reason: "must be temporal:0.2, temporal:TIME, leave-last:N or random:FRACTION")
            }
            split = parsed
        }
        k = try int(e, "k", p, min: 1, max: RankingMetrics.maxK) ?? k
        return (split, k)
    }

    func gate(_ t: TOMLTable, _ prefix: String) throws(ConfigError) -> QualityGate {
        var gate = QualityGate()
        guard let g = try table(t, "gate", prefix) else { return gate }
        let p = prefix + ".gate"
        try keys(g, p, allowed: ["metric", "min_lift_over_popularity", "max_drop_from_last_run", "min_test_users", "publish_ungated"])
        if let m = try string(g, "metric", p) {
            guard let metric = SortMetric(rawValue: m) else { throw .invalid(path: path, key: p + ".metric", reason: "must be one of \(SortMetric.allCases.map(\.rawValue).joined(separator: ", "))") }
            gate.metric = metric
        }
        gate.minLiftOverPopularity = try double(g, "min_lift_over_popularity", p) ?? gate.minLiftOverPopularity
        gate.maxDropFromLastRun = try double(g, "max_drop_from_last_run", p) ?? gate.maxDropFromLastRun
        gate.minTestUsers = try int(g, "min_test_users", p, min: 0) ?? gate.minTestUsers
        gate.publishUngated = try bool(g, "publish_ungated", p) ?? gate.publishUngated
        return gate
    }
}
