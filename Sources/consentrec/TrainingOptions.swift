import ArgumentParser
import Factorization
import Foundation
import Ingest
import Interactions
import Pipeline

/// ALS hyper-parameters and recommender choices on the command line: shared by `train` and
/// `evaluate`. Unset options keep the config's values (`--config`) or the library's documented
/// defaults.
struct TrainingOptions: ParsableArguments {
    @Option(help: "channel, emoji or all (default: all; with --config, all it enables).") var recommender: RecommenderChoice?
    @Option(help: "Factors per vector (default 64).") var factors: Int?
    @Option(help: "ALS iterations (default 15).") var iterations: Int?
    @Option(help: "Regularization λ (default 0.01).") var regularization: Float?
    @Option(help: "α in the confidence α₀ + α·r (default 1).") var alpha: Float?
    @Option(help: "α₀, the weight of every unobserved pair (iALS++; default 1: classic implicit ALS).") var unobservedWeight: Float?
    @Option(help: "ν: each row's λ is scaled by (its interactions + α₀ × the other side's size)^ν (iALS++; default 0).")
    var regularizationExponent: Float?
    @Option(help: "cg or cholesky (default cg).") var solver: ALSConfiguration.Solver?
    @Option(help: "Conjugate-gradient steps per row (default 3).") var cgSteps: Int?
    @Option(help: "Worker threads (default: all cores; does not change the result).") var threads: Int?
    @Option(help: "Seed of the initial factors (default 0).") var seed: UInt64?
    @Option(name: .customLong("weight"), help: "Override an event weight, EVENT=W (repeatable), e.g. --weight post=1 --weight view=0.")
    var weights: [String] = []
    @Option(help: "The emoji recommender's scope: global (one model over consenting workspaces; the default) or workspace.")
    var emojiScope: RecommenderDefinition.Scope?
    @Option(help: "Global emoji support: an emoji must be used in at least this many workspaces (k; default 5).")
    var minEmojiWorkspaces: Int?
    @Option(help: "Global emoji support: and by at least this many users (m; default 25).") var minEmojiUsers: Int?
    @Option(help: "A user needs at least this many items to be trained on (default 2).") var minUserItems: Int?
    @Option(help: "An item needs at least this many users to be trained on (default 2).") var minItemUsers: Int?

    enum RecommenderChoice: String, ExpressibleByArgument, CaseIterable { case channel, emoji, all }

    func validate() throws {
        _ = try weightOverrides()
        for (flag, value) in [("--min-emoji-workspaces", minEmojiWorkspaces), ("--min-emoji-users", minEmojiUsers),
                              ("--min-user-items", minUserItems), ("--min-item-users", minItemUsers)] {
            if let value, value < 1 { throw ValidationError("\(flag) must be at least 1") }
        }
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
        if let unobservedWeight { config.unobservedWeight = unobservedWeight }
        if let regularizationExponent { config.regularizationExponent = regularizationExponent }
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

    /// The hyper-parameters given on the command line (names as `ALSTuning.space`): tuning
    /// leaves them as given.
    var givenHyperparameters: Set<String> {
        let given: [(String, Bool)] = [
            ("factors", factors != nil), ("iterations", iterations != nil), ("regularization", regularization != nil),
            ("alpha", alpha != nil), ("unobserved_weight", unobservedWeight != nil), ("regularization_exponent", regularizationExponent != nil),
        ]
        return Set(given.filter(\.1).map(\.0))
    }

    var definitions: [RecommenderDefinition] { (try? recommenders(over: nil).map(\.definition)) ?? [] }

    /// With a config, the global emoji support thresholds (k, m) may be raised, never lowered:
    /// they keep one workspace's custom emoji out of the shared model.
    func checkStricter(than config: NightlyConfig?) throws {
        guard let config else { return }
        // The scope the emoji recommender will have: `--emoji-scope global` cannot dodge the check.
        for rc in config.recommenders where (rc.definition.target == .emoji ? emojiScope ?? rc.definition.scope : rc.definition.scope) == .global {
            if let k = minEmojiWorkspaces, k < rc.definition.minEmojiWorkspaces {
                throw ValidationError("--min-emoji-workspaces \(k) would lower the config's \(rc.definition.minEmojiWorkspaces); support thresholds can be raised, never lowered")
            }
            if let m = minEmojiUsers, m < rc.definition.minEmojiUsers {
                throw ValidationError("--min-emoji-users \(m) would lower the config's \(rc.definition.minEmojiUsers); support thresholds can be raised, never lowered")
            }
        }
    }

    /// The recommenders to run: the config's enabled ones (or every recommender's defaults),
    /// narrowed to `--recommender`, with every option given applied on top.
    /// - Throws: `ValidationError` when `--recommender` names one the config does not enable.
    func recommenders(over config: NightlyConfig?) throws -> [NightlyConfig.Recommender] {
        var base = config?.recommendersAtRunThreads ?? RecommenderDefinition.defaults.map { NightlyConfig.Recommender(definition: $0, als: ALSConfiguration()) }
        if let recommender, recommender != .all {
            base = base.filter { $0.definition.target.rawValue == recommender.rawValue }
            guard !base.isEmpty else { throw ValidationError("--recommender \(recommender.rawValue): the config does not enable it") }
        }
        let overrides = try weightOverrides()
        return base.map { rc in
            var rc = rc
            apply(to: &rc.als)
            for (kind, w) in overrides { rc.definition.weights[kind] = w }
            if rc.definition.target == .emoji, let emojiScope { rc.definition.scope = emojiScope }
            if let minEmojiWorkspaces { rc.definition.minEmojiWorkspaces = minEmojiWorkspaces }
            if let minEmojiUsers { rc.definition.minEmojiUsers = minEmojiUsers }
            if let minUserItems { rc.definition.minUserItems = minUserItems }
            if let minItemUsers { rc.definition.minItemUsers = minItemUsers }
            return rc
        }
    }
}

extension RecommenderDefinition.Scope: ExpressibleByArgument {}

extension ALSConfiguration.Solver: ExpressibleByArgument {}
