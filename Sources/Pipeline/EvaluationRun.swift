import Cluster
import Consent
import Evaluation
import Factorization
import Foundation
import Ingest
import Interactions
import Linalg
import Logging
import Privacy
import Publishing

/// What to evaluate and how.
public struct EvaluationRequest: Sendable {
    /// One recommender and how it is evaluated.
    public struct Recommender: Sendable {
        public var definition: RecommenderDefinition
        /// One configuration, or several for a sweep (all trained on the same split).
        public var configurations: [ALSConfiguration]
        public var split: SplitStrategy
        public var k: Int
        /// How the `published` row picks each matrix's ranker, as the nightly does: by
        /// `gate.metric`, judged only with at least `gate.minTestUsers` test users.
        public var gate: QualityGate
        public var ranker: RankerPolicy
        /// Tune the first configuration on a validation split carved from the training part
        /// (`ALSTuning`); the tuned model is scored on the test split once, beside the others.
        public var tune: ALSTuning.Plan?
        /// The global emoji model's privacy: evaluate the private model (for each of
        /// `epsilons`, or `privacy.epsilon`) beside the non-private one (`PrivateEvaluation`).
        public var privacy: PrivacyParameters?
        public var epsilons: [Double] = []

        public init(
            definition: RecommenderDefinition, configurations: [ALSConfiguration], split: SplitStrategy = .temporal(.lastFraction(0.2)),
            k: Int = 10, gate: QualityGate = QualityGate(), ranker: RankerPolicy = RankerPolicy(), tune: ALSTuning.Plan? = nil
        ) {
            self.tune = tune
            self.definition = definition
            self.configurations = configurations
            self.split = split
            self.k = k
            self.gate = gate
            self.ranker = ranker
        }
    }

    /// One log to split, or nil when `preSplit` is given.
    public var events: [String]
    /// Pre-split input: training files and test files, read through the same filters.
    public var preSplit: (train: [String], test: [String])?
    public var consentPath: String
    public var keyFile: String?
    public var ingest: IngestOptions
    public var recommenders: [Recommender]
    public var baselineSeed: UInt64
    /// The metric model rows are sorted by, best first.
    public var sortBy: SortMetric

    public init(
        events: [String], preSplit: (train: [String], test: [String])? = nil, consentPath: String, keyFile: String?,
        ingest: IngestOptions, recommenders: [Recommender], baselineSeed: UInt64 = 0, sortBy: SortMetric = .ndcg
    ) {
        self.sortBy = sortBy
        self.events = events
        self.preSplit = preSplit
        self.consentPath = consentPath
        self.keyFile = keyFile
        self.ingest = ingest
        self.recommenders = recommenders
        self.baselineSeed = baselineSeed
    }

    /// Every definition with the same configurations, split and K.
    public init(
        events: [String], preSplit: (train: [String], test: [String])? = nil, consentPath: String, keyFile: String?,
        ingest: IngestOptions, recommenders: [RecommenderDefinition], configurations: [ALSConfiguration],
        split: SplitStrategy = .temporal(.lastFraction(0.2)), k: Int = 10, baselineSeed: UInt64 = 0,
        sortBy: SortMetric = .ndcg
    ) {
        self.init(events: events, preSplit: preSplit, consentPath: consentPath, keyFile: keyFile, ingest: ingest,
                  recommenders: recommenders.map { Recommender(definition: $0, configurations: configurations, split: split, k: k) },
                  baselineSeed: baselineSeed, sortBy: sortBy)
    }
}

/// The evaluation of every recommender: model(s) beside the baselines on one split.
public struct EvaluationReport: Sendable, Codable {
    public struct Distribution: Sendable, Codable, Equatable {
        /// Workspaces with at least one test user.
        public let workspaces: Int
        public let medianNDCG: Double
        /// The 10th percentile of per-workspace NDCG@K (the worst decile's edge).
        public let worstDecileNDCG: Double

        /// Every workspace's NDCG@K, ascending (no ids): what the HTML page's histogram draws.
        public var values: [Double]? = nil

        /// Over the matrices with at least one test user; quantiles interpolate linearly.
        init(_ perMatrix: [RankingMetrics]) {
            let values = perMatrix.filter { $0.users > 0 }.map(\.textbook.ndcg).sorted()
            workspaces = values.count
            medianNDCG = Quantile.of(values, 0.5) ?? 0
            worstDecileNDCG = Quantile.of(values, 0.1) ?? 0
            self.values = values
        }
    }

