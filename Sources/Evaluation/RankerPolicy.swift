/// Which ranker a recommender's models publish, and how it is chosen
/// (`[recommenders.X.ranker]` in the nightly config).
///
/// With `choose = best` each model is judged on its own held-out data: ALS, popularity, and a
/// blend for each β of `betas` are scored, and the one with the highest gate metric is
/// published (on a tie the earlier of: ALS, popularity, blends by increasing β). The choice is
/// made per model from that model's own data alone, so one workspace's data never picks
/// another's ranker. A model with fewer test users than the gate's `min_test_users` cannot be
/// judged: it publishes `unjudged`.
public struct RankerPolicy: Sendable, Equatable, Codable {
    public enum Choice: String, Sendable, Codable, CaseIterable {
        /// The best of ALS, popularity and the blends, per model.
        case best
        /// ALS always: the operator forces the factorisation's own ranking.
        case als
        case popularity
        /// The best blend (β fitted per model over `betas`).
        case blend
    }

    public static let defaultBetas: [Float] = [0.01, 0.03, 0.1, 0.3, 1, 3, 10]

    public var choose: Choice = .best
    /// The blend weights tried, increasing.
    public var betas: [Float] = Self.defaultBetas
    /// Set by the operator; nil: `als` for `best` and `als`, `popularity` for `popularity`,
    /// the middle β of `betas` for `blend`.
    public var unjudgedRanker: Ranker?

    public init(choose: Choice = .best, betas: [Float] = Self.defaultBetas, unjudged: Ranker? = nil) {
        self.choose = choose
        self.betas = betas
        self.unjudgedRanker = unjudged
    }

    /// What a model that cannot be judged publishes.
    public var unjudged: Ranker {
        if let unjudgedRanker { return unjudgedRanker }
        switch choose {
        case .best, .als: return .als
        case .popularity: return .popularity
        case .blend: return .blend(beta: betas[betas.count / 2])
        }
    }

    /// The rankers a judged model chooses among, in tie-breaking order.
    public var candidates: [Ranker] {
        switch choose {
        case .best: [.als, .popularity] + betas.map { .blend(beta: $0) }
        case .als: [.als]
        case .popularity: [.popularity]
        case .blend: betas.map { .blend(beta: $0) }
        }
    }

    /// Every ranker a held-out evaluation scores: ALS and popularity (always reported), the
    /// candidates and `unjudged`, each once.
    public var scored: [Ranker] {
        var all: [Ranker] = []
        for r in [.als, .popularity] + candidates + [unjudged] where !all.contains(r) { all.append(r) }
        return all
    }

    /// The ranker a model publishes, from every ranker of `scored` evaluated on its held-out
    /// data; `judged` is false when it had fewer than `minTestUsers` test users (or none).
    public func choice(_ metrics: [Ranker: RankingMetrics], metric: SortMetric, minTestUsers: Int) -> (ranker: Ranker, judged: Bool) {
        choice(metrics.mapValues(metric.value), testUsers: metrics[.als]?.users ?? 0, minTestUsers: minTestUsers)
    }

    /// The same choice from each ranker's value of the gate metric over `testUsers` test users
    /// (a private model's noisy means and noisy count).
    public func choice(_ values: [Ranker: Double], testUsers: Int, minTestUsers: Int) -> (ranker: Ranker, judged: Bool) {
        guard testUsers > 0, testUsers >= minTestUsers else { return (unjudged, false) }
        var best = candidates[0]
        for r in candidates.dropFirst() where values[r]! > values[best]! { best = r }
        return (best, true)
    }

    enum CodingKeys: String, CodingKey {
        case choose, betas
        case unjudgedRanker = "unjudged"
    }

    /// Why a policy cannot be used, or nil.
    public var problem: String? {
        if betas.isEmpty { return "betas must list at least one weight" }
        if betas.contains(where: { !$0.isFinite || $0 < 0 || $0 > Ranker.maxBeta }) { return "betas must be numbers from 0 to 1e6" }
        if zip(betas, betas.dropFirst()).contains(where: { $0 >= $1 }) { return "betas must increase" }
        if let u = unjudgedRanker, choose != .best, !candidates.contains(u) {
            return "unjudged must be one of the rankers choose = \"\(choose.rawValue)\" allows (\(candidates.map(\.description).joined(separator: ", ")))"
        }
        return nil
    }
}
