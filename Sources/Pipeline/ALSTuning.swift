import Cluster
import Evaluation
import Foundation
import Factorization
import Ingest
import Interactions
import Linalg
import Logging
import Platform

/// Tuning of one recommender's ALS hyper-parameters on a validation split carved from its
/// training part: the held-out split is applied again to the training events, models are fitted
/// on the validation split's training matrices and scored on its held-out part. The test split
/// is never read here; it is touched once, by the chosen configuration.
///
/// A global recommender is tuned as one. A per-workspace recommender is tuned per size bucket
/// (`bucket(users:)`): one search per bucket, scored pooled over the bucket's workspaces, so a
/// small workspace's few test users do not pick its hyper-parameters alone.
public struct ALSTuning: Sendable {
    /// `[recommenders.X.tune]`: the search, and the hyper-parameters it may change.
    public struct Plan: Sendable, Equatable, Encodable {
        public var strategy: HyperparameterSearch.Strategy = .random
        public var trials = 20
        public var seconds: Double?
        public var seed: UInt64 = 0
        /// Hyper-parameters that stay as configured (given explicitly on the command line or in
        /// the config's `als` table): names of `ALSTuning.space`.
        public var fixed: Set<String> = []

        public init() {}

        enum CodingKeys: String, CodingKey { case strategy, trials, seconds, seed, fixed }