    public struct Row: Sendable, Codable {
        public let name: String
        /// The hyper-parameters, for model rows.
        public let configuration: ALSConfiguration?
        /// Pooled over every test user of every matrix.
        public let metrics: RankingMetrics
        /// Per-workspace recommenders only.
        public let perWorkspace: Distribution?
        public let trainSeconds: Double?
        /// The `published` row: how many models publish each kind of ranker (`als`, `blend`,
        /// `popularity`), and how many of them could not be judged (too few test users).
        public var rankers: [String: Int]? = nil
        public var unjudged: Int? = nil
        /// The tuned model's row (its configuration is the first bucket's; `tuning` has each).
        public var tuned: Bool? = nil
        /// A private model's row: its ε.
        public var epsilon: Double? = nil
    }

    public struct Recommender: Sendable, Codable {
        public let recommender: RecommenderDefinition.Target
        public let scope: RecommenderDefinition.Scope
        public let split: String
        public let k: Int
        public let matrices: Int
        public let trainInteractions: Int
        public let testInteractions: Int
        public let coldStartUsers: Int
        public let coldStartItems: Int
        public let coldStartInteractions: Int
        public let repeatedInteractions: Int
        /// What tuning chose, per bucket (nil without tuning).
        public var tuning: [ALSTuning.Choice]? = nil
        /// Models first (best first by the chosen metric for a sweep), then `published` (each
        /// matrix's ranker chosen as the nightly would, with the first model's factors), then
        /// popularity, then random.
        public let rows: [Row]
    }

    /// The split and K of every recommender, or "per recommender" and the first one's K when
    /// they differ (each recommender says its own).
    public let split: String
    public let k: Int
    public let usage: RunUsage
    public let recommenders: [Recommender]
}

/// Runs an evaluation: consent registry and key first, then the log(s), the split, and for
/// each recommender every model configuration and both baselines on the same held-out data.
public struct EvaluationRun: Sendable {
    public let request: EvaluationRequest

    public init(request: EvaluationRequest) { self.request = request }

    public func execute(logger: Logger, progress: @escaping (RunProgress) -> Void = { _ in }) throws -> EvaluationReport {
        let r = request
        MachineLog.announce(logger)
        let registry = try RegistrySource.load(r.consentPath, asOf: r.ingest.asOf)
        let key = try PseudonymKey.load(file: r.keyFile)
        for c in r.recommenders.flatMap(\.configurations) { try c.validate() }
        let reader = EventLogReader(options: r.ingest, registry: registry, pseudonymiser: Pseudonymiser(key: key))
        let report: (Int) -> Void = { rows in progress(RunProgress(stage: .read, done: rows, total: nil)) }
        let log: EventLog, testLog: EventLog?
        if let preSplit = r.preSplit {
            log = try reader.read(preSplit.train, logger: logger) { report($0.rowsRead) }
            testLog = try reader.read(preSplit.test, logger: logger) { report($0.rowsRead) }
        } else {
            log = try reader.read(r.events, logger: logger) { report($0.rowsRead) }
            testLog = nil
        }

        var results: [EvaluationReport.Recommender] = []
        var usage = RunUsage(read: log.usage)
        for rc in r.recommenders {
            if let parameters = rc.privacy {
                if case .temporal = rc.split { throw TrainingError.invalidConfiguration(field: "split", reason: "a private model is judged with random:F or leave-last:N") }
                guard testLog == nil, rc.tune == nil, rc.definition.scope == .global else {
                    throw TrainingError.invalidConfiguration(field: "privacy", reason: "a private model is evaluated on held-out people of one log, untuned, global")
                }
                results.append(try PrivateEvaluation(
                    recommender: rc, parameters: parameters, secret: key.derived(purpose: PrivateGlobalModel.keyPurpose),
                    window: PrivateGlobalModel.window(asOf: r.ingest.asOf, retentionDays: r.ingest.retentionDays), ingest: r.ingest,
                    registrySHA256: registry.sha256).run(log, logger: logger))
                continue
            }
            let (split, trainUsage) = HeldOutSplit.make(log, test: testLog, definition: rc.definition, split: rc.split,
                                                        threads: rc.configurations.map(\.threads).max() ?? 1)
            usage.matrices += trainUsage
            let pairs = split.map { ($0.train, $0.held) }
            let tuning = try rc.tune.map { plan in
                try tune(rc, plan: plan, log: log, preSplit: testLog != nil, pairs: pairs, logger: logger)
            }
            var result = try evaluate(rc, pairs, tuned: tuning, logger: logger, progress: progress)
            result.tuning = tuning.map { $0.values.sorted { $0.bucket < $1.bucket } }
            results.append(result)
        }
        let splits = Set(results.map(\.split))
        return EvaluationReport(split: splits.count == 1 ? splits.first! : "per recommender", k: results.first?.k ?? 10, usage: usage, recommenders: results)
    }

