import ArgumentParser
import Evaluation
import Factorization
import Foundation
import Linalg
import Pipeline

/// Tunes ALS on a training and a validation `row,col,value` CSV with ConsentRec's own search
/// (`HyperparameterSearch` over `ALSTuning.space`), scored by NDCG@K on the validation part;
/// prints the chosen hyper-parameters as one JSON line. For `scripts/bench_quality.py`.
struct TuneMatrix: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tune", abstract: "Tune ALS on a training and a validation row,col,value CSV; print the choice as JSON.")

    @Option(help: "The training CSV.") var train: String
    @Option(help: "The validation CSV (same shape).") var validation: String
    @Option(help: "Rows of the matrices.") var rows: Int
    @Option(help: "Columns of the matrices.") var columns: Int
    @OptionGroup var training: TrainingOptions
    @Option(help: "Candidates to try.") var trials = 20
    @Option(help: "random or halving.") var strategy: HyperparameterSearch.Strategy = .random
    @Option(help: "Seed of the candidates.") var tuneSeed: UInt64 = 0
    @Option(help: "Hyper-parameters that stay as given (comma-separated names of the search space).") var fix = "factors,iterations"
    @Option(name: .short, help: "The cut-off K.") var k = 10

    func run() throws {
        let trainMatrix = try MatrixCSV.read(train, rows: rows, columns: columns)
        let validationMatrix = try MatrixCSV.read(validation, rows: rows, columns: columns)
        let base = training.configuration(solver: .conjugateGradient)
        let fixed = Set(fix.split(separator: ",").map(String.init))
        var search = HyperparameterSearch(dimensions: ALSTuning.space.filter { !fixed.contains($0.name) }, strategy: strategy,
                                          trials: trials, seed: tuneSeed)
        search.initial = [ALSTuning.values(of: base).filter { !fixed.contains($0.key) }]
        let outcome = try search.run { values, fidelity in
            let model = try ImplicitALS(configuration: ALSTuning.configuration(base, values, fidelity: fidelity)).fit(trainMatrix, logger: .bench)
            let scorer = FactorScorer(userFactors: model.userFactors, itemFactors: model.itemFactors)
            return RankingMetrics.evaluate(k: k, train: trainMatrix, test: validationMatrix, scores: scorer.scores).textbook.ndcg
        }
        let c = ALSTuning.configuration(base, outcome.best)
        print(#"{"factors": \#(c.factors), "iterations": \#(c.iterations), "regularization": \#(c.regularization), "alpha": \#(c.alpha), "unobserved_weight": \#(c.unobservedWeight), "regularization_exponent": \#(c.regularizationExponent), "validation_ndcg": \#(outcome.score), "trials": \#(outcome.trials.count)}"#)
    }
}

extension HyperparameterSearch.Strategy: ExpressibleByArgument {}
