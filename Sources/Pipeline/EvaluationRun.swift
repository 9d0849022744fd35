import Consent
import Evaluation
import Factorization
import Foundation
import Ingest
import Interactions
import Linalg
import Logging
import Publishing

/// What to evaluate and how.
public struct EvaluationRequest: Sendable {
    /// One log to split, or nil when `preSplit` is given.
    public var events: [String]
    /// Pre-split input: training files and test files, read through the same filters.
    public var preSplit: (train: [String], test: [String])?
    public var consentPath: String
    public var keyFile: String?
    public var ingest: IngestOptions
    public var recommenders: [RecommenderDefinition]
    /// One configuration, or several for a sweep (all trained on the same split).
    public var configurations: [ALSConfiguration]
    public var split: SplitStrategy
    public var k: Int
    public var baselineSeed: UInt64
    /// The metric model rows are sorted by, best first.
    public var sortBy: SortMetric
    /// How the `published` row picks each matrix's ranker, as the nightly does: by
    /// `gate.metric`, judged only with at least `gate.minTestUsers` test users.
    public var ranker = RankerPolicy()
    public var gate = QualityGate()

    public init(
        events: [String], preSplit: (train: [String], test: [String])? = nil, consentPath: String, keyFile: String?,
        ingest: IngestOptions, recommenders: [RecommenderDefinition], configurations: [ALSConfiguration],
        split: SplitStrategy = .temporal(.lastFraction(0.2)), k: Int = 10, baselineSeed: UInt64 = 0,
        sortBy: SortMetric = .ndcg
    ) {
        self.sortBy = sortBy
        self.events = events
        self.preSplit = preSplit
        self.consentPath = consentPath
        self.keyFile = keyFile
        self.ingest = ingest
        self.recommenders = recommenders
        self.configurations = configurations
        self.split = split
        self.k = k
        self.baselineSeed = baselineSeed
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

        /// Over the matrices with at least one test user; quantiles interpolate linearly.
        init(_ perMatrix: [RankingMetrics]) {
            let values = perMatrix.filter { $0.users > 0 }.map(\.textbook.ndcg).sorted()
            func quantile(_ q: Double) -> Double {
                let position = q * Double(values.count - 1)
                let low = Int(position.rounded(.down)), high = Int(position.rounded(.up))
                return values[low] + (values[high] - values[low]) * (position - Double(low))
            }
            workspaces = values.count
            medianNDCG = values.isEmpty ? 0 : quantile(0.5)
            worstDecileNDCG = values.isEmpty ? 0 : quantile(0.1)
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
    }

    public struct Recommender: Sendable, Codable {
        public let recommender: RecommenderDefinition.Target
        public let scope: RecommenderDefinition.Scope
        public let matrices: Int
        public let trainInteractions: Int
        public let testInteractions: Int
        public let coldStartUsers: Int
        public let coldStartItems: Int
        public let coldStartInteractions: Int
        public let repeatedInteractions: Int
        /// Models first (best first by the chosen metric for a sweep), then `published` (each
        /// matrix's ranker chosen as the nightly would, with the first model's factors), then
        /// popularity, then random.
        public let rows: [Row]
    }

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
        let registry = try ConsentRegistry.load(path: r.consentPath, asOf: r.ingest.asOf)
        let key = try PseudonymKey.load(file: r.keyFile)
        for c in r.configurations { try c.validate() }
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
        for definition in r.recommenders {
            let (split, trainUsage) = HeldOutSplit.make(log, test: testLog, definition: definition, split: r.split, threads: r.configurations.map(\.threads).max() ?? 1)
            usage.matrices += trainUsage
            let pairs = split.map { ($0.train, $0.held) }
            results.append(try evaluate(definition, pairs, logger: logger, progress: progress))
        }
        return EvaluationReport(split: r.preSplit != nil ? "pre-split: --train / --test files" : r.split.description,
                                k: r.k, usage: usage, recommenders: results)
    }

    private func evaluate(
        _ definition: RecommenderDefinition, _ pairs: [(InteractionMatrix, HeldOut)], logger: Logger,
        progress: @escaping (RunProgress) -> Void
    ) throws -> EvaluationReport.Recommender {
        let key = request.sortBy
        let models = try modelRows(definition, pairs, logger: logger, progress: progress)
            .sorted { key.value($0.row.metrics) > key.value($1.row.metrics) }
        var rows = models.map(\.row)
        if let best = models.first { rows.append(publishedRow(definition, pairs, best: best)) }
        let popularity = pairs.map { PopularityBaseline(train: $0.0.matrix) }
        rows.append(row("popularity", definition, pairs) { popularity[$0].scores })
        let random = RandomBaseline(seed: request.baselineSeed)
        rows.append(row("random", definition, pairs) { _ in random.scores })

        let held = pairs.map(\.1)
        return EvaluationReport.Recommender(
            recommender: definition.target, scope: definition.scope, matrices: pairs.count,
            trainInteractions: pairs.reduce(0) { $0 + $1.0.matrix.nonZeros }, testInteractions: held.reduce(0) { $0 + $1.test.nonZeros },
            coldStartUsers: held.reduce(0) { $0 + $1.coldStartUsers }, coldStartItems: held.reduce(0) { $0 + $1.coldStartItems },
            coldStartInteractions: held.reduce(0) { $0 + $1.coldStartInteractions },
            repeatedInteractions: held.reduce(0) { $0 + $1.repeatedInteractions }, rows: rows)
    }

