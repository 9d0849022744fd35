import Cluster
import Factorization
import Interactions
import Logging

/// Training: every model that passed its gate, fitted on all its data with its recommender's
/// hyper-parameters, from its held-out model's factors where it has one. Writes nothing. Works
/// on any subset of the models — a workspace shard's, one recommender's — and gives each model
/// the same factors as a call on all of them.
public enum TrainingStage {
    /// One fitted model per entry of `toTrain`, in its order.
    /// - Parameter progress: models done and the count of the recommender being trained.
    /// A model already `fitted` (the private global model) is returned as it is. A global
    /// model's fit spreads over the ranks of `collective`, every rank fitting its own rows.
    /// With `loss`, every model fitted alone (a global one, a large workspace's) in one
    /// process records its training loss per iteration, handed over with its index in `toTrain`.
    public static func fit(
        _ toTrain: [ModelToTrain], threads: Int, collective: any Collective = SingleRank(), logger: Logger,
        loss: ((Int, [Double]) -> Void)? = nil, progress: (Int, Int) -> Void
    ) throws -> [ALSModel] {
        var fitted = toTrain.map(\.fitted)
        var targets: [RecommenderDefinition.Target] = []
        for m in toTrain where !targets.contains(m.recommender.definition.target) { targets.append(m.recommender.definition.target) }
        for target in targets {
            let indices = toTrain.indices.filter { toTrain[$0].recommender.definition.target == target && toTrain[$0].fitted == nil }
            guard !indices.isEmpty else { continue }
            let jobs = indices.map {
                TrainingScheduler.Job(toTrain[$0].matrix, configuration: toTrain[$0].configuration, warmStart: toTrain[$0].warmStart,
                                      collective: collective)
            }
            let models = try TrainingScheduler.fit(jobs, threads: threads, logger: logger, loss: loss.map { record in { record(indices[$0], $1) } }) {
                progress($0, indices.count)
            }
            for (j, i) in indices.enumerated() { fitted[i] = models[j] }
        }
        return fitted.map { $0! }
    }
}
