import Evaluation
import Foundation
import HTMLReport
import Plot

/// An evaluation's report as one page (`consentrec evaluate --html FILE`): the data funnel,
/// and per recommender every model — a sweep's configurations, the tuned model, the private
/// models per ε — beside the baselines, with the spread over workspaces.
struct EvaluationPage {
    let report: EvaluationReport
    /// The metric the bars compare (the table has every metric).
    let metric: SortMetric

    func render() -> String {
        var content: [Page.Content] = [
            .h1(.text("ConsentRec evaluation")),
            .p(.text("Split \(report.split), K = \(report.k); \(grouped(report.usage.rowsRead)) rows read, \(grouped(report.usage.eventsKept)) events kept.")),
            .h2(.text("Data")),
        ]
        for r in report.recommenders {
            content.append(Page.figure(BarChart(bars: RunPage.funnel(report.usage, r.recommender), unit: "rows and events, then user–item interactions")
                                           .chart(name: "funnel-\(r.recommender.rawValue)", label: "Data funnel for \(r.recommender.rawValue)"),
                                       caption: "\(r.recommender.rawValue): each rule's removals, in the order they apply."))
        }
        for r in report.recommenders { content += recommender(r) }
        return Page(title: "ConsentRec evaluation", content: content).render()
    }

    func recommender(_ r: EvaluationReport.Recommender) -> [Page.Content] {
        let name = r.recommender.rawValue, k = r.k
        let bars = r.rows.map { row in
            BarChart.Bar(row.name, metric.value(row.metrics), text: String(format: "%.4f", metric.value(row.metrics)), tone: Self.tone(row))
        }
        var content: [Page.Content] = [
            .h2(.text("\(name) (\(r.scope == .workspace ? "one model per workspace, \(r.matrices) evaluated" : "global model"), split \(r.split), K = \(k))")),
            .p(.text("\(grouped(r.trainInteractions)) training and \(grouped(r.testInteractions)) test interactions; \(grouped(r.rows.first?.metrics.users ?? 0)) test users; "
                + "cold start (not evaluated): \(grouped(r.coldStartInteractions)) interactions.")),
            Page.figure(BarChart(bars: bars, unit: "\(metric.rawValue)@\(k), pooled over every test user").chart(name: "models-\(name)", label: "\(metric.rawValue) per model"),
                        caption: "Every model on the same held-out data: configurations, the published rankers, the private models, the baselines."),
        ]
        content += epsilonChart(r) + spread(r)
        content.append(Page.table(
            ["model", "prec@\(k)", "recall@\(k)", "ndcg@\(k)", "map@\(k)", "hit@\(k)", "auc", "cover@\(k)", "median ndcg", "worst decile", "train s"],
            r.rows.map(Self.cells)
            , numeric: Set(1...10)))
        for choice in r.tuning ?? [] { content.append(.p(.text(NightlyReport.tuningLine(choice)))) }
        return content
    }

    /// A row of the table: the name, every metric, the spread, the training time.
    static func cells(_ row: EvaluationReport.Row) -> [String] {
        let t = row.metrics.textbook
        let metrics: [Double] = [t.precision, t.recall, t.ndcg, t.map, t.hitRate, t.auc, row.metrics.coverage]
        let spread: [String] = row.perWorkspace.map { [String(format: "%.4f", $0.medianNDCG), String(format: "%.4f", $0.worstDecileNDCG)] } ?? ["", ""]
        let seconds: String = row.trainSeconds.map { String(format: "%.2f", $0) } ?? ""
        return [row.name] + metrics.map { String(format: "%.4f", $0) } + spread + [seconds]
    }

    static func tone(_ row: EvaluationReport.Row) -> Tone {
        if row.epsilon != nil { return .history }
        switch row.name {
        case "popularity": return .baseline
        case "random": return .neutral
        default: return .primary
        }
    }

    /// The private models' metric against ε, beside the exact model and popularity as levels.
    func epsilonChart(_ r: EvaluationReport.Recommender) -> [Page.Content] {
        let privateRows = r.rows.filter { $0.epsilon != nil }.sorted { $0.epsilon! < $1.epsilon! }
        guard privateRows.count > 1 else { return [] }
        let xs = privateRows.map { $0.epsilon! }
        var series = [LineChart.Series("private model", tone: .history, points: privateRows.map { ($0.epsilon!, metric.value($0.metrics)) })]
        if let exact = r.rows.first(where: { $0.configuration != nil && $0.epsilon == nil }) {
            series.append(.init("without privacy", tone: .primary, points: [(xs.first!, metric.value(exact.metrics)), (xs.last!, metric.value(exact.metrics))]))
        }
        if let popularity = r.rows.first(where: { $0.name == "popularity" }) {
            series.append(.init("popularity", tone: .baseline, points: [(xs.first!, metric.value(popularity.metrics)), (xs.last!, metric.value(popularity.metrics))]))
        }
        let chart = LineChart(series: series, xTitle: "ε", yTitle: "\(metric.rawValue)@\(r.k)")
        return [Page.figure(chart.chart(name: "epsilon-\(r.recommender.rawValue)", label: "\(metric.rawValue) against ε"),
                            caption: "The price of privacy: the private global model at each ε, the exact model and popularity on the same held-out people.")]
    }

    /// The first model's per-workspace NDCG, with its median and worst decile.
    func spread(_ r: EvaluationReport.Recommender) -> [Page.Content] {
        guard let row = r.rows.first(where: { $0.perWorkspace?.values?.isEmpty == false }), let d = row.perWorkspace, let values = d.values else { return [] }
        let histogram = Histogram(values: values, domain: 0...1, markers: [.init("median", d.medianNDCG), .init("worst decile", d.worstDecileNDCG)],
                                  xTitle: "ndcg@\(r.k) per workspace: \(row.name)")
        return [Page.figure(histogram.chart(name: "spread-\(r.recommender.rawValue)", label: "Per-workspace ndcg of \(row.name)"),
                            caption: String(format: "%d workspaces with test users: median %.4f, worst decile (10th percentile) %.4f.",
                                            d.workspaces, d.medianNDCG, d.worstDecileNDCG))]
    }
}

extension EvaluationReport {
    /// The report as a self-contained HTML page; bars compare `metric`.
    public func html(metric: SortMetric) -> String { EvaluationPage(report: self, metric: metric).render() }
}
