/// A textbook metric to sort a sweep by.
public enum SortMetric: String, Sendable, CaseIterable {
    case precision, recall, ndcg, map
    case hitRate = "hit-rate"
    case auc, coverage

    public func value(_ m: RankingMetrics) -> Double {
        switch self {
        case .precision: m.textbook.precision
        case .recall: m.textbook.recall
        case .ndcg: m.textbook.ndcg
        case .map: m.textbook.map
        case .hitRate: m.textbook.hitRate
        case .auc: m.textbook.auc
        case .coverage: m.coverage
        }
    }
}
