import Consent
import Evaluation
import Foundation
import Ingest
import Interactions
import Platform
import Privacy
import Publishing

/// What a nightly run did: written as `ROOT/reports/RUN_ID.json` and `.txt` whatever the
/// outcome (never into the sealed run directory).
public struct NightlyReport: Sendable, Codable {
    public enum Status: String, Sendable, Codable {
        case published
        case gateFailed = "gate_failed"
        case auditFailed = "audit_failed"
        /// Nothing passed its gate and no run is current (withdrawn by a purge, or never published).
        case withdrawn = "nothing_published"
        /// The run stopped on an error (input, consent, key, lock, training, I/O): nothing new
        /// was published; `error` says why.
        case failed
    }

    /// A model of the last run kept in place of a new one that failed its gate. Its metrics in
    /// the manifest are those of the run it was trained in.
    public struct CarriedModel: Sendable, Codable, Equatable {
        public let path: String
        public let trainedIn: String
        public let trainedAt: String
        public let ageDays: Double

        init(_ entry: Publishing.Manifest.Model, now: Int64) {
            path = entry.path
            trainedIn = entry.carriedFrom ?? ""
            trainedAt = entry.trainedAt
            ageDays = Double(now - (Timestamp.parse(entry.trainedAt) ?? now)) / 86_400
        }
    }

    /// A model of the last run that could not be carried forward.
    public struct DroppedModel: Sendable, Codable, Equatable {
        public let path: String
        public let reason: String
    }

    public struct ModelGate: Sendable, Codable, Equatable {
        /// The workspace pseudonym, or nil for a global model.
        public let workspace: String?
        public let verdict: QualityGate.Verdict
        public let testUsers: Int
        /// What the model publishes (or would have, had it passed).
        public let ranker: Ranker
        /// Whether the ranker was chosen on the model's own held-out data (false: too few test
        /// users; `ranker.unjudged` of the config).
        public let judged: Bool
        /// The gate metric of the published ranker, of ALS alone, and of popularity.
        public let model: Double?
        public let als: Double?
        public let popularity: Double?
        public let lastRun: Double?
        public let published: Bool
        public let carriedForward: Bool
    }

    public struct Recommender: Sendable, Codable {
        public let recommender: RecommenderDefinition.Target
        public let scope: RecommenderDefinition.Scope
        public let split: String
        public let k: Int
        public let metric: String
        /// Pooled over every test user of every matrix: each model's published ranker, ALS
        /// alone, popularity.
        public let model: RankingMetrics
        public let als: RankingMetrics
        public let popularity: RankingMetrics
        /// The last published run's pooled value of the gate metric, if it had one.
        public let lastRun: Double?
        public let models: [ModelGate]
        /// What tuning chose, per bucket, when the recommender is tuned.
        public var tuning: [ALSTuning.Choice]? = nil
        /// How many of its trained models started from the last run's model, the held-out
        /// model, or random factors.
        public var warmStarts: [String: Int]? = nil
        /// With `warm_start = "last_run"`: how many models the rules kept from starting from
        /// the last run's, and the first reason.
        public var lastRunRefusals: String? = nil
        /// For the private global model: its guarantee and what bounding removed. Its
        /// `models` entry holds the noisy figures the gate judged; `model`, `als` and
        /// `popularity` above are the exact held-out ones, for the operator only.
        public var privacy: Privacy? = nil
        /// The training loss per iteration of each model fitted alone in one process (a global
        /// model, a large workspace's; `TrainingScheduler.largeNonZeros`).
        public var trainingLoss: [LossCurve]? = nil
    }

    /// One model's training loss after each iteration of its final fit (`ImplicitALS.loss`).
    public struct LossCurve: Sendable, Codable, Equatable {
        /// The workspace pseudonym, or nil for a global model.
        public let workspace: String?
        public let loss: [Double]
    }

    /// The private global model's guarantee and its exact counts (the operator's record).
    public struct Privacy: Sendable, Codable, Equatable {
        public let epsilon: Double
        public let delta: Double
        public let trainingPeople: Int
        public let heldOutPeople: Int
        /// Emoji counted by the vocabulary's noisy counts, and those admitted.
        public let candidates: Int
        public let admitted: Int
        public let pairsBoundedOut: Int
        public let weightsCapped: Int

        init(plan: PrivacyPlan, counts c: PrivateMatrixBuilder.PrivacyUsage) {
            epsilon = plan.epsilon
            delta = plan.parameters.delta
            trainingPeople = c.trainingPeople
            heldOutPeople = c.heldOutPeople
            candidates = c.candidates
            admitted = c.admitted
            pairsBoundedOut = c.pairsBoundedOut
            weightsCapped = c.weightsCapped
        }

        var line: String {
            String(format: "  private: ε = %.3g, δ = %.3g; %d of %d emoji admitted; %d training people, %d held out; "
                   + "%d person–emoji pairs left out by max_items_per_user, %d weights capped; the gate judged noisy figures",
                   epsilon, delta, admitted, candidates, trainingPeople, heldOutPeople, pairsBoundedOut, weightsCapped)
        }
    }

