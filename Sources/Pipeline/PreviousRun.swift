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

    /// The mean of `metric` over the last run's models of `recommender`, if any recorded it.
    public func meanMetric(_ metric: String, recommender: String) -> Double? {
        let values = run?.manifest.models.filter { $0.recommender == recommender }.compactMap { $0.metrics?[metric] } ?? []
        return values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
    }
}
