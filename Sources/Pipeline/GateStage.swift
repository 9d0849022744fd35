import Cluster
import Evaluation
import Factorization
import Interactions
import Privacy
import Publishing

/// A model that passed its gate (or is published ungated), to be retrained on all its data.
public struct ModelToTrain: Sendable {
    public let recommender: NightlyConfig.Recommender
    public let matrix: InteractionMatrix
    /// Held-out metrics recorded in the manifest (empty when the model was not evaluated).
    public let metrics: [String: Double]
    /// The factors to start from, with `warmStartIterations`: the held-out model's, or (once
    /// `NightlyRun` resolved `lastRunModel`) the last run's item factors; nil: a fit from
    /// random factors with `als.iterations`.
    public var warmStart: WarmStart?
    /// Set when the fit starts from the last run's model: that run, the model's SHA-256, and
    /// what shaped it — which then shaped this model too.
    public var lastRunStart: LastRunStart?

    public struct LastRunStart: Sendable {
        public let runID: String
        public let sha256: String
        public let model: Manifest.Model
    }
    /// What the published model ranks by.
    public let ranker: Ranker
    /// Its hyper-parameters: the recommender's, or its bucket's tuned ones.
    public let als: ALSConfiguration
    /// For tuned hyper-parameters, the workspaces whose validation events chose them.
    public let tunedOn: [String]?
    /// With `als.warm_start = "last_run"`: the last run's model of the same workspace, which
    /// tonight's consent and retention still allow (the carry-forward rule), to start from.
    public let lastRunModel: Manifest.Model?
    /// Why the last run's model may not be started from, when there is one and the rule refuses it.
    public let lastRunRefusal: String?
    /// A model already fitted — the private global model, fitted once on its training group
    /// and published as it is — with the plan its noise was calibrated by.
    public var fitted: ALSModel? = nil
    public var privacy: PrivacyPlan? = nil

    /// Iterations of a warm start: the recommender's — at most the tuned `als.iterations` when
    /// tuning chose fewer than it.
    public var warmStartIterations: Int {
        als == recommender.als ? recommender.warmStartIterations : min(recommender.warmStartIterations, als.iterations)
    }

    /// The configuration this model is fitted with.
    public var configuration: ALSConfiguration {
        var als = als
        if warmStart != nil { als.iterations = warmStartIterations }
        return als
    }
}

/// What the gates decided for one recommender's models.
public struct GateOutcome: Sendable {
    public var toTrain: [ModelToTrain] = []
    /// The last run's models kept in place of new ones that failed their gate.
    public var toCarry: [Manifest.Model] = []
    public var dropped: [NightlyReport.DroppedModel] = []
    public var gates: [NightlyReport.ModelGate] = []

    public init() {}
}

/// Judges each model of one recommender against its quality gate, and decides what happens to
/// the last run's model when a new one fails: carried forward if tonight's consent and
/// retention still allow it, dropped otherwise. Pure: no file is read or written.
public struct GateStage: Sendable {
    public let recommender: NightlyConfig.Recommender
    public let previous: PreviousRun
    public let carryRule: CarryForwardRule
    /// The ranks a global matrix's rows are spread over (every rank decides alike).
    public var collective: any Collective = SingleRank()

    public init(recommender: NightlyConfig.Recommender, previous: PreviousRun, carryRule: CarryForwardRule) {
        self.recommender = recommender
        self.previous = previous
        self.carryRule = carryRule
    }

    public var metricKey: String { "\(recommender.gate.metric.rawValue)@\(recommender.k)" }

    /// One decision per matrix, in matrix order; any subset of the matrices gives the same
    /// decisions for its members.
    public func decide(_ matrices: [InteractionMatrix], evaluation: HeldOutEvaluation) -> GateOutcome {
        var outcome = GateOutcome()
        for matrix in matrices { decide(matrix, evaluation: evaluation, into: &outcome) }
        return outcome
    }

    private func decide(_ matrix: InteractionMatrix, evaluation: HeldOutEvaluation, into outcome: inout GateOutcome) {
        let last = previous.model(recommender.definition.target.rawValue, workspace: matrix.workspace)
        let lastValue = last?.metrics?[metricKey]
        let result = evaluation.results[matrix.workspace ?? ""]
        let (verdict, metrics) = judge(result, lastValue: lastValue)
        let ranker = result?.ranker ?? recommender.ranker.unjudged
        let train = ModelToTrain(
            recommender: recommender, matrix: matrix, metrics: metrics, warmStart: warmStart(for: matrix, evaluation: evaluation),
            ranker: ranker, als: evaluation.configuration(for: matrix.workspace, configured: recommender.als),
            tunedOn: evaluation.tunedOn(matrix.workspace), lastRunModel: lastRunStart(last), lastRunRefusal: lastRunRefusal(last))
        settle(train, verdict: verdict, judged: result?.judged ?? false, last: last, into: &outcome)
    }

