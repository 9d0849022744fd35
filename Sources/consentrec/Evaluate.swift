import ArgumentParser
import Evaluation
import Factorization
import Foundation
import Interactions
import Logging
import Pipeline
import Privacy

extension ConsentRec {
    struct Evaluate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Evaluate on held-out data: ranking metrics of the model beside popularity and random baselines.",
            discussion: """
                With --config, evaluates exactly what the nightly job with that config runs (its \
                inputs, consent, data options, recommenders, hyper-parameters, splits, K, gates and \
                rankers); every option given overrides the config's value. \
                Reads the events through the consent and privacy filters, splits them (after the \
                filters, so test data is consenting data too), trains on the training part and ranks \
                every test user's candidates, leaving out their training items. Prints precision, \
                recall, NDCG, MAP, hit rate, AUC and coverage at K — textbook definitions, and the \
                exact definitions of implicit.evaluation.ranking_metrics_at_k beside them — for the \
                model, a popularity ranking and a random ranking. Channel models are per workspace: \
                metrics are pooled over all test users, with the distribution over workspaces.
                """)

        @OptionGroup var configOption: ConfigOption
        @OptionGroup var data: DataOptions
        @OptionGroup var training: TrainingOptions
        @Option(help: "Pre-split training files (with --test, instead of --events and --split).") var train: [String] = []
        @Option(help: "Pre-split test files.") var test: [String] = []
        @Option(help: "temporal:FRACTION (default temporal:0.2; with --config, each recommender's), temporal:TIME, leave-last:N or random:FRACTION (seeded by --seed).")
        var split: String?
        @Option(name: .short, help: "The cut-off K (default 10; with --config, each recommender's).") var k: Int?
        @Option(help: "The global emoji model with differential privacy at each ε (comma-separated, e.g. 1,2,4,8,16), beside the non-private model on the same held-out people; the config's other [recommenders.emoji.privacy] values apply.")
        var epsilon: String?
        @Option(help: "Write the report as JSON here.") var json: String?
        @Option(help: "Write the report as a self-contained HTML page here (charts inline; opens offline).") var html: String?
        @Option(parsing: .upToNextOption, help: "A sweep: KEY=V1,V2 ... for factors, regularization, alpha, iterations, cg-steps, unobserved-weight, regularization-exponent.")
        var grid: [String] = []
        @Option(help: "Sort models by precision, recall, ndcg, map, hit-rate, auc or coverage (best first).")
        var sortBy: SortMetric = .ndcg
        @Flag(help: "Tune the hyper-parameters not given on the command line (or in the config's als table) on a validation split carved from the training part; the tuned model is scored on the test split once.")
        var tune = false
        @Option(help: "Tuning: random or halving (successive halving over iterations; default random, or the config's).")
        var tuneStrategy: HyperparameterSearch.Strategy?
        @Option(help: "Tuning: candidates to try (default 20, or the config's).") var tuneTrials: Int?
        @Option(help: "Tuning: a wall-clock budget in seconds (then how many trials run depends on the machine).") var tuneSeconds: Double?
        @Option(help: "Tuning: the seed of the candidates (default 0).") var tuneSeed: UInt64?

        func validate() throws {
            if let k, !(1...RankingMetrics.maxK).contains(k) { throw ValidationError("-k must be 1…\(RankingMetrics.maxK)") }
            if train.isEmpty != test.isEmpty { throw ValidationError("--train and --test go together") }
            if !train.isEmpty, !data.events.isEmpty {
                throw ValidationError("give either --events (split here) or --train and --test (pre-split), not both")
            }
            if configOption.config == nil {
                if train.isEmpty { try data.requireEvents() } else if data.consent == nil { throw ValidationError("give --consent (the registry)") }
            }
            if let split, SplitStrategy.parse(split, seed: 0) == nil {
                throw ValidationError("--split \(split): expected temporal:0.2, temporal:2026-11-15T00:00:00Z, leave-last:1 or random:0.2")
            }
            _ = try configurations(from: training.configuration)
            if tune && !grid.isEmpty { throw ValidationError("--tune and --grid do not go together: tuning searches the grid's keys itself") }
            if let tuneTrials, !(1...10_000).contains(tuneTrials) { throw ValidationError("--tune-trials must be 1…10000") }
            if !tune, configOption.config == nil, tuneTrials != nil || tuneStrategy != nil || tuneSeconds != nil || tuneSeed != nil {
                throw ValidationError("--tune-trials, --tune-strategy, --tune-seconds and --tune-seed go with --tune (or a config's tune table)")
            }
            if let tuneSeconds, !(tuneSeconds > 0 && tuneSeconds.isFinite) { throw ValidationError("--tune-seconds must be > 0") }
            if epsilon != nil {
                guard let values = epsilons, !values.isEmpty, values.allSatisfy({ PrivacyParameters(epsilon: $0).problem == nil }) else {
                    throw ValidationError("--epsilon: expected comma-separated values in (0, 100], e.g. 1,2,4,8,16")
                }
                if !train.isEmpty || tune { throw ValidationError("--epsilon evaluates on held-out people of one log: not with --train/--test or --tune") }
                if let split, case .temporal = SplitStrategy.parse(split, seed: 0) {
                    throw ValidationError("--epsilon: a private model is judged with --split random:F or leave-last:N, not temporal")
                }
            }
        }

        var epsilons: [Double]? { epsilon.map { $0.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) } } }

        /// The privacy of one recommender: the config's, with `--epsilon`'s values on top (the
        /// global emoji model only); a private model without a split of its own gets random:0.2.
        func privacy(_ rc: inout EvaluationRequest.Recommender, configured: PrivacyParameters?) {
            guard rc.definition.target == .emoji, rc.definition.scope == .global, let values = epsilons ?? configured.map({ [$0.epsilon] }) else { return }
            rc.privacy = configured ?? PrivacyParameters(epsilon: values[0])
            rc.epsilons = values
            if split == nil, case .temporal = rc.split { rc.split = .random(fraction: 0.2, seed: training.seed ?? 0) }
            rc.configurations = rc.configurations.map { c in
                var c = c
                c.solver = .cholesky
                return c
            }
        }

        /// The tuning plan of one recommender: the config's `tune` table, or `--tune`, with the
        /// options given on top; hyper-parameters given on the command line stay fixed too.
        func tuningPlan(_ configured: ALSTuning.Plan?) -> ALSTuning.Plan? {
            guard tune || configured != nil else { return nil }
            var plan = configured ?? ALSTuning.Plan()
            if let tuneStrategy { plan.strategy = tuneStrategy }
            if let tuneTrials { plan.trials = tuneTrials }
            if let tuneSeconds { plan.seconds = tuneSeconds }
            if let tuneSeed { plan.seed = tuneSeed }
            plan.fixed.formUnion(training.givenHyperparameters)
            return plan
        }

        /// `base`, or for a sweep every combination of `--grid` values around it.
        func configurations(from base: ALSConfiguration) throws -> [ALSConfiguration] {
            var configs = [base]
            for item in grid {
                let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { throw ValidationError("--grid \(item): expected KEY=V1,V2") }
                let values = parts[1].split(separator: ",").map(String.init)
                var next: [ALSConfiguration] = []
                for config in configs {
                    for value in values {
                        var c = config
                        switch parts[0] {
                        case "factors": guard let v = Int(value) else { throw ValidationError("--grid \(item): \(value) is not an integer") }; c.factors = v
                        case "iterations": guard let v = Int(value) else { throw ValidationError("--grid \(item): \(value) is not an integer") }; c.iterations = v
                        case "cg-steps", "cgSteps": guard let v = Int(value) else { throw ValidationError("--grid \(item): \(value) is not an integer") }; c.cgSteps = v
                        case "regularization": guard let v = Float(value) else { throw ValidationError("--grid \(item): \(value) is not a number") }; c.regularization = v
                        case "alpha": guard let v = Float(value) else { throw ValidationError("--grid \(item): \(value) is not a number") }; c.alpha = v
                        case "unobserved-weight":
                            guard let v = Float(value) else { throw ValidationError("--grid \(item): \(value) is not a number") }; c.unobservedWeight = v
                        case "regularization-exponent":
                            guard let v = Float(value) else { throw ValidationError("--grid \(item): \(value) is not a number") }; c.regularizationExponent = v
                        default:
                            throw ValidationError("--grid \(item): unknown key \(parts[0]); use factors, regularization, alpha, iterations, cg-steps, "
                                + "unobserved-weight or regularization-exponent")
                        }
                        do { try c.validate() } catch { throw ValidationError("--grid \(item): \(error)") }
                        next.append(c)
                    }
                }
                configs = next
            }
            return configs
        }

        func run() throws {
            try ExitCodes.mapped {
                var logger = Logger(label: "consentrec")
                logger.logLevel = .warning
                let display = ProgressDisplay(logger: logger)
                let config = try configOption.load()
                try data.checkStricter(than: config)
                try training.checkStricter(than: config)
                let recommenders = try training.recommenders(over: config).map { rc in
                    var request = EvaluationRequest.Recommender(
                        definition: rc.definition, configurations: try configurations(from: rc.als),
                        split: split.flatMap { SplitStrategy.parse($0, seed: training.seed ?? 0) } ?? rc.split, k: k ?? rc.k,
                        gate: rc.gate, ranker: rc.ranker, tune: tuningPlan(rc.tune))
                    privacy(&request, configured: rc.privacy)
                    return request
                }
                let request = EvaluationRequest(
                    events: data.events(over: config), preSplit: train.isEmpty ? nil : (train, test), consentPath: data.consentPath(over: config),
                    keyFile: data.keyFile(over: config), ingest: data.ingestOptions(over: config), recommenders: recommenders, sortBy: sortBy)
                let report = try EvaluationRun(request: request).execute(logger: logger, progress: display.update)
                display.finish()
                print(EvaluationTable.text(report))
                if let json {
                    try JSONOutput.write(report, to: json)
                    print("report written to \(json)")
                }
                if let html {
                    try Data(report.html(metric: sortBy).utf8).write(to: URL(fileURLWithPath: html), options: .atomic)
                    print("HTML report written to \(html)")
                }
            }
        }
    }
}

