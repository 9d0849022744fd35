import Factorization
import Linalg
import TestSupport
import XCTest

final class RecommenderTests: XCTestCase {
    func trainedCholesky() throws -> (SparseMatrix, ALSModel) {
        let data = RandomInputs.sparse(rows: 60, columns: 30, density: 0.2, seed: 51)
        let config = ALSConfiguration(factors: 8, regularization: 0.1, alpha: 2, iterations: 5, solver: .cholesky, threads: 2)
        return (data, try ImplicitALS(configuration: config).fit(data, logger: .quiet))
    }

    func testFoldIn_reproducesTrainedUserFactors_exactSolver() throws {
        let (data, model) = try trainedCholesky()
        let recommender = Recommender(model: model)
        for u in 0..<data.rows {
            let row = data.row(u)
            let x = try recommender.userVector(items: row.columns.map(Int.init), weights: Array(row.values))
            let trained = model.userFactors.row(u)
            XCTAssertLessThanOrEqual(DenseReference.relativeError(x, trained.map(Double.init)), 1e-4, "user \(u)")
        }
    }

    func testFoldIn_acceptsAnyOrderAndRepeats_asTheSummedInteractions() throws {
        let (_, model) = try trainedCholesky()
        let recommender = Recommender(model: model)
        let summed = try recommender.userVector(items: [3, 7, 12], weights: [2, 1, 4])
        let scattered = try recommender.userVector(items: [12, 3, 7, 12, 3], weights: [3, 1, 1, 1, 1])
        XCTAssertEqual(summed, scattered)
        XCTAssertEqual(try recommender.userVector(items: [], weights: []), [Float](repeating: 0, count: 8))
        XCTAssertThrowsError(try recommender.userVector(items: [30], weights: [1]))
        XCTAssertThrowsError(try recommender.userVector(items: [1], weights: [-1]))
    }

    func testRecommend_excludesKnownItems_andRanksByScore() throws {
        let (data, model) = try trainedCholesky()
        let recommender = Recommender(model: model)
        let row = data.row(0)
        let items = row.columns.map(Int.init)
        let top = try recommender.recommend(items: items, weights: Array(row.values), k: 5)
        XCTAssertEqual(top.count, 5)
        XCTAssertTrue(Set(top.map(\.index)).isDisjoint(with: items))
        let x = try recommender.userVector(items: items, weights: Array(row.values))
        var allScores: [(item: Int, score: Float)] = []
        for i in 0..<30 where !items.contains(i) {
            var score: Float = 0
            for k in 0..<8 { score += x[k] * model.itemFactors[i, k] }
            allScores.append((i, score))
        }
        allScores.sort { a, b in a.score > b.score || (a.score == b.score && a.item < b.item) }
        XCTAssertEqual(top.map(\.index), allScores.prefix(5).map(\.item))
        for (item, expected) in zip(top, allScores) { XCTAssertEqual(item.score, expected.score, accuracy: 1e-5) }
    }

    func testSimilarItems_rankByCosine_withoutTheItemItself() throws {
        let (_, model) = try trainedCholesky()
        let recommender = Recommender(model: model)
        let y = model.itemFactors
        func cosine(_ a: Int, _ b: Int) -> Double {
            var dot = 0.0, na = 0.0, nb = 0.0
            for k in 0..<y.columns {
                dot += Double(y[a, k]) * Double(y[b, k])
                na += Double(y[a, k]) * Double(y[a, k])
                nb += Double(y[b, k]) * Double(y[b, k])
            }
            return na * nb > 0 ? dot / (na * nb).squareRoot() : 0
        }
        let similar = recommender.similarItems(to: 4, k: 6)
        let expected = (0..<30).filter { $0 != 4 }.sorted { cosine(4, $0) > cosine(4, $1) }
        XCTAssertEqual(similar.map(\.index), Array(expected.prefix(6)))
        for item in similar { XCTAssertEqual(Double(item.score), cosine(4, item.index), accuracy: 1e-5) }
    }
}