    /// Tuning on a validation split carved from the training part; per matrix, its bucket's choice.
    private func tune(
        _ rc: EvaluationRequest.Recommender, plan: ALSTuning.Plan, log: EventLog, preSplit: Bool, pairs: [(InteractionMatrix, HeldOut)],
        logger: Logger
    ) throws -> [Int: ALSTuning.Choice] {
        let threads = rc.configurations.first?.threads ?? 1
        let validation = ALSTuning.validation(log, definition: rc.definition, split: rc.split, preSplit: preSplit, threads: threads)
        let buckets = Dictionary(pairs.map { ($0.0.workspace ?? "", ALSTuning.bucket(users: $0.0.matrix.rows)) }) { a, _ in a }
        let tuning = ALSTuning(definition: rc.definition, base: rc.configurations[0], plan: plan, metric: rc.gate.metric, k: rc.k)
        return try tuning.tune(validation: validation, bucketOf: { buckets[$0] ?? 0 }, logger: logger)
    }

    private func evaluate(
        _ rc: EvaluationRequest.Recommender, _ pairs: [(InteractionMatrix, HeldOut)], tuned: [Int: ALSTuning.Choice]?, logger: Logger,
        progress: @escaping (RunProgress) -> Void
    ) throws -> EvaluationReport.Recommender {
        let key = request.sortBy
        var specs = rc.configurations.map { config in ModelSpec(name: Self.name(config), shown: config, tuned: false) { _ in config } }
        if let tuned {
            let global = rc.definition.scope == .global
            let perMatrix = pairs.map { pair in
                tuned[global ? 0 : ALSTuning.bucket(users: pair.0.matrix.rows)]?.configuration ?? rc.configurations[0]
            }
            let shown = tuned.sorted { $0.key < $1.key }.first?.value.configuration ?? rc.configurations[0]
            specs.insert(ModelSpec(name: "ALS tuned" + (global || tuned.count == 1 ? ": " + Self.name(shown).dropFirst(4) : " (per size bucket)"),
                                   shown: shown, tuned: true) { perMatrix[$0] }, at: 0)
        }
        let models = try modelRows(specs, rc, pairs, logger: logger, progress: progress)
            .sorted { key.value($0.row.metrics) > key.value($1.row.metrics) }
        var rows = models.map(\.row)
        if let best = models.first { rows.append(publishedRow(rc, pairs, best: best)) }
        let popularity = pairs.map { PopularityBaseline(train: $0.0.matrix) }
        rows.append(row("popularity", rc, pairs) { popularity[$0].scores })
        let random = RandomBaseline(seed: request.baselineSeed)
        rows.append(row("random", rc, pairs) { _ in random.scores })
        let definition = rc.definition

        let held = pairs.map(\.1)
        return EvaluationReport.Recommender(
            recommender: definition.target, scope: definition.scope,
            split: request.preSplit != nil ? "pre-split: --train / --test files" : rc.split.description, k: rc.k, matrices: pairs.count,
            trainInteractions: pairs.reduce(0) { $0 + $1.0.matrix.nonZeros }, testInteractions: held.reduce(0) { $0 + $1.test.nonZeros },
            coldStartUsers: held.reduce(0) { $0 + $1.coldStartUsers }, coldStartItems: held.reduce(0) { $0 + $1.coldStartItems },
            coldStartInteractions: held.reduce(0) { $0 + $1.coldStartInteractions },
            repeatedInteractions: held.reduce(0) { $0 + $1.repeatedInteractions }, rows: rows)
    }