    public var runID: String
    public var status: Status
    public var asOf: String
    public var startedAt: String
    public var seconds: Double
    public var stageSeconds: [String: Double]
    public var usage: RunUsage
    public var recommenders: [Recommender]
    public var published: [String]
    public var carriedForward: [CarriedModel]
    /// Models of the last run that failed tonight's consent or retention rules and were not carried.
    public var dropped: [DroppedModel]
    /// What the consent purge withdrew before the run read anything.
    public var purge: PurgeOutcome
    public var auditFindings: [String]
    public var runDirectory: String?
    /// The CPU, the BLAS kernels and ConsentRec's own kernel level this run used
    /// (`BLASCore.summary`); model bytes depend on the BLAS kernels.
    public var machine: String?
    /// Why the run stopped, for status `failed`.
    public var error: String?
    /// A failed run's exit status (from its error).
    public var errorStatus: Int32?

    /// The exit status this report's run ends with (docs/nightly.md#exit-statuses).
    public var exitStatus: Int32 {
        switch status {
        case .published: 0
        case .gateFailed: ExitStatus.gateFailed
        case .auditFailed: ExitStatus.auditFailed
        case .withdrawn: ExitStatus.nothingPublished
        case .failed: errorStatus ?? ExitStatus.ioFailure
        }
    }

    /// Where the run's HTML page is: `ROOT/reports/RUN_ID.html` (`report.html` in the run
    /// directory links to it).
    public func pagePath(root: String) -> String { "\(root)/reports/\(runID).html" }

    /// Files each model's loss curve under its recommender.
    mutating func addTrainingLoss(_ curves: [(model: ModelToTrain, loss: [Double])]) {
        for (model, loss) in curves {
            guard let i = recommenders.firstIndex(where: { $0.recommender == model.recommender.definition.target }) else { continue }
            recommenders[i].trainingLoss = (recommenders[i].trainingLoss ?? []) + [LossCurve(workspace: model.matrix.workspace, loss: loss)]
        }
    }

    /// The report of a run that stopped on an error before it had anything else to say.
    static func failure(runID: String, asOf: Int64, startedAt: Int64, policy: ConsentPolicy, seconds: Double, error: NightlyError) -> NightlyReport {
        var report = NightlyReport(
            runID: runID, status: .failed, asOf: Timestamp.format(asOf), startedAt: Timestamp.format(startedAt), seconds: seconds,
            stageSeconds: [:], usage: RunUsage(read: DataUsage(policy: policy)), recommenders: [], published: [], carriedForward: [], dropped: [],
            purge: PurgeOutcome(), auditFindings: [], runDirectory: nil)
        report.error = "\(error)"
        report.errorStatus = ExitStatus.of(error)
        return report
    }