    /// The ranker each matrix would publish, chosen as the nightly chooses it (`RankerPolicy`)
    /// from the best configuration's models, pooled.
    private func publishedRow(
        _ definition: RecommenderDefinition, _ pairs: [(InteractionMatrix, HeldOut)], best: (row: EvaluationReport.Row, scorers: [FactorScorer])
    ) -> EvaluationReport.Row {
        let policy = request.ranker, rankers = policy.scored
        var pooled = RankingMetrics.Accumulator(k: request.k)
        var perMatrix: [RankingMetrics] = []
        var kinds: [String: Int] = [:], unjudged = 0
        for (index, (train, held)) in pairs.enumerated() {
            let sums = RankerTrial.run(rankers, k: request.k, train: train.matrix, test: held.test, factors: best.scorers[index],
                                       popularity: PopularityBaseline(train: train.matrix))
            let byRanker = Dictionary(uniqueKeysWithValues: zip(rankers, sums))
            let (ranker, judged) = policy.choice(byRanker.mapValues(\.result), metric: request.gate.metric, minTestUsers: request.gate.minTestUsers)
            pooled.merge(byRanker[ranker]!)
            perMatrix.append(byRanker[ranker]!.result)
            kinds[ranker.kind, default: 0] += 1
            if !judged { unjudged += 1 }
        }
        var row = EvaluationReport.Row(name: "published", configuration: best.row.configuration, metrics: pooled.result,
                                       perWorkspace: definition.scope == .workspace ? .init(perMatrix) : nil, trainSeconds: nil)
        row.rankers = kinds
        row.unjudged = unjudged
        return row
    }

    /// One row per configuration: a model trained on each training matrix, timed, with its
    /// models' scorers.
    private func modelRows(
        _ definition: RecommenderDefinition, _ pairs: [(InteractionMatrix, HeldOut)], logger: Logger,
        progress: @escaping (RunProgress) -> Void
    ) throws -> [(row: EvaluationReport.Row, scorers: [FactorScorer])] {
        var rows: [(row: EvaluationReport.Row, scorers: [FactorScorer])] = []
        for (n, config) in request.configurations.enumerated() {
            let clock = ContinuousClock()
            let start = clock.now
            var scorers: [FactorScorer] = []
            for (index, (train, _)) in pairs.enumerated() {
                let model = try ImplicitALS(configuration: config).fit(train.matrix, logger: logger)
                scorers.append(FactorScorer(userFactors: model.userFactors, itemFactors: model.itemFactors))
                progress(RunProgress(stage: .train, done: n * pairs.count + index + 1, total: request.configurations.count * pairs.count))
            }
            let elapsed = start.duration(to: clock.now)
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            rows.append((row(Self.name(config), definition, pairs, configuration: config, seconds: seconds) { scorers[$0].scores }, scorers))
        }
        return rows
    }

    /// One ranker scored on every held-out matrix: pooled metrics, and for per-workspace
    /// recommenders the distribution over workspaces.
    private func row(
        _ name: String, _ definition: RecommenderDefinition, _ pairs: [(InteractionMatrix, HeldOut)],
        configuration: ALSConfiguration? = nil, seconds: Double? = nil, _ score: (Int) -> (Int, inout [Float]) -> Void
    ) -> EvaluationReport.Row {
        var pooled = RankingMetrics.Accumulator(k: request.k)
        var perMatrix: [RankingMetrics] = []
        for (index, (train, held)) in pairs.enumerated() {
            var a = RankingMetrics.Accumulator(k: request.k)
            a.add(train: train.matrix, test: held.test, scores: score(index))
            pooled.merge(a)
            perMatrix.append(a.result)
        }
        return .init(name: name, configuration: configuration, metrics: pooled.result,
                     perWorkspace: definition.scope == .workspace ? .init(perMatrix) : nil, trainSeconds: seconds)
    }

    static func name(_ c: ALSConfiguration) -> String {
        "ALS \(c.solver.rawValue) f=\(c.factors) λ=\(c.regularization) α=\(c.alpha) it=\(c.iterations)"
    }
}

