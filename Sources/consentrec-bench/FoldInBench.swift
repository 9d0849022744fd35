import ArgumentParser
import Factorization
import Linalg
import SyntheticData

/// Times fold-in of one user and top-k recommendation against trained item factors.
struct FoldInBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "foldin", abstract: "Time fold-in and top-10 recommendation per user.")

    @OptionGroup var data: DataSetOptions
    @Option(help: "Factors per vector.") var factors = 64
    @Option(help: "Users to fold in.") var sample = 5000

    func run() throws {
        print("machine: \(BLASCore.summary)")
        let shape = SyntheticInteractions.Shape(users: data.users / 10, items: data.items, nonZeros: data.nonZeros / 10)
        let matrix = SyntheticInteractions.generate(shape, seed: data.dataSeed)
        let config = ALSConfiguration(factors: factors, iterations: 3, threads: 2)
        let model = try ImplicitALS(configuration: config).fit(matrix, logger: .bench)
        let recommender = Recommender(model: model)
        let users = (0..<min(sample, matrix.rows)).map { u in
            (matrix.row(u).columns.map(Int.init), Array(matrix.row(u).values))
        }
        let meanItems = Double(users.reduce(0) { $0 + $1.0.count }) / Double(users.count)
        var sink: Float = 0
        let (_, foldSeconds) = try measure {
            for (items, weights) in users { sink += try recommender.userVector(items: items, weights: weights)[0] }
        }
        let vectors = try users.map { try recommender.userVector(items: $0.0, weights: $0.1) }
        let (_, topSeconds) = measure {
            for (x, user) in zip(vectors, users) { sink += recommender.recommend(userVector: x, k: 10, excluding: user.0)[0].score }
        }
        print(String(format: "fold-in f=%d: %.1f µs per user (mean %.1f items); top-10 over %d items: %.1f µs per user%@",
                     factors, foldSeconds / Double(users.count) * 1e6, meanItems, matrix.columns,
                     topSeconds / Double(users.count) * 1e6, sink.isNaN ? " (nan)" : ""))
    }
}
