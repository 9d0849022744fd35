import Evaluation
import HTMLReport
import Interactions
import Plot

/// A recommender's part of the run's page: gates, rankers, pooled figures, the spread over
/// workspaces, the history and the training loss.
extension RunPage {
    func recommender(_ r: NightlyReport.Recommender) -> [Page.Content] {
        let name = r.recommender.rawValue
        var content: [Page.Content] = [
            .h2(.text("\(name) (\(r.scope.rawValue) scope, split \(r.split), \(r.metric)@\(r.k))")),
            Page.figure(BarChart(bars: gateBars(r), unit: "models").chart(name: "gates-\(name)", label: "Gate outcomes for \(name)"),
                        caption: "Gate verdicts of tonight's models, and what the published ones rank by (" + NightlyReport.rankerCounts(r.models) + ")."),
            Page.figure(BarChart(bars: pooledBars(r), unit: "\(r.metric)@\(r.k), pooled over \(r.model.users) test users")
                            .chart(name: "pooled-\(name)", label: "Pooled \(r.metric) of \(name)"),
                        caption: "Held-out figures pooled over every test user: what is published, ALS alone, the popularity baseline, the last run."),
        ]
        content += spread(r) + trend(r) + loss(r)
        if let tuning = r.tuning, !tuning.isEmpty {
            content.append(.h3(.text("Tuning")))
            content.append(.ul(.group(tuning.map { .li(.text(NightlyReport.tuningLine($0))) })))
        }
        let failed = r.models.compactMap { g -> [String]? in
            guard case .failed(let reason) = g.verdict else { return nil }
            return [g.workspace ?? "global", reason, g.carriedForward ? "last run's model kept" : "not published"]
        }
        if !failed.isEmpty {
            content.append(.h3(.text("Gate failures")))
            content.append(Page.table(["model", "why", "outcome"], Array(failed.prefix(100))))
            if failed.count > 100 { content.append(.p(.class("muted"), .text("… and \(failed.count - 100) more: the JSON report lists them all."))) }
        }
        return content
    }

    func gateBars(_ r: NightlyReport.Recommender) -> [BarChart.Bar] {
        let (passed, ungated, failed) = NightlyReport.verdictCounts(r.models)
        var bars: [BarChart.Bar] = [
            .init("passed", Double(passed), tone: .good), .init("ungated (too few test users)", Double(ungated), tone: .neutral),
            .init("failed", Double(failed), tone: .bad),
            .init("carried forward", Double(r.models.filter(\.carriedForward).count), tone: .history),
        ]
        for kind in ["als", "blend", "popularity"] {
            let count = r.models.filter { $0.published && $0.ranker.kind == kind }.count
            bars.append(.init("published, ranked by \(kind)", Double(count), tone: .primary))
        }
        return bars
    }

    func pooledBars(_ r: NightlyReport.Recommender) -> [BarChart.Bar] {
        let value = { (m: RankingMetrics) in NightlyReport.metricValue(r.metric, m) }
        var bars: [BarChart.Bar] = [
            .init("published rankers", value(r.model), text: String(format: "%.4f", value(r.model)), tone: .primary),
            .init("ALS alone", value(r.als), text: String(format: "%.4f", value(r.als)), tone: .primary),
            .init("popularity", value(r.popularity), text: String(format: "%.4f", value(r.popularity)), tone: .baseline),
        ]
        if let last = r.lastRun { bars.append(.init("last run", last, text: String(format: "%.4f", last), tone: .history)) }
        return bars
    }

    /// Per-workspace models: how the gate metric is spread, with the median and the worst decile.
    func spread(_ r: NightlyReport.Recommender) -> [Page.Content] {
        guard r.scope == .workspace else { return [] }
        let values = r.models.filter { $0.testUsers > 0 }.compactMap(\.model).sorted()
        guard let median = Quantile.of(values, 0.5), let worst = Quantile.of(values, 0.1) else {
            return [.p(.class("muted"), .text("No workspace had test users: no spread to draw."))]
        }
        let histogram = Histogram(values: values, domain: 0...1, bins: 20, markers: [.init("median", median), .init("worst decile", worst)],
                                  xTitle: "\(r.metric)@\(r.k) of tonight's model (its chosen ranker), per workspace")
        return [
            .h3(.text("Across workspaces")),
            Page.figure(histogram.chart(name: "spread-\(r.recommender.rawValue)", label: "Per-workspace \(r.metric) of \(r.recommender.rawValue)"),
                        caption: String(format: "%d workspaces with test users: median %.4f, worst decile (10th percentile) %.4f.",
                                        values.count, median, worst)),
        ]
    }

    /// The pooled gate metric of the model and of popularity, over the kept runs and this one.
    func trend(_ r: NightlyReport.Recommender) -> [Page.Content] {
        let runs = (history + [report]).compactMap { run in run.recommenders.first { $0.recommender == r.recommender }.map { (run, $0) } }
        var model: [(x: Double, y: Double)] = [], popularity: [(x: Double, y: Double)] = [], names: [Double: String] = [:]
        for (i, (run, past)) in runs.enumerated() {
            model.append((Double(i), NightlyReport.metricValue(past.metric, past.model)))
            popularity.append((Double(i), NightlyReport.metricValue(past.metric, past.popularity)))
            names[Double(i)] = String(run.asOf.prefix(10))
        }
        let chart = LineChart(series: [.init("model (published rankers)", tone: .primary, points: model), .init("popularity", tone: .baseline, points: popularity)],
                              xTitle: "runs, by as-of date (this run last)", yTitle: "\(r.metric)@\(r.k)", xNames: names)
        return [
            .h3(.text("Over the last runs")),
            Page.figure(chart.chart(name: "trend-\(r.recommender.rawValue)", label: "Pooled \(r.metric) over the last runs"),
                        caption: "\(runs.count) run(s): the reports kept in the output root's reports folder, this one last."),
        ]
    }

    func loss(_ r: NightlyReport.Recommender) -> [Page.Content] {
        let curves = (r.trainingLoss ?? []).prefix(4)
        guard !curves.isEmpty else {
            return [.p(.class("muted"), .text("Training loss is recorded for the models fitted alone by one process (a global model, a workspace's "
                + "with at least \(grouped(TrainingScheduler.largeNonZeros)) interactions): none tonight."))]
        }
        let tones: [Tone] = [.primary, .baseline, .history, .good]
        let series = curves.enumerated().map { i, c in
            LineChart.Series(c.workspace.map { "workspace \($0.prefix(8))" } ?? "global model", tone: tones[i],
                             points: c.loss.enumerated().map { (Double($0 + 1), $1) })
        }
        let chart = LineChart(series: series, xTitle: "iteration", yTitle: "loss (implicit's normalisation)", fromZero: false)
        return [
            .h3(.text("Training loss")),
            Page.figure(chart.chart(name: "loss-\(r.recommender.rawValue)", label: "Training loss per iteration for \(r.recommender.rawValue)"),
                        caption: "The final fit's objective after each iteration, divided by the sum of confidences (the figure implicit logs)."),
        ]
    }
}
