import Publishing

/// The last published run, read once when a run starts (through `current`, and only if its
/// seal holds under today's key): the gate compares against its metrics and carry-forward
/// copies its models. Nil inside when nothing is published or the run fails its seal.
public struct PreviousRun: Sendable {
    public let run: PublishedRun?

    /// Nil: nothing was published before.
    public init(run: PublishedRun?) { self.run = run }

    public static func read(_ root: OutputRoot, seal: ManifestSeal) -> PreviousRun {
        PreviousRun(run: root.currentRun.flatMap { try? PublishedRun.open($0, seal: seal) })
    }

    /// The last run's model of `recommender` for `workspace` (nil: the global model).
    public func model(_ recommender: String, workspace: String?) -> Manifest.Model? {
        run?.manifest.models.first { $0.recommender == recommender && $0.workspace == workspace }
    }

    /// `metric` pooled over the test users of the last run's models of `recommender` — each
    /// model's value weighted by its test users, as the report pools tonight's — or nil when
    /// no model recorded it with a test user.
    public func pooledMetric(_ metric: String, recommender: String) -> Double? {
        var sum = 0.0, users = 0.0
        for model in run?.manifest.models ?? [] where model.recommender == recommender {
            guard let value = model.metrics?[metric], let n = model.metrics?["test_users"], n > 0 else { continue }
            sum += value * n
            users += n
        }
        return users > 0 ? sum / users : nil
    }
}