/// The readable form of an evaluation report.
enum EvaluationTable {
    static func text(_ report: EvaluationReport) -> String {
        var lines = ["split: \(report.split); K = \(report.k)"]
        for r in report.recommenders {
            let k = r.k
            lines.append("")
            if r.split != report.split || r.k != report.k { lines.append("\(r.recommender.rawValue): split \(r.split); K = \(k)") }
            lines.append("\(r.recommender.rawValue) (\(r.scope == .workspace ? "one model per workspace, \(r.matrices) evaluated" : "global model")): "
                + "\(r.trainInteractions) training and \(r.testInteractions) test interactions; "
                + "cold start (not evaluated): \(r.coldStartInteractions) interactions of \(r.coldStartUsers) new users / \(r.coldStartItems) new items; "
                + "\(r.repeatedInteractions) repeats of training pairs left out")
            let users = r.rows.first?.metrics.users ?? 0
            lines.append("  \(users) test users; textbook metrics | implicit.evaluation.ranking_metrics_at_k")
            let header = "  " + "model".padding(toLength: 44, withPad: " ", startingAt: 0)
                + ["prec@\(k)", "recall@\(k)", "ndcg@\(k)", "map@\(k)", "hit@\(k)", "auc", "cover@\(k)"].map { pad($0, 10) }.joined()
                + " |" + ["prec", "map", "ndcg", "auc@\(k)"].map { pad($0, 8) }.joined()
            lines.append(header)
            for row in r.rows {
                let t = row.metrics.textbook, i = row.metrics.implicit
                var line = "  " + row.name.padding(toLength: 44, withPad: " ", startingAt: 0)
                line += [t.precision, t.recall, t.ndcg, t.map, t.hitRate, t.auc, row.metrics.coverage].map { pad(String(format: "%.4f", $0), 10) }.joined()
                line += " |" + [i.precision, i.map, i.ndcg, i.auc].map { pad(String(format: "%.4f", $0), 8) }.joined()
                lines.append(line)
            }
            for choice in r.tuning ?? [] { lines.append("  " + NightlyReport.tuningLine(choice)) }
            if let published = r.rows.first(where: { $0.rankers != nil }), let kinds = published.rankers {
                lines.append("  published = each model's ranker as the nightly picks it: "
                    + ["als", "blend", "popularity"].compactMap { kind in kinds[kind].map { "\($0) \(kind)" } }.joined(separator: ", ")
                    + ((published.unjudged ?? 0) > 0 ? " (\(published.unjudged!) with too few test users to choose by)" : ""))
            }
            if r.scope == .workspace {
                // The best model, the published rankers and the baselines: the distribution over
                // workspaces of NDCG@K.
                let shown = [r.rows.first].compactMap { $0 } + r.rows.filter { $0.configuration == nil || $0.rankers != nil }
                lines.append("  per workspace, NDCG@\(k) median / worst decile: " + shown.compactMap { row in
                    row.perWorkspace.map { String(format: "%@ %.4f / %.4f", row.configuration == nil || row.rankers != nil ? row.name : "model", $0.medianNDCG, $0.worstDecileNDCG) }
                }.joined(separator: "; ") + " (\(shown.first?.perWorkspace?.workspaces ?? 0) workspaces with test users)")
            }
        }
        return lines.joined(separator: "\n")
    }

    static func pad(_ s: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - s.count)) + s
    }
}

extension SortMetric: ExpressibleByArgument {}
extension HyperparameterSearch.Strategy: ExpressibleByArgument {}
