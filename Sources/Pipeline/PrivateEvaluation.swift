import Crypto
import Evaluation
import Factorization
import Foundation
import Ingest
import Interactions
import Linalg
import Logging
import Privacy

/// The price of privacy, measured: the private global emoji model for each ε beside the
/// non-private model (the first row, named by its hyper-parameters) fitted on the same training people, popularity and random — all judged on
/// the same held-out people (`PrivacyPlan`'s groups depend on the key and seed alone), each
/// folded in from part of their own emoji and ranked against the rest.
///
/// Every row ranks the non-private vocabulary (the exact k/m rule over the training people); an
/// emoji a private model did not admit ranks last for it. Figures here are exact: an evaluation
/// is the operator's own measurement, never published.
struct PrivateEvaluation {
    let recommender: EvaluationRequest.Recommender
    let parameters: PrivacyParameters
    let secret: SymmetricKey
    /// The run's window, its reading options and the registry's checksum, as the nightly takes
    /// them: at the nightly's ε and configuration, the private fit is the nightly's.
    let window: ClosedRange<Int64>
    let ingest: IngestOptions
    let registrySHA256: String

    func run(_ log: EventLog, logger: Logger) throws -> EvaluationReport.Recommender {
        let als = recommender.configurations[0]
        var fits: [(epsilon: Double, fit: PrivateGlobalModel.Fit, seconds: Double)] = []
        for epsilon in recommender.epsilons.isEmpty ? [parameters.epsilon] : recommender.epsilons {
            var p = parameters
            p.epsilon = epsilon
            var nightly = NightlyConfig.Recommender(definition: recommender.definition, als: als, warmStartIterations: 0, split: recommender.split,
                                                    k: recommender.k, gate: recommender.gate, ranker: recommender.ranker)
            nightly.privacy = p
            let stage = PrivateGlobalModel(recommender: nightly, parameters: p, secret: secret, threads: als.threads)
            let context = PrivateGlobalModel.noiseContext(log, ingest: ingest, registrySHA256: registrySHA256, recommender: nightly, parameters: p)
            let (fit, seconds) = try Self.timed { try stage.fit(log, window: window, context: context, logger: logger) }
            fits.append((epsilon, fit, seconds))
        }
        let first = fits[0].fit
        var part = [Bool](repeating: false, count: log.count)
        for i in first.built.trainingEvents { part[i] = true }
        guard let exact = InteractionMatrixBuilder(definition: recommender.definition, threads: als.threads).build(log, part: part).matrices.first else {
            throw TrainingError.invalidInput(reason: "no emoji meets the k/m rule among the training people: nothing to evaluate")
        }
        let (_, foldIn, test) = first.builder.heldOutMatrices(log, foldIn: first.built.heldOutFoldIn, test: first.built.heldOutTest, vocabulary: exact.itemIDs)
        let (model, seconds) = try Self.timed { try ImplicitALS(configuration: als).fit(exact.matrix, logger: logger) }
        var rows = [try row(EvaluationRun.name(als), model, columns: exact.itemIDs, of: exact.itemIDs, foldIn: foldIn, test: test, seconds: seconds)]
        for (epsilon, fit, seconds) in fits {
            let name = String(format: "private ε=%g: ", epsilon)
            guard let m = fit.model, let matrix = fit.built.training else {
                // Nothing would be published: no recommendation, no hit (an empty test set scores 0).
                let none = try SparseMatrix(rows: test.rows, columns: test.columns, rowIndices: [], columnIndices: [], values: [])
                var row = metricRow(name + "no emoji admitted", foldIn, none) { _, _ in }
                row.epsilon = epsilon
                rows.append(row)
                continue
            }
            var row = try row(name + "\(matrix.itemIDs.count) of \(exact.itemIDs.count) emoji", m, columns: matrix.itemIDs, of: exact.itemIDs,
                              foldIn: foldIn, test: test, seconds: seconds)
            row.epsilon = epsilon
            rows.append(row)
        }
        let popularity = PopularityBaseline(train: exact.matrix)
        rows.append(metricRow("popularity", foldIn, test) { popularity.scores(user: $0, into: &$1) })
        let random = RandomBaseline(seed: 0)
        rows.append(metricRow("random", foldIn, test) { random.scores(user: $0, into: &$1) })
        let people = first.built.report
        let heldOut = String(format: "private rows at δ=%.0e; ", parameters.delta)
            + "\(people.heldOutPeople) of \(people.trainingPeople + people.heldOutPeople) people held out"
        return EvaluationReport.Recommender(
            recommender: recommender.definition.target, scope: .global, split: "\(heldOut); each folded in from the rest of \(recommender.split.description)",
            k: recommender.k, matrices: 1, trainInteractions: exact.matrix.nonZeros, testInteractions: test.nonZeros, coldStartUsers: 0,
            coldStartItems: 0, coldStartInteractions: 0, repeatedInteractions: 0, rows: rows)
    }

    /// A model's row: each held-out person folded in from their fold-in part over the model's
    /// own columns; an emoji of `all` the model lacks ranks last.
    func row(_ name: String, _ model: ALSModel, columns: [String], of all: [String], foldIn: SparseMatrix, test: SparseMatrix, seconds: Double) throws
        -> EvaluationReport.Row
    {
        let index = Dictionary(uniqueKeysWithValues: columns.enumerated().map { ($1, $0) })
        let map = all.map { index[$0] }
        let recommender = Factorization.Recommender(model: model)
        var vectors: [[Float]] = []
        for u in 0..<foldIn.rows {
            let row = foldIn.row(u)
            var items: [Int] = [], weights: [Float] = []
            for (c, v) in zip(row.columns, row.values) { if let m = map[Int(c)] { items.append(m); weights.append(v) } }
            vectors.append(try recommender.userVector(items: items, weights: weights))
        }
        let metrics = RankingMetrics.evaluate(k: self.recommender.k, train: foldIn, test: test) { user, scores in
            let own = recommender.scores(userVector: vectors[user])
            for i in scores.indices { scores[i] = map[i].map { own[$0] } ?? -Float.greatestFiniteMagnitude }
        }
        return EvaluationReport.Row(name: name, configuration: model.configuration, metrics: metrics, perWorkspace: nil, trainSeconds: seconds)
    }

    func metricRow(_ name: String, _ foldIn: SparseMatrix, _ test: SparseMatrix, _ scores: (Int, inout [Float]) -> Void) -> EvaluationReport.Row {
        EvaluationReport.Row(name: name, configuration: nil, metrics: RankingMetrics.evaluate(k: recommender.k, train: foldIn, test: test, scores: scores),
                             perWorkspace: nil, trainSeconds: nil)
    }

    static func timed<T>(_ body: () throws -> T) rethrows -> (T, Double) {
        let clock = ContinuousClock()
        let start = clock.now
        let value = try body()
        return (value, StageTimer.seconds(start.duration(to: clock.now)))
    }
}