        /// `fixed` sorted: the config digest must not depend on a set's order.
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(strategy, forKey: .strategy)
            try c.encode(trials, forKey: .trials)
            try c.encodeIfPresent(seconds, forKey: .seconds)
            try c.encode(seed, forKey: .seed)
            try c.encode(fixed.sorted(), forKey: .fixed)
        }
    }

    /// One bucket's result.
    public struct Choice: Sendable, Equatable, Codable {
        /// "global", or the bucket's name ("workspaces with < 50 training users", …).
        public let bucket: String
        public let configuration: ALSConfiguration
        /// The metric tuned for, e.g. `ndcg@10`.
        public let metric: String
        /// The validation metric of the chosen configuration (nil: nothing to tune on, and the
        /// configuration is the one given), and how many validation users it was pooled over.
        public let validationScore: Double?
        public let validationUsers: Int
        /// Distinct candidates scored, and fits run (halving fits some candidates several times).
        public let trials: Int
        public let fits: Int
        public let stoppedByTime: Bool
        /// The workspaces whose validation events the bucket was tuned on (pseudonyms, sorted).
        public let workspaces: [String]
    }

    /// The searched dimensions (names as in the config's `als` table) and their ranges.
    public static let space: [HyperparameterSearch.Dimension] = [
        .choice("factors", [16, 32, 64, 128]),
        .choice("iterations", [5, 10, 15, 25]),
        .range("regularization", 1e-3, 10, log: true),
        .range("alpha", 0.1, 30, log: true),
        .range("unobserved_weight", 0.01, 1, log: true),
        .range("regularization_exponent", 0, 1, log: false),
    ]

    /// Size buckets of per-workspace recommenders, by a workspace's training users.
    public static let bucketBounds = [50, 500]

    public static func bucket(users: Int) -> Int { bucketBounds.firstIndex { users < $0 } ?? bucketBounds.count }

    public static func bucketName(_ b: Int) -> String {
        switch b {
        case 0: "workspaces with < \(bucketBounds[0]) training users"
        case bucketBounds.count: "workspaces with ≥ \(bucketBounds[bucketBounds.count - 1]) training users"
        default: "workspaces with \(bucketBounds[b - 1])–\(bucketBounds[b] - 1) training users"
        }
    }

    /// A configuration's values of the searched dimensions.
    public static func values(of c: ALSConfiguration) -> [String: Double] {
        ["factors": Double(c.factors), "iterations": Double(c.iterations), "regularization": Double(c.regularization),
         "alpha": Double(c.alpha), "unobserved_weight": Double(c.unobservedWeight), "regularization_exponent": Double(c.regularizationExponent)]
    }

    /// `base` with a candidate's values, at a fidelity (a share of its iterations, at least 1).
    public static func configuration(_ base: ALSConfiguration, _ values: [String: Double], fidelity: Double = 1) -> ALSConfiguration {
        var c = base
        if let v = values["factors"] { c.factors = Int(v) }
        if let v = values["iterations"] { c.iterations = Int(v) }
        if let v = values["regularization"] { c.regularization = Float(v) }
        if let v = values["alpha"] { c.alpha = Float(v) }
        if let v = values["unobserved_weight"] { c.unobservedWeight = Float(v) }
        if let v = values["regularization_exponent"] { c.regularizationExponent = Float(v) }
        c.iterations = max(1, Int((Double(c.iterations) * fidelity).rounded()))
        return c
    }

    public let definition: RecommenderDefinition
    public let base: ALSConfiguration
    public let plan: Plan
    public let metric: SortMetric
    public let k: Int
    /// The ranks the recommender's data is spread over: every rank runs the same search. A
    /// per-workspace recommender's ranks score their own workspaces and pool the trials' sums;
    /// a global one's fit and score its people's rows together (`PersonRows`).
    public var collective: any Collective = SingleRank()

    public init(definition: RecommenderDefinition, base: ALSConfiguration, plan: Plan, metric: SortMetric, k: Int) {
        self.definition = definition
        self.base = base
        self.plan = plan
        self.metric = metric
        self.k = k
    }

    /// The validation split: `split` applied again to the events of `log` that `split` keeps
    /// for training (all of `log` when the test part came from other files).
    public static func validation(
        _ log: EventLog, definition: RecommenderDefinition, split: SplitStrategy, preSplit: Bool, threads: Int,
        collective: any Collective = SingleRank()
    ) -> [(train: InteractionMatrix, held: HeldOut)] {
        let training = preSplit ? log : log.subset(split.testMask(log, definition: definition, collective: collective).map { !$0 })
        return HeldOutSplit.make(training, definition: definition, split: validationSplit(split), threads: threads, collective: collective).pairs
    }

    /// How the training part is split again: the same strategy, except that a fixed cutoff time
    /// (which no training event reaches) becomes the last 20% of the training part's time, and
    /// a random split draws with another seed.
    public static func validationSplit(_ split: SplitStrategy) -> SplitStrategy {
        switch split {
        case .temporal(.time): .temporal(.lastFraction(0.2))
        case .random(let fraction, let seed): .random(fraction: fraction, seed: seed &+ 0x9E37_79B9_7F4A_7C15)
        default: split
        }
    }

    /// Tunes on `validation`: pairs from `HeldOutSplit.make` over the training part's events.
    /// - Parameter bucketOf: a workspace pseudonym's bucket (by its training matrix in the
    ///   outer split); ignored for a global recommender.
    /// - Returns: per bucket (0 for a global recommender) the chosen configuration.
    public func tune(
        validation: [(train: InteractionMatrix, held: HeldOut)], bucketOf: (String) -> Int, logger: Logger
    ) throws -> [Int: Choice] {
        var groups: [Int: [(train: InteractionMatrix, held: HeldOut)]] = [:]
        for pair in validation { groups[definition.scope == .global ? 0 : bucketOf(pair.train.workspace ?? ""), default: []].append(pair) }
        var everywhere = Set(groups.keys)
        if collective.size > 1 {
            var w = WireWriter()
            w.column(groups.keys.map(Int64.init))
            for message in collective.gather(w.bytes) {
                var r = WireReader(message)
                everywhere.formUnion(try r.column(Int64.self).map(Int.init))
            }
        }
        var choices: [Int: Choice] = [:]
        for b in everywhere.sorted() {
            choices[b] = try tune(groups[b] ?? [], bucket: definition.scope == .global ? "global" : Self.bucketName(b), logger: logger)
        }
        return choices
    }

    private func tune(_ pairs: [(train: InteractionMatrix, held: HeldOut)], bucket: String, logger: Logger) throws -> Choice {
        let workspaces = Array(Set(pairs.flatMap { $0.train.provenance.workspaces })).sorted()
        let mine = pairs.reduce(0) { total, pair in total + (0..<pair.held.test.rows).filter { pair.held.test.count(ofRow: $0) > 0 }.count }
        var search = HyperparameterSearch(
            dimensions: Self.space.filter { !plan.fixed.contains($0.name) }, strategy: plan.strategy, trials: plan.trials,
            seconds: plan.seconds, seed: plan.seed)
        search.initial = [Self.values(of: base).filter { name, _ in !plan.fixed.contains(name) }]
        let spread = collective.size > 1
        if spread && definition.scope == .workspace {
            return try tuneAcrossRanks(pairs, search: search, workspaces: workspaces, users: mine, bucket: bucket, logger: logger)
        }
        // A global matrix's rows are spread: its test users are every rank's.
        let users = spread ? collective.sum([mine])[0] : mine
        guard users > 0, !search.dimensions.isEmpty else {
            return Choice(bucket: bucket, configuration: base, metric: metricName, validationScore: nil, validationUsers: users, trials: 0, fits: 0, stoppedByTime: false,
                          workspaces: [])
        }
        let outcome = try search.run(outOfTime: spread ? rankZeroClock(search) : nil) { values, fidelity in
            try score(Self.configuration(base, values, fidelity: fidelity), pairs, logger: logger)
        }
        if collective.isLeader { logTuned(bucket, outcome, logger: logger) }
        return Choice(bucket: bucket, configuration: Self.configuration(base, outcome.best), metric: metricName, validationScore: outcome.score.isNaN ? nil : outcome.score,
                      validationUsers: users, trials: outcome.candidates, fits: outcome.trials.count, stoppedByTime: outcome.stoppedByTime,
                      workspaces: workspaces)
    }

    /// Whether a search spread over the ranks is out of time: rank 0's clock decides for all.
    func rankZeroClock(_ search: HyperparameterSearch) -> (Double) -> Bool {
        let seconds = search.seconds ?? .infinity
        return { [collective] elapsed in collective.broadcast([elapsed > seconds ? 1 : 0]) == [1] }
    }

    func logTuned(_ bucket: String, _ outcome: HyperparameterSearch.Outcome, logger: Logger) {
        logger.info("tuned", metadata: [LogKey.recommender: "\(definition.target.rawValue)", LogKey.bucket: "\(bucket)",
                                        LogKey.trials: "\(outcome.trials.count)", LogKey.score: "\(outcome.score)"])
    }

    var metricName: String { "\(metric.rawValue)@\(k)" }

    /// The pooled validation metric of ALS with `config` over `pairs`; NaN when a fit fails.
    private func score(_ config: ALSConfiguration, _ pairs: [(train: InteractionMatrix, held: HeldOut)], logger: Logger) throws -> Double {
        var pooled = RankingMetrics.Accumulator(k: k)
        let models: [ALSModel]
        do {
            let jobs = pairs.map { TrainingScheduler.Job($0.train, configuration: config, collective: collective) }
            models = try TrainingScheduler.fit(jobs, threads: config.threads, logger: logger) { _ in }
        } catch { return .nan }
        for (pair, model) in zip(pairs, models) { pooled.merge(Self.sums(pair, model, k: k, collective: collective)) }
        return metric.value(pooled.result)
    }

    /// One matrix's validation sums under a fitted model: what the bucket's pooled score adds
    /// up, matrix by matrix in pseudonym order, on one rank or across many.
    /// A global matrix's users are scored segment by segment (`RankerTrial.Parts`).
    /// Spread over ranks, every rank's segments are added (every rank calls it).
    static func sums(
        _ pair: (train: InteractionMatrix, held: HeldOut), _ model: ALSModel, k: Int, collective: any Collective = SingleRank()
    ) -> RankingMetrics.Accumulator {
        let scorer = FactorScorer(userFactors: model.userFactors, itemFactors: model.itemFactors)
        if collective.size > 1, let persons = pair.train.persons {
            let parts = RankerTrial.parts([.als], k: k, train: pair.train.matrix, test: pair.held.test, factors: scorer,
                                          popularity: PopularityBaseline(counts: []), rows: persons.rows)
            return RankerTrial.Parts.combined(collective.gathered(parts.withoutUsers), k: k)[0]
        }
        var sums = RankingMetrics.Accumulator(k: k)
        sums.add(train: pair.train.matrix, test: pair.held.test, rows: pair.train.persons?.rows, scores: scorer.scores)
        return sums
    }
}
