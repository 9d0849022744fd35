import Evaluation
import Foundation
import HTMLReport
import Interactions
import Plot
import Publishing

/// A nightly run's report as one page (`ROOT/reports/RUN_ID.html`, linked from the run
/// directory as `report.html`): the data funnel, the gates and what each recommender publishes,
/// the spread over workspaces, the gate metric over the last runs, training loss, stage times
/// and the privacy verdict. Every figure comes from the run's report and the reports of earlier
/// runs kept beside it; workspaces appear by pseudonym only.
struct RunPage {
    let report: NightlyReport
    /// Earlier runs' reports, oldest first.
    let history: [NightlyReport]

    /// How many earlier runs the history charts show.
    static let historyRuns = 30

    func render() -> String {
        let sections: [[Page.Content]] = [header, privacy, funnels] + report.recommenders.map(recommender) + [stages, outputs]
        return Page(title: "ConsentRec run \(report.runID)", content: sections.flatMap { $0 }).render()
    }

    /// The reports of earlier runs in `reportsFolder`, oldest first, at most `historyRuns`;
    /// a report that cannot be read is left out (the page's history is a convenience).
    static func history(reportsFolder: String, before report: NightlyReport) -> [NightlyReport] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: reportsFolder)) ?? []
        let earlier = names.filter { $0.hasSuffix(".json") && $0 != "\(report.runID).json" }.compactMap { name -> NightlyReport? in
            guard let data = FileManager.default.contents(atPath: reportsFolder + "/" + name) else { return nil }
            return try? JSONDecoder().decode(NightlyReport.self, from: data)
        }
        let ordered = earlier.filter { ($0.startedAt, $0.runID) < (report.startedAt, report.runID) && !$0.recommenders.isEmpty }
            .sorted { ($0.startedAt, $0.runID) < ($1.startedAt, $1.runID) }
        return Array(ordered.suffix(historyRuns))
    }

    // MARK: - Sections

    var header: [Page.Content] {
        let (words, tone) = Self.statusVerdict(report.status)
        var content: [Page.Content] = [
            .h1(.text("ConsentRec run \(report.runID)")),
            .p(Page.verdict(words, tone), .text(String(format: "  exit status %d · as of %@ · started %@ · %.1f s", report.exitStatus, report.asOf,
                                                        report.startedAt, report.seconds))),
        ]
        if let machine = report.machine { content.append(.p(.class("muted"), .text("machine: \(machine)"))) }
        if let error = report.error {
            content.append(.p(.strong(.text("error: ")), .text(error)))
            content.append(.p(.text("Nothing was published; the last published run stays current.")))
        }
        return content
    }

    static func statusVerdict(_ status: NightlyReport.Status) -> (String, String) {
        switch status {
        case .published: ("published", "good")
        case .gateFailed: ("gate failed: nothing new published", "warn")
        case .withdrawn: ("nothing published", "bad")
        case .auditFailed: ("privacy audit failed", "bad")
        case .failed: ("failed", "bad")
        }
    }

    var privacy: [Page.Content] {
        var content: [Page.Content] = [.h2(.text("Privacy"))]
        switch report.status {
        case .published:
            content.append(.p(Page.verdict("audit passed", "good"), .text(" Every model of the run was checked against the consent registry "
                + "read again just before publishing: no workspace excluded now shaped it.")))
        case .auditFailed:
            content.append(.p(Page.verdict("audit failed", "bad"), .text(" The run was not published: \(report.auditFindings.count) finding(s).")))
            content.append(.ul(.group(report.auditFindings.prefix(50).map { .li(.text($0)) })))
        case .gateFailed, .withdrawn, .failed:
            content.append(.p(Page.verdict("audit not reached", "warn"), .text(" Nothing new was staged for publishing.")))
        }
        let u = report.usage
        let events = u.eventsRemovedByConsent.values.reduce(0, +), workspaces = u.workspacesRemovedByConsent.values.reduce(0, +)
        content.append(.p(.text("Consent (policy \(u.policy.rawValue)) removed \(events) events of \(workspaces) workspaces before anything else read them.")))
        if !report.purge.withdrawn.isEmpty || report.purge.movedCurrent {
            content.append(.p(.text(report.purge.summary)))
        }
        let privateModels = report.recommenders.compactMap { r in r.privacy.map { (r.recommender.rawValue, $0) } }
        if !privateModels.isEmpty {
            content.append(Page.table(
                ["private model", "ε", "δ", "emoji admitted", "training people", "held-out people", "pairs bounded out", "weights capped"],
                privateModels.map { name, p in
                    [name, String(format: "%.3g", p.epsilon), String(format: "%.3g", p.delta), "\(p.admitted) of \(p.candidates)",
                     "\(p.trainingPeople)", "\(p.heldOutPeople)", "\(p.pairsBoundedOut)", "\(p.weightsCapped)"]
                }, numeric: [1, 2, 4, 5, 6, 7]))
        }
        return content
    }

    /// Per recommender: rows read, what each rule removed, what its matrices kept.
    var funnels: [Page.Content] {
        guard report.usage.rowsRead > 0 || !report.recommenders.isEmpty else { return [] }
        var content: [Page.Content] = [.h2(.text("Data"))]
        let targets = report.recommenders.isEmpty ? [nil] : report.recommenders.map { Optional($0.recommender) }
        for target in targets {
            let chart = BarChart(bars: funnel(target), unit: "rows and events, then user–item interactions")
            let name = target?.rawValue ?? "all"
            content.append(.h3(.text(target.map { "\($0.rawValue): from rows read to interactions kept" } ?? "From rows read to events kept")))
            content.append(Page.figure(chart.chart(name: "funnel-\(name)", label: "Data funnel for \(name)"),
                                       caption: "Each rule's removals, in the order they apply. Interactions are user–item pairs after the "
                                           + "recommender's event weights; thresholds remove users and items with too few."))
        }
        return content
    }

    func funnel(_ target: RecommenderDefinition.Target?) -> [BarChart.Bar] { Self.funnel(report.usage, target) }

    /// Rows read, what each rule removed, the events kept; with a recommender, its matrices'
    /// interactions before and after the thresholds.
    static func funnel(_ u: RunUsage, _ target: RecommenderDefinition.Target?) -> [BarChart.Bar] {
        var bars: [BarChart.Bar] = [
            .init("rows read", Double(u.rowsRead), tone: .neutral),
            .init("bad rows", Double(u.badRows.total), tone: .bad),
            .init("removed by consent", Double(u.eventsRemovedByConsent.values.reduce(0, +)), tone: .bad),
            .init("removed by retention", Double(u.eventsRemovedByRetention + u.eventsRemovedAsFuture), tone: .bad),
            .init("events kept", Double(u.eventsKept), tone: .good),
        ]
        guard let target else { return bars }
        let matrices = u.matrices.filter { $0.recommender == target }
        let kept = matrices.reduce(0) { $0 + $1.nonZeros }, removed = matrices.reduce(0) { $0 + $1.interactionsRemovedByThresholds }
        bars += [
            .init("interactions", Double(kept + removed), tone: .neutral),
            .init("removed by thresholds", Double(removed), tone: .bad),
            .init("interactions kept", Double(kept), text: "\(grouped(kept)) in \(grouped(matrices.count)) \(matrices.count == 1 ? "matrix" : "matrices")", tone: .good),
        ]
        return bars
    }

    var stages: [Page.Content] {
        let order = ["read", "build", "evaluate", "train", "publish"]
        let names = order.filter { report.stageSeconds[$0] != nil } + report.stageSeconds.keys.filter { !order.contains($0) }.sorted()
        guard !names.isEmpty else { return [] }
        let chart = BarChart(bars: names.map { .init($0, report.stageSeconds[$0]!, text: String(format: "%.2f s", report.stageSeconds[$0]!)) },
                             unit: "seconds")
        return [.h2(.text("Stage times")),
                Page.figure(chart.chart(name: "stages", label: "Seconds per stage"), caption: String(format: "%.1f s in all.", report.seconds))]
    }

    var outputs: [Page.Content] {
        var content: [Page.Content] = [.h2(.text("Models"))]
        content.append(.p(.text("\(report.published.count) models published"
            + (report.carriedForward.isEmpty ? "" : ", \(report.carriedForward.count) carried forward from the last run") + ".")))
        if let directory = report.runDirectory { content.append(.p(.text("Run directory: "), .code(.text(directory)))) }
        if !report.carriedForward.isEmpty {
            content.append(Page.table(["carried forward", "trained in", "age (days)"],
                                      report.carriedForward.map { [$0.path, $0.trainedIn, String(format: "%.1f", $0.ageDays)] }, numeric: [2]))
        }
        if !report.dropped.isEmpty {
            content.append(Page.table(["not carried forward", "why"], report.dropped.map { [$0.path, $0.reason] }))
        }
        return content
    }
}
