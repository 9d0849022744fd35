import Cluster
import Evaluation
import Factorization
import Foundation
import Interactions
import Logging
import Platform

extension ALSTuning {
    /// One bucket's search when its workspaces are spread over ranks: every rank walks the
    /// same candidates; each scores its own matrices and the sums of all are merged in
    /// pseudonym order, as one process merges them, so every rank (and one process) chooses
    /// the same. Rank 0's clock decides a time budget; a fit that fails anywhere fails the trial.
    func tuneAcrossRanks(
        _ pairs: [(train: InteractionMatrix, held: HeldOut)], search: HyperparameterSearch, workspaces: [String], users: Int, bucket: String,
        logger: Logger
    ) throws -> Choice {
        let collective = self.collective
        let allUsers = collective.sum([users])[0]
        var names = WireWriter()
        names.strings(workspaces)
        let allWorkspaces = try collective.gather(names.bytes).reduce(into: Set<String>()) { all, message in
            var r = WireReader(message)
            all.formUnion(try r.strings())
        }.sorted()
        guard allUsers > 0, !search.dimensions.isEmpty else {
            return Choice(bucket: bucket, configuration: base, metric: metricName, validationScore: nil, validationUsers: allUsers, trials: 0, fits: 0,
                          stoppedByTime: false, workspaces: [])
        }
        let seconds = search.seconds ?? .infinity
        let outcome = try search.run(outOfTime: { elapsed in collective.broadcast([elapsed > seconds ? 1 : 0]) == [1] }) { values, fidelity in
            try pooledScore(Self.configuration(base, values, fidelity: fidelity), pairs, logger: logger)
        }
        logger.info("tuned", metadata: [LogKey.recommender: "\(definition.target.rawValue)", LogKey.bucket: "\(bucket)",
                                        LogKey.trials: "\(outcome.trials.count)", LogKey.score: "\(outcome.score)"])
        return Choice(bucket: bucket, configuration: Self.configuration(base, outcome.best), metric: metricName,
                      validationScore: outcome.score.isNaN ? nil : outcome.score, validationUsers: allUsers, trials: outcome.candidates,
                      fits: outcome.trials.count, stoppedByTime: outcome.stoppedByTime, workspaces: allWorkspaces)
    }

    /// The bucket's pooled validation metric over every rank's matrices; NaN when a fit fails on any.
    private func pooledScore(_ config: ALSConfiguration, _ pairs: [(train: InteractionMatrix, held: HeldOut)], logger: Logger) throws -> Double {
        var mine: [String: RankingMetrics.Accumulator]? = [:]
        do {
            let models = try TrainingScheduler.fit(pairs.map(\.train.matrix), configuration: config, threads: config.threads, logger: logger) { _ in }
            for (pair, model) in zip(pairs, models) { mine?[pair.train.workspace ?? ""] = Self.sums(pair, model, k: k) }
        } catch { mine = nil }
        let shares = collective.gather(mine.map { Array((try? JSONEncoder().encode($0)) ?? Data()) } ?? [])
        var all: [String: RankingMetrics.Accumulator] = [:]
        for share in shares {
            guard !share.isEmpty else { return .nan }
            all.merge(try JSONDecoder().decode([String: RankingMetrics.Accumulator].self, from: Data(share))) { a, _ in a }
        }
        var pooled = RankingMetrics.Accumulator(k: k)
        for key in all.keys.sorted() { pooled.merge(all[key]!) }
        return metric.value(pooled.result)
    }
}