    /// The private global model's decision, from its noisy judging release alone: the ranker
    /// with the best noisy mean, the gate on the noisy means and the noisy count of test people.
    /// Those noisy figures are what the manifest records. Nothing is decided when no emoji was
    /// admitted.
    func decide(private result: PrivateGlobalModel.Outcome) -> GateOutcome {
        var outcome = GateOutcome()
        guard let matrix = result.matrix, let model = result.model, let judging = result.judging else { return outcome }
        let last = previous.model(recommender.definition.target.rawValue, workspace: nil)
        let (ranker, judged) = recommender.ranker.choice(judging.means, testUsers: judging.testUsers, minTestUsers: recommender.gate.minTestUsers)
        let value = judging.means[ranker]!, popularity = judging.means[.popularity]!
        let verdict = recommender.gate.judge(model: value, popularity: popularity, testUsers: judging.testUsers, lastRun: last?.metrics?[metricKey])
        var train = ModelToTrain(
            recommender: recommender, matrix: matrix, metrics: [metricKey: value, "als_" + metricKey: judging.means[.als]!, "popularity_" + metricKey: popularity,
                                                                "test_users": Double(judging.testUsers)],
            warmStart: nil, ranker: ranker, als: recommender.als, tunedOn: nil, lastRunModel: nil, lastRunRefusal: nil)
        train.fitted = model
        train.privacy = result.plan
        // A model trained without privacy is never carried in place of a private one.
        let refusal = last.flatMap { $0.privacy == nil ? "it was trained without differential privacy, and the recommender is now private" : nil }
        settle(train, verdict: verdict, judged: judged, last: last, carryRefusal: refusal, into: &outcome)
        return outcome
    }

    /// Records a verdict: the model to publish, or the last run's model carried (when tonight's
    /// rules allow it) or dropped.
    private func settle(
        _ train: ModelToTrain, verdict: QualityGate.Verdict, judged: Bool, last: Manifest.Model?, carryRefusal: String? = nil,
        into outcome: inout GateOutcome
    ) {
        var carried = false
        if verdict.publishes {
            outcome.toTrain.append(train)
        } else if let last {
            if let reason = carryRefusal ?? carryRule.refusal(last) {
                outcome.dropped.append(.init(path: last.path, reason: reason))
            } else {
                outcome.toCarry.append(last)
                carried = true
            }
        }
        let metrics = train.metrics
        outcome.gates.append(.init(
            workspace: train.matrix.workspace, verdict: verdict, testUsers: Int(metrics["test_users"] ?? 0), ranker: train.ranker,
            judged: judged, model: metrics[metricKey], als: metrics["als_" + metricKey], popularity: metrics["popularity_" + metricKey],
            lastRun: last?.metrics?[metricKey], published: verdict.publishes, carriedForward: carried))
    }

    /// The last run's model to start from, when the recommender asks for it and tonight's rules
    /// would let that model be published again.
    private func lastRunStart(_ last: Manifest.Model?) -> Manifest.Model? {
        guard recommender.warmStartFrom == .lastRun, recommender.warmStartIterations > 0, let last, carryRule.refusal(last) == nil else { return nil }
        return last
    }

    private func lastRunRefusal(_ last: Manifest.Model?) -> String? {
        guard recommender.warmStartFrom == .lastRun, recommender.warmStartIterations > 0, let last else { return nil }
        return carryRule.refusal(last)
    }

    /// Where the full model starts: its held-out model's factors, when warm starts are on and
    /// that model knows at least half of the matrix's users and half of its items (a workspace
    /// that mostly arrived in the held-out period is fitted from random factors instead).
    private func warmStart(for matrix: InteractionMatrix, evaluation: HeldOutEvaluation) -> WarmStart? {
        guard recommender.warmStartIterations > 0, let held = evaluation.models[matrix.workspace ?? ""],
            held.model.configuration.factors == evaluation.configuration(for: matrix.workspace, configured: recommender.als).factors
        else { return nil }
        let start = held.warmStart(for: matrix)
        // A global matrix's rows may be spread over the ranks: its known users are every rank's.
        let knownUsers = matrix.persons == nil ? start.knownUsers : collective.sum([start.knownUsers])[0]
        guard knownUsers * 2 >= matrix.totalUsers, start.knownItems * 2 >= matrix.matrix.columns else { return nil }
        return start
    }

    /// The verdict on the held-out metrics of the ranker a model publishes (nil: the model had
    /// no held-out data) and the metrics the manifest records for it: the published ranker's
    /// (`ndcg@10`), ALS's (`als_ndcg@10`) and popularity's (`popularity_ndcg@10`).
    private func judge(_ result: HeldOutEvaluation.MatrixResult?, lastValue: Double?) -> (QualityGate.Verdict, [String: Double]) {
        let gate = recommender.gate
        guard let result else {
            let reason = "no held-out data for this model"
            return (gate.publishUngated ? .ungated(reason: reason) : .failed(reason: reason + ", and publish_ungated is false"), [:])
        }
        let published = result.published.result, popularity = result.popularity.result
        let metrics = [
            metricKey: gate.metric.value(published), "als_" + metricKey: gate.metric.value(result.als.result),
            "popularity_" + metricKey: gate.metric.value(popularity), "test_users": Double(published.users),
        ]
        return (gate.judge(model: published, popularity: popularity, lastRun: lastValue), metrics)
    }
}
