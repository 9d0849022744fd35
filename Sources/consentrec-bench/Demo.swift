import ArgumentParser
import Evaluation
import Factorization
import Foundation
import Interactions
import Linalg
import SyntheticData

/// The numeric core end to end on generated data: train both solvers with progress, compare
/// with popularity on a held-out split, fold a user in, recommend, find similar items.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train, evaluate and recommend on generated data with planted communities.")

    @Option(help: "Users.") var users = 20_000
    @Option(help: "Items.") var items = 3_000
    @Option(help: "Non-zeros wanted.") var nonZeros = 400_000
    @OptionGroup var training: TrainingOptions

    func run() throws {
        let shape = SyntheticInteractions.Shape(users: users, items: items, nonZeros: nonZeros, communities: 30, affinity: 0.8)
        let data = SyntheticInteractions.generate(shape, seed: 2026)
        let (train, test) = InteractionSplit.random(data, testFraction: 0.2, seed: 1)
        print("data: \(data.rows) users × \(data.columns) items, \(data.nonZeros) non-zeros, "
            + "\(shape.communities) planted communities (generated, seed 2026)")
        print("split: 20% of interactions held out at random (seed 1): train \(train.nonZeros), test \(test.nonZeros)")

        let popularity = PopularityBaseline(train: train)
        let baseline = RankingMetrics.evaluate(k: 10, train: train, test: test, scores: popularity.scores)
        var rows = [("popularity", baseline, 0.0)]
        var cholesky: ALSModel?
        for solver in ALSConfiguration.Solver.allCases {
            let config = training.configuration(solver: solver)
            print("\ntraining \(solver.rawValue): f=\(config.factors) λ=\(config.regularization) α=\(config.alpha) "
                + "iterations=\(config.iterations) threads=\(config.threads)")
            let (model, seconds) = try measure {
                try ImplicitALS(configuration: config).fit(train, logger: .bench, reportLoss: true) { report in
                    print(String(format: "  iteration %2d/%d  %.3f s  loss %.6f",
                                 report.iteration, report.iterations, report.seconds, report.loss ?? .nan))
                }
            }
            let scorer = FactorScorer(userFactors: model.userFactors, itemFactors: model.itemFactors)
            let metrics = RankingMetrics.evaluate(k: 10, train: train, test: test, scores: scorer.scores)
            rows.append(("ALS \(solver.rawValue)", metrics, seconds))
            if solver == .cholesky { cholesky = model }
        }

        print("\nheld-out ranking, \(baseline.users) test users (precision@10 = hits/10; NDCG@10 binary relevance):")
        print("  model           precision@10   ndcg@10   train s".dropFirst(2))
        for (name, m, seconds) in rows {
            let label = name.padding(toLength: 14, withPad: " ", startingAt: 0)
            print(label + String(format: "  %12.4f  %8.4f  %8.2f", m.textbook.precision, m.textbook.ndcg, seconds))
        }

        guard let model = cholesky else { return }
        let recommender = Recommender(model: model)
        let user = (0..<train.rows).first { train.count(ofRow: $0) >= 5 } ?? 0
        let row = train.row(user)
        let folded = try recommender.userVector(items: row.columns.map(Int.init), weights: Array(row.values))
        let trained = model.userFactors.row(user)
        let drift = zip(folded, trained).map { abs($0 - $1) }.max() ?? 0
        print("\nfold-in: user \(user) rebuilt from their \(row.columns.count) training items and the item factors alone; "
            + String(format: "largest difference from the trained vector %.2e", drift))
        let top = recommender.recommend(userVector: folded, k: 5, excluding: row.columns.map(Int.init))
        let held = Set(test.row(user).columns.map(Int.init))
        print("top 5 for user \(user) (* = in their held-out interactions):")
        for item in top { print(String(format: "  item %5d  score %.4f %@", item.index, item.score, held.contains(item.index) ? "*" : "")) }
        let anchor = top.first?.index ?? 0
        print("items most similar to item \(anchor) (cosine):")
        for item in recommender.similarItems(to: anchor, k: 5) { print(String(format: "  item %5d  %.4f", item.index, item.score)) }
    }
}