    /// The readable summary.
    public var text: String {
        var lines = ["run \(runID): \(status.rawValue) (as of \(asOf), \(String(format: "%.1f", seconds)) s)"]
        if let error { return (lines + ["error: \(error)", "nothing was published; the last published run stays current"]).joined(separator: "\n") }
        if let machine { lines.append("machine: \(machine)") }
        lines.append("stages: " + ["read", "build", "evaluate", "train", "publish"].compactMap { s in
            stageSeconds[s].map { "\(s) \(String(format: "%.2f", $0)) s" }
        }.joined(separator: ", "))
        lines.append("data: \(usage.rowsRead) rows read, \(usage.badRows.summary); consent removed \(usage.eventsRemovedByConsent.values.reduce(0, +)) events of "
            + "\(usage.workspacesRemovedByConsent.values.reduce(0, +)) workspaces; retention removed \(usage.eventsRemovedByRetention); kept \(usage.eventsKept) events")
        for r in recommenders {
            let passed = r.models.filter { if case .passed = $0.verdict { true } else { false } }.count
            let failed = r.models.filter { !$0.verdict.publishes }.count
            let ungated = r.models.count - passed - failed
            let m = r.model, p = r.popularity
            lines.append("\(r.recommender.rawValue) (\(r.scope.rawValue), \(r.split), K=\(r.k)): \(r.models.count) models — \(passed) passed, \(ungated) ungated, \(failed) failed the gate")
            lines.append(String(format: "  pooled %@@%d: published %.4f (ALS alone %.4f), popularity %.4f%@; precision %.4f vs %.4f, recall %.4f vs %.4f (%d test users)",
                                r.metric, r.k, Self.metricValue(r.metric, m), Self.metricValue(r.metric, r.als), Self.metricValue(r.metric, p),
                                r.lastRun.map { String(format: ", last run %.4f", $0) } ?? ", no last run",
                                m.textbook.precision, p.textbook.precision, m.textbook.recall, p.textbook.recall, m.users))
            lines.append("  rankers: " + Self.rankerCounts(r.models))
            if let p = r.privacy {
                lines.append(p.line)
                for g in r.models {
                    lines.append(String(format: "  noisy %@@%d: published %.4f (ALS alone %.4f), popularity %.4f, %d test users",
                                        r.metric, r.k, g.model ?? 0, g.als ?? 0, g.popularity ?? 0, g.testUsers))
                }
            }
            for choice in r.tuning ?? [] { lines.append("  " + Self.tuningLine(choice)) }
            if let w = r.warmStarts {
                lines.append("  starts: " + [("last run", "the last run's model"), ("held-out model", "the held-out model"), ("random factors", "random factors")]
                    .compactMap { key, words in w[key].flatMap { $0 > 0 ? "\($0) from \(words)" : nil } }.joined(separator: ", ")
                    + (r.lastRunRefusals.map { " (\($0))" } ?? ""))
            }
            if r.scope == .workspace, !r.models.isEmpty {
                let counts = r.models.map(\.testUsers).sorted()
                let median = Double(counts[(counts.count - 1) / 2] + counts[counts.count / 2]) / 2
                lines.append("  test users per workspace: median \(String(format: "%g", median)), fewest \(counts[0]), most \(counts[counts.count - 1]); "
                    + "\(counts.filter { $0 == 0 }.count) of \(counts.count) had none (each workspace's count is in the JSON report)")
            }
            for g in r.models where !g.verdict.publishes {
                if case .failed(let reason) = g.verdict {
                    lines.append("  gate failed for \(g.workspace.map { "workspace \($0)" } ?? "the global model"): \(reason)\(g.carriedForward ? "; the last run's model is kept" : "; not published")")
                }
            }
        }
        lines.append("published: \(published.count) models\(carriedForward.isEmpty ? "" : ", \(carriedForward.count) carried forward from the last run")")
        for c in carriedForward {
            lines.append(String(format: "  carried forward: %@ (trained in %@, %.1f days old; its metrics are that run's)", c.path, c.trainedIn, c.ageDays))
        }
        for d in dropped { lines.append("  not carried forward: \(d.path): \(d.reason)") }
        if !purge.withdrawn.isEmpty || purge.movedCurrent {
            // The purge ran before this run read anything: say so when this run then published.
            lines.append(purge.summary + (status == .published && purge.withdrewEverything ? " — until this run published its own" : ""))
            for w in purge.withdrawn { lines.append("  withdrawn \(w.runID): " + w.reasons.prefix(3).joined(separator: "; ")) }
        }
        if let runDirectory { lines.append("run directory: \(runDirectory)") }
        for f in auditFindings { lines.append("audit: \(f)") }
        return lines.joined(separator: "\n")
    }

    /// "tuned for global: f=32 λ=1 … — validation ndcg@10 0.4554 over 537 users, 30 trials".
    public static func tuningLine(_ choice: ALSTuning.Choice) -> String {
        let c = choice.configuration
        return "tuned for \(choice.bucket): " + (choice.validationScore.map {
            String(format: "f=%d λ=%g α=%g α₀=%g ν=%g it=%d — validation %@ %.4f over %d users of %d workspaces, %d trials%@%@",
                   c.factors, c.regularization, c.alpha, c.unobservedWeight, c.regularizationExponent, c.iterations, choice.metric, $0,
                   choice.validationUsers, choice.workspaces.count, choice.trials, choice.fits > choice.trials ? " (\(choice.fits) fits)" : "",
                   choice.stoppedByTime ? " (stopped by the time budget)" : "")
        } ?? "as configured (every searched hyper-parameter is given, or no validation users)")
    }

    /// How many of `models` passed, went ungated and failed their gate.
    static func verdictCounts(_ models: [ModelGate]) -> (passed: Int, ungated: Int, failed: Int) {
        var counts = (passed: 0, ungated: 0, failed: 0)
        for m in models {
            switch m.verdict {
            case .passed: counts.passed += 1
            case .ungated: counts.ungated += 1
            case .failed: counts.failed += 1
            }
        }
        return counts
    }

    /// "20 als, 3 blend, 1 popularity (4 unjudged)": what the models publish.
    static func rankerCounts(_ models: [ModelGate]) -> String {
        var counts: [String: Int] = [:]
        for m in models { counts[m.ranker.kind, default: 0] += 1 }
        let unjudged = models.filter { !$0.judged }.count
        return ["als", "blend", "popularity"].compactMap { kind in counts[kind].map { "\($0) \(kind)" } }.joined(separator: ", ")
            + (unjudged > 0 ? " (\(unjudged) chosen without enough test users: ranker.unjudged)" : "")
    }

    /// The value of the gate metric `name` in `m` (NDCG for an unknown name).
    static func metricValue(_ name: String, _ m: RankingMetrics) -> Double {
        (SortMetric(rawValue: name) ?? .ndcg).value(m)
    }
}