    /// The ranker each matrix would publish, chosen as the nightly chooses it (`RankerPolicy`)
    /// from the best configuration's models, pooled.
    private func publishedRow(
        _ rc: EvaluationRequest.Recommender, _ pairs: [(InteractionMatrix, HeldOut)], best: (row: EvaluationReport.Row, scorers: [FactorScorer])
    ) -> EvaluationReport.Row {
        let policy = rc.ranker, rankers = policy.scored
        var pooled = RankingMetrics.Accumulator(k: rc.k)
        var perMatrix: [RankingMetrics] = []
        var kinds: [String: Int] = [:], unjudged = 0
        for (index, (train, held)) in pairs.enumerated() {
            // A global matrix's users are added segment by segment, as the nightly adds them.
            let parts = RankerTrial.parts(rankers, k: rc.k, train: train.matrix, test: held.test, factors: best.scorers[index],
                                          popularity: PopularityBaseline(train: train.matrix), rows: train.persons?.rows ?? [0..<train.matrix.rows])
            let sums = RankerTrial.Parts.combined([parts], k: rc.k)
            let byRanker = Dictionary(uniqueKeysWithValues: zip(rankers, sums))
            let (ranker, judged) = policy.choice(byRanker.mapValues(\.result), metric: rc.gate.metric, minTestUsers: rc.gate.minTestUsers)
            pooled.merge(byRanker[ranker]!)
            perMatrix.append(byRanker[ranker]!.result)
            kinds[ranker.kind, default: 0] += 1
            if !judged { unjudged += 1 }
        }
        var row = EvaluationReport.Row(name: "published", configuration: best.row.configuration, metrics: pooled.result,
                                       perWorkspace: rc.definition.scope == .workspace ? .init(perMatrix) : nil, trainSeconds: nil)
        row.rankers = kinds
        row.unjudged = unjudged
        return row
    }

    /// A model row to train: its name, the configuration it shows, and each matrix's.
    struct ModelSpec {
        let name: String
        let shown: ALSConfiguration
        let tuned: Bool
        let configuration: (Int) -> ALSConfiguration
    }

    /// One row per spec: a model trained on each training matrix, timed, with its models' scorers.
    private func modelRows(
        _ specs: [ModelSpec], _ rc: EvaluationRequest.Recommender, _ pairs: [(InteractionMatrix, HeldOut)], logger: Logger,
        progress: @escaping (RunProgress) -> Void
    ) throws -> [(row: EvaluationReport.Row, scorers: [FactorScorer])] {
        var rows: [(row: EvaluationReport.Row, scorers: [FactorScorer])] = []
        for (n, spec) in specs.enumerated() {
            let clock = ContinuousClock()
            let start = clock.now
            var scorers: [FactorScorer] = []
            for (index, (train, _)) in pairs.enumerated() {
                // A global matrix is fitted over its person segments, as the nightly fits it.
                let config = spec.configuration(index)
                let model = try TrainingScheduler.Job(train, configuration: config, collective: SingleRank()).fit(threads: config.threads, logger: logger)
                scorers.append(FactorScorer(userFactors: model.userFactors, itemFactors: model.itemFactors))
                progress(RunProgress(stage: .train, done: n * pairs.count + index + 1, total: specs.count * pairs.count))
            }
            let elapsed = start.duration(to: clock.now)
            let seconds = StageTimer.seconds(elapsed)
            var row = row(spec.name, rc, pairs, configuration: spec.shown, seconds: seconds) { scorers[$0].scores }
            if spec.tuned { row.tuned = true }
            rows.append((row, scorers))
        }
        return rows
    }

    /// One ranker scored on every held-out matrix: pooled metrics, and for per-workspace
    /// recommenders the distribution over workspaces.
    private func row(
        _ name: String, _ rc: EvaluationRequest.Recommender, _ pairs: [(InteractionMatrix, HeldOut)],
        configuration: ALSConfiguration? = nil, seconds: Double? = nil, _ score: (Int) -> (Int, inout [Float]) -> Void
    ) -> EvaluationReport.Row {
        var pooled = RankingMetrics.Accumulator(k: rc.k)
        var perMatrix: [RankingMetrics] = []
        for (index, (train, held)) in pairs.enumerated() {
            var a = RankingMetrics.Accumulator(k: rc.k)
            a.add(train: train.matrix, test: held.test, rows: train.persons?.rows, scores: score(index))
            pooled.merge(a)
            perMatrix.append(a.result)
        }
        return .init(name: name, configuration: configuration, metrics: pooled.result,
                     perWorkspace: rc.definition.scope == .workspace ? .init(perMatrix) : nil, trainSeconds: seconds)
    }

    static func name(_ c: ALSConfiguration) -> String {
        "ALS \(c.solver.rawValue) f=\(c.factors) λ=\(c.regularization) α=\(c.alpha)"
            + (c.unobservedWeight != 1 ? " α₀=\(c.unobservedWeight)" : "") + (c.regularizationExponent != 0 ? " ν=\(c.regularizationExponent)" : "")
            + " it=\(c.iterations)"
    }
}

