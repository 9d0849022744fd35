import ArgumentParser
import Factorization
import Foundation
import Ingest
import Interactions

/// ALS hyper-parameters and recommender choices on the command line: shared by `train` and
/// `evaluate`. Unset options keep the library's documented defaults.
struct TrainingOptions: ParsableArguments {
    @Option(help: "channel, emoji or all.") var recommender: RecommenderChoice = .all
    @Option(help: "Factors per vector (default 64).") var factors: Int?
    @Option(help: "ALS iterations (default 15).") var iterations: Int?
    @Option(help: "Regularization λ (default 0.01).") var regularization: Float?
    @Option(help: "α in the confidence 1 + α·r (default 1).") var alpha: Float?
    @Option(help: "cg or cholesky (default cg).") var solver: ALSConfiguration.Solver?
    @Option(help: "Conjugate-gradient steps per row (default 3).") var cgSteps: Int?
    @Option(help: "Worker threads (default: all cores; does not change the result).") var threads: Int?
    @Option(help: "Seed of the initial factors (default 0).") var seed: UInt64?
    @Option(name: .customLong("weight"), help: "Override an event weight, EVENT=W (repeatable), e.g. --weight post=1 --weight view=0.")
    var weights: [String] = []

    enum RecommenderChoice: String, ExpressibleByArgument, CaseIterable { case channel, emoji, all }

    func validate() throws {
        _ = try weightOverrides()
        var config = ALSConfiguration()
        apply(to: &config)
        do { try config.validate() } catch { throw ValidationError("\(error)") }
    }

    func weightOverrides() throws -> [EventKind: Float] {
        var result: [EventKind: Float] = [:]
        for item in weights {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let kind = EventKind(name: parts[0]), let w = Float(parts[1]), w.isFinite, w >= 0 else {
                throw ValidationError("--weight \(item): expected EVENT=W with EVENT one of \(EventKind.allCases.map(\.name).joined(separator: ", ")) and W ≥ 0")
            }
            result[kind] = w
        }
        return result
    }

    func apply(to config: inout ALSConfiguration) {
        if let factors { config.factors = factors }
        if let iterations { config.iterations = iterations }
        if let regularization { config.regularization = regularization }
        if let alpha { config.alpha = alpha }
        if let solver { config.solver = solver }
        if let cgSteps { config.cgSteps = cgSteps }
        if let threads { config.threads = threads }
        if let seed { config.seed = seed }
    }

    var configuration: ALSConfiguration {
        var config = ALSConfiguration()
        apply(to: &config)
        return config
    }

    var definitions: [RecommenderDefinition] {
        let overrides = (try? weightOverrides()) ?? [:]
        let chosen = RecommenderDefinition.Target(rawValue: recommender.rawValue).map { [.default(for: $0)] } ?? RecommenderDefinition.defaults
        return chosen.map { definition in
            var d = definition
            for (kind, w) in overrides { d.weights[kind] = w }
            return d
        }
    }
}

extension ALSConfiguration.Solver: ExpressibleByArgument {}
