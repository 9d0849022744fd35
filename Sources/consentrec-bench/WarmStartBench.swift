import ArgumentParser
import Evaluation
import Factorization
import Foundation
import Interactions
import Linalg
import SyntheticData

/// What the nightly's warm start changes: the full model fitted from random factors against
/// the same model fitted from the held-out model's factors in fewer iterations — time, loss,
/// and ranking quality on interactions neither has seen.
struct WarmStartBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "warm-start",
        abstract: "Compare the full model fitted from random factors with fits warm-started from the held-out model.")

    @OptionGroup var data: DataSetOptions
    @OptionGroup var training: TrainingOptions
    @Option(help: "Solver: cg or cholesky.") var solver: ALSConfiguration.Solver = .conjugateGradient
    @Option(help: "Iterations of the warm-started fits to compare (repeatable).") var warmIterations: [Int] = [1, 3, 5]

    func run() throws {
        let shape = SyntheticInteractions.Shape(
            users: data.users * data.scale, items: data.items * data.scale, nonZeros: data.nonZeros * data.scale)
        let generated = SyntheticInteractions.generate(shape, seed: data.dataSeed)
        // Unseen: 10% held back from every fit, the night after. Full: what the nightly has;
        // its held-out model sees 80% of it (the nightly's own split).
        let (full, unseen) = InteractionSplit.random(generated, testFraction: 0.1, seed: 1)
        let (part, _) = InteractionSplit.random(full, testFraction: 0.2, seed: 2)
        print(String(format: "data: %d users × %d items; full %d non-zeros, held-out model's part %d, unseen %d",
                     full.rows, full.columns, full.nonZeros, part.nonZeros, unseen.nonZeros))
        print("machine: \(BLASCore.summary)")
        let config = training.configuration(solver: solver)
        let (heldOut, heldSeconds) = try measure { try ImplicitALS(configuration: config).fit(part, logger: .bench) }
        print(String(format: "held-out model: %d iterations, %.2f s", config.iterations, heldSeconds))

        var losses: [Double] = []
        let (cold, coldSeconds) = try measure {
            try ImplicitALS(configuration: config).fit(full, logger: .bench, reportLoss: true) { losses.append($0.loss ?? .nan) }
        }
        print("\nstart         iterations   seconds        loss   precision@10   ndcg@10   (loss of the cold fit's iteration reached)")
        report("random", config.iterations, coldSeconds, cold, losses: losses, full: full, unseen: unseen)
        let start = Self.warmStart(heldOut, part: part)
        for iterations in warmIterations {
            var warmConfig = config
            warmConfig.iterations = iterations
            let (warm, seconds) = try measure { try ImplicitALS(configuration: warmConfig).fit(full, warmStart: start, logger: .bench) }
            report("held-out", iterations, seconds, warm, losses: losses, full: full, unseen: unseen)
        }
    }

    /// The held-out model laid onto the full matrix: every user and item it saw (here the
    /// same rows and columns; the nightly matches them by pseudonymous id).
    static func warmStart(_ model: ALSModel, part: SparseMatrix) -> WarmStart {
        let columns = part.transposed()
        return WarmStart(
            model: model,
            userRows: (0..<part.rows).map { part.count(ofRow: $0) > 0 ? Int32($0) : -1 },
            itemRows: (0..<part.columns).map { columns.count(ofRow: $0) > 0 ? Int32($0) : -1 })
    }

    private func report(
        _ start: String, _ iterations: Int, _ seconds: Double, _ model: ALSModel, losses: [Double], full: SparseMatrix, unseen: SparseMatrix
    ) {
        let loss = (try? ImplicitALS(configuration: model.configuration).loss(
            interactions: full, userFactors: model.userFactors, itemFactors: model.itemFactors)) ?? .nan
        let scorer = FactorScorer(userFactors: model.userFactors, itemFactors: model.itemFactors)
        let metrics = RankingMetrics.evaluate(k: 10, train: full, test: unseen, scores: scorer.scores)
        let reached = losses.firstIndex { $0 <= loss }.map { "\($0 + 1)" } ?? "none"
        print(start.padding(toLength: 12, withPad: " ", startingAt: 0)
            + String(format: "  %10d  %8.2f  %10.6f  %13.4f  %8.4f   %@", iterations, seconds, loss,
                     metrics.textbook.precision, metrics.textbook.ndcg, reached))
    }
}
