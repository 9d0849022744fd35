
/// When a freshly trained model may replace the published one.
///
/// On the recommender's held-out split, the model's metric must beat popularity's by
/// `minLiftOverPopularity` (0.1: at least 10% higher) and fall no more than
/// `maxDropFromLastRun` below the last published run's value for the same model (0.2: at most
/// 20% lower). The lift requirement is capped at 1, the metric's maximum. A model with fewer than `minTestUsers` test users cannot be judged; it is
/// published as "ungated" and reported as such.
public struct QualityGate: Sendable, Codable, Equatable {
    public var metric: SortMetric = .ndcg
    public var minLiftOverPopularity = 0.0
    public var maxDropFromLastRun = 0.2
    public var minTestUsers = 5
    /// Whether a model that cannot be judged (too few test users) is published. Default true:
    /// small workspaces still get models; false holds them back (fail closed on quality).
    public var publishUngated = true

    public init() {}

    public enum Verdict: Sendable, Codable, Equatable {
        case passed
        case ungated(reason: String)
        case failed(reason: String)

        public var publishes: Bool { if case .failed = self { false } else { true } }
    }

    public func judge(model: RankingMetrics, popularity: RankingMetrics, lastRun: Double?) -> Verdict {
        judge(model: metric.value(model), popularity: metric.value(popularity), testUsers: model.users, lastRun: lastRun)
    }

    /// The verdict on the gate metric's values themselves: the model's and popularity's, over
    /// `testUsers` test users (a private model's noisy means and noisy count).
    public func judge(model m: Double, popularity p: Double, testUsers: Int, lastRun: Double?) -> Verdict {
        guard testUsers >= minTestUsers else {
            let reason = "\(testUsers) test users, fewer than \(minTestUsers)"
            return publishUngated ? .ungated(reason: reason) : .failed(reason: reason + ", and publish_ungated is false")
        }
        // Every gate metric is at most 1: a perfect model passes even when popularity is
        // perfect too and the lift cannot be met.
        if m < min(p * (1 + minLiftOverPopularity), 1) {
            return .failed(reason: String(format: "%@ %.4f does not beat popularity's %.4f by %.0f%%", metric.rawValue, m, p, minLiftOverPopularity * 100))
        }
        if let last = lastRun, m < last * (1 - maxDropFromLastRun) {
            return .failed(reason: String(format: "%@ %.4f is more than %.0f%% below the last run's %.4f", metric.rawValue, m, maxDropFromLastRun * 100, last))
        }
        return .passed
    }
}

extension SortMetric: Codable {}
