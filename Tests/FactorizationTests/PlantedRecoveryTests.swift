import Evaluation
import Factorization
import Interactions
import Linalg
import SyntheticData
import XCTest

/// On data with planted communities, a trained model must rank held-out items far better
/// than popularity does: the structure is there to be found.
final class PlantedRecoveryTests: XCTestCase {
    func testEverySolver_recoversPlantedCommunities_farAbovePopularity() throws {
        let data = SyntheticInteractions.generate(
            .init(users: 1500, items: 600, nonZeros: 30_000, communities: 20, affinity: 0.9), seed: 41)
        let (train, test) = InteractionSplit.random(data, testFraction: 0.2, seed: 42)
        let popularity = PopularityBaseline(train: train)
        let baseline = RankingMetrics.evaluate(k: 10, train: train, test: test, scores: popularity.scores)
        for solver in ALSConfiguration.Solver.allCases {
            let config = ALSConfiguration(factors: 24, regularization: 0.1, alpha: 2, iterations: 10, solver: solver, threads: 2)
            let model = try ImplicitALS(configuration: config).fit(train, logger: .quiet)
            let scorer = FactorScorer(userFactors: model.userFactors, itemFactors: model.itemFactors)
            let metrics = RankingMetrics.evaluate(k: 10, train: train, test: test, scores: scorer.scores)
            XCTAssertGreaterThan(metrics.users, 500)
            XCTAssertGreaterThan(metrics.textbook.precision, 2 * baseline.textbook.precision, "\(solver): \(metrics) vs \(baseline)")
            XCTAssertGreaterThan(metrics.textbook.ndcg, 2 * baseline.textbook.ndcg, "\(solver): \(metrics) vs \(baseline)")
        }
    }
}
