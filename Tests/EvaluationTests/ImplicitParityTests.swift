import Evaluation
import Factorization
import Foundation
import Interactions
import Linalg
import SyntheticData
import TestSupport
import XCTest

/// Our "implicit-compatible" metrics must equal implicit.evaluation.ranking_metrics_at_k on
/// the same factors and split, run by the Python at $CONSENTREC_PYTHON (`make test` installs
/// implicit into .venv; without it the test fails).
final class ImplicitParityTests: XCTestCase {
    func testImplicitCompatibleMetrics_equalImplicitsOwn() throws {
        let python = ProcessInfo.processInfo.environment["CONSENTREC_PYTHON"] ?? "/usr/bin/python3"
        let probe = try? CommandRunner.run(python, ["-c", "import implicit, scipy"], absolute: true)
        guard probe?.status == 0 else {
            return XCTFail("no Python with implicit at $CONSENTREC_PYTHON: run the tests with `make test`, which installs it into .venv")
        }

        let data = SyntheticInteractions.generate(.init(users: 400, items: 150, nonZeros: 6000, communities: 8), seed: 11)
        let (train, test) = InteractionSplit.random(data, testFraction: 0.2, seed: 12)
        let model = try ImplicitALS(configuration: ALSConfiguration(factors: 12, iterations: 5, threads: 2)).fit(train, logger: .quiet)
        let scorer = FactorScorer(userFactors: model.userFactors, itemFactors: model.itemFactors)
        let ours = RankingMetrics.evaluate(k: 10, train: train, test: test, scores: scorer.scores)

        let dir = TemporaryDirectory()
        for (name, m) in [("train.csv", train), ("test.csv", test)] {
            var text = "row,col,value\n"
            for r in 0..<m.rows { for (c, v) in zip(m.row(r).columns, m.row(r).values) { text += "\(r),\(c),\(v)\n" } }
            dir.write(name, text)
        }
        dir.write("users.f32", model.userFactors.storage.withUnsafeBytes { Data($0) })
        dir.write("items.f32", model.itemFactors.storage.withUnsafeBytes { Data($0) })
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/implicit_metrics.py").path
        let result = try CommandRunner.run(python, [script, "--dir", dir.path, "--users", "400", "--items", "150", "--factors", "12", "-k", "10"], absolute: true)
        XCTAssertEqual(result.status, 0, result.stderr)
        let theirs = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Double]
        XCTAssertEqual(ours.implicit.precision, theirs["precision"]!, accuracy: 1e-6)
        XCTAssertEqual(ours.implicit.map, theirs["map"]!, accuracy: 1e-6)
        XCTAssertEqual(ours.implicit.ndcg, theirs["ndcg"]!, accuracy: 1e-6)
        XCTAssertEqual(ours.implicit.auc, theirs["auc"]!, accuracy: 1e-6)
    }
}
