import ArgumentParser
import Consent
import Evaluation
import Factorization
import Foundation
import Ingest
import Interactions
import Linalg
import Privacy
import SyntheticData

/// The price of privacy on a generated log with planted emoji structure: the private global
/// emoji model beside the non-private one, popularity and random, for each ε, all judged on the
/// same held-out people by fold-in over the non-private model's emoji.
struct PrivacyBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "privacy", abstract: "NDCG@10 of the private global emoji model for each ε, beside the non-private model.")

    @Option(help: "Events to generate.") var events = 2_000_000
    @Option(help: "Workspaces to generate.") var workspaces = 400
    @Option(help: "Where the generated log is kept between runs.") var cache = "/tmp/consentrec-bench-privacy"
    @Option(help: "Comma-separated ε values.") var epsilons = "1,2,4,8,16"
    @Option(help: "Items per person.") var maxItems = 32
    @Option(help: "Bounding: uniform or least_popular.") var bounding = "uniform"
    @Option(help: "Largest user-vector norm.") var maxNorm = 1.0
    @Option(help: "Largest weight.") var maxWeight = 2.0
    @Option(help: "Factors.") var factors = 32
    @Option(help: "λ.") var regularization: Float = 1
    @Option(help: "Iterations.") var iterations = 15
    @Option(help: "Threads.") var threads = 2
    @Flag(help: "Diagnostic: the item solves' noise multipliers set to 10⁻¹² (no privacy), to separate the cost of noise from that of bounding and clipping; also fits the non-private trainer on the bounded matrix.")
    var withoutNoise = false

    func run() throws {
        print("machine: \(BLASCore.summary)")
        let directory = try SyntheticEventLog.cached(in: cache, events: events, workspaces: workspaces)
        let asOf = SyntheticEventLog.Options().end
        let key = try PseudonymKey.load(file: "\(directory)/pseudonym.key")
        var ingest = IngestOptions(policy: .optOut, asOf: asOf, retentionDays: 365)
        ingest.threads = threads
        let log = try EventLogReader(options: ingest, registry: try ConsentRegistry.load(path: "\(directory)/consent.csv", asOf: asOf),
                                     pseudonymiser: Pseudonymiser(key: key)).read(["\(directory)/events.csv"], logger: .bench)
        let definition = RecommenderDefinition.emojiDefault
        let secret = key.derived(purpose: "consentrec differential privacy")
        let groups = NoiseSource(secret: secret, seed: 0, dataDigest: "", release: "groups")
        let als = ALSConfiguration(factors: factors, regularization: regularization, alpha: 1, iterations: iterations, solver: .cholesky, threads: threads)
        var printedBaseline = false
        for epsilon in epsilons.split(separator: ",").compactMap({ Double($0) }) {
            var p = PrivacyParameters(epsilon: epsilon)
            p.maxItemsPerUser = maxItems
            p.maxNorm = maxNorm
            p.maxWeight = maxWeight
            p.bounding = PrivacyParameters.Bounding(rawValue: bounding) ?? .uniform
            var plan = PrivacyPlan(parameters: p, iterations: iterations, alpha: 1, unobservedWeight: 1, judgingSums: 9)
            if withoutNoise { for i in 1...3 { plan.training.mechanisms[i].noiseMultiplier = 1e-12 } }
            let noise = NoiseSource(secret: secret, seed: 0, dataDigest: "bench \(epsilon)", release: "emoji")
            let builder = PrivateMatrixBuilder(definition: definition, plan: plan, groups: groups, noise: noise, split: .random(fraction: 0.2, seed: 0))
            let result = builder.build(log, window: 0...asOf)
            // The non-private model: the training people's events, the exact k/m rule.
            var part = [Bool](repeating: false, count: log.count)
            for i in result.trainingEvents { part[i] = true }
            guard let exact = InteractionMatrixBuilder(definition: definition, threads: threads).build(log, part: part).matrices.first else { continue }
            let (_, foldIn, test) = builder.heldOutMatrices(log, foldIn: result.heldOutFoldIn, test: result.heldOutTest, vocabulary: exact.itemIDs)
            if !printedBaseline {
                let model = try ImplicitALS(configuration: als).fit(exact.matrix, logger: .bench)
                let popularity = PopularityBaseline(train: exact.matrix)
                print(String(format: "log: %d people (%d held out), %d emoji of the exact vocabulary, %d held-out people with test items",
                             result.report.trainingPeople + result.report.heldOutPeople, result.report.heldOutPeople, exact.itemIDs.count, test.rows))
                print(String(format: "non-private NDCG@10 %.4f, popularity %.4f, random %.4f",
                             try ndcg(model, columns: exact.itemIDs, of: exact.itemIDs, foldIn: foldIn, test: test),
                             metric(foldIn, test) { popularity.scores(user: $0, into: &$1) },
                             metric(foldIn, test) { RandomBaseline(seed: 1).scores(user: $0, into: &$1) }))
                printedBaseline = true
            }
            guard let training = result.training else { print("ε \(epsilon): no emoji admitted"); continue }
            let model = try PrivateALS(configuration: als, plan: plan).fit(training.matrix, noise: noise, logger: .bench)
            if withoutNoise {
                let same = try ImplicitALS(configuration: als).fit(training.matrix, logger: .bench)
                let trainer = ImplicitALS(configuration: als)
                func loss(_ m: ALSModel) throws -> Double { try trainer.loss(interactions: training.matrix, userFactors: m.userFactors, itemFactors: m.itemFactors) }
                print(String(format: "non-private on the private matrix: %.4f (loss %.5f; the private fit's loss %.5f)",
                             try ndcg(same, columns: training.itemIDs, of: exact.itemIDs, foldIn: foldIn, test: test), try loss(same), try loss(model)))
            }
            let noisyPopularity = exact.itemIDs.map { id in training.itemIDs.firstIndex(of: id).map { Float(result.noisyUsers[$0]) } ?? -1 }
            print(String(format: "ε %5.1f (achieved %.3f): %d of %d emoji admitted (τ %.1f), private NDCG@10 %.4f, noisy popularity %.4f",
                         epsilon, plan.epsilon, result.vocabulary.count, result.report.candidates, plan.selectionMargin,
                         try ndcg(model, columns: training.itemIDs, of: exact.itemIDs, foldIn: foldIn, test: test),
                         metric(foldIn, test) { user, s in for i in s.indices { s[i] = noisyPopularity[i] } }))
        }
    }

    /// NDCG@10 of a model whose columns are `columns`, on the held-out people over `all`; an
    /// emoji the model lacks ranks last. Users are folded in from their fold-in part.
    func ndcg(_ model: ALSModel, columns: [String], of all: [String], foldIn: SparseMatrix, test: SparseMatrix) throws -> Double {
        let index = Dictionary(uniqueKeysWithValues: columns.enumerated().map { ($1, $0) })
        let map = all.map { index[$0] }
        let recommender = Recommender(model: model)
        var failed: Error?
        let value = metric(foldIn, test) { user, scores in
            let row = foldIn.row(user)
            var items: [Int] = [], weights: [Float] = []
            for (c, v) in zip(row.columns, row.values) { if let m = map[Int(c)] { items.append(m); weights.append(v) } }
            do {
                let x = try recommender.userVector(items: items, weights: weights)
                let own = recommender.scores(userVector: x)
                for i in scores.indices { scores[i] = map[i].map { own[$0] } ?? -Float.greatestFiniteMagnitude }
            } catch { failed = error }
        }
        if let failed { throw failed }
        return value
    }

    func metric(_ foldIn: SparseMatrix, _ test: SparseMatrix, _ scores: (Int, inout [Float]) -> Void) -> Double {
        RankingMetrics.evaluate(k: 10, train: foldIn, test: test, scores: scores).textbook.ndcg
    }
}
