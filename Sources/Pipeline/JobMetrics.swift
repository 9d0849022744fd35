import Evaluation
import Interactions
import Foundation
import Platform
import Prometheus
import Publishing

/// A run's metrics for Prometheus, in the text format of node_exporter's textfile collector
/// (the convention for batch jobs): one file, replaced atomically after every run whatever its
/// outcome, which the collector serves until the next run replaces it. Gauges only: each is
/// this run's figure, except the last successful run's time, which outlives failed runs.
public enum JobMetrics {
    /// Where a run's metrics go when `output.metrics_file` does not say.
    public static func defaultPath(root: String) -> String { root + "/metrics/consentrec.prom" }

    /// The text of the file for `report`; `lastSuccess` is the Unix time of the last published
    /// run (this one when it published).
    public static func text(_ report: NightlyReport, lastSuccess: Int64?) -> String {
        let registry = PrometheusCollectorRegistry()
        func gauge(_ name: String, _ unit: String, _ help: String, _ labels: [(String, String)] = [], _ value: Double) {
            registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "consentrec", metricName: name, unitName: unit, helpText: help), labels: labels)
                .set(value)
        }
        for status in [NightlyReport.Status.published, .gateFailed, .auditFailed, .withdrawn, .failed] {
            gauge("run", "status", "1 for the outcome of the last run, 0 for the others", [("status", status.rawValue)], status == report.status ? 1 : 0)
        }
        gauge("run", "exit_status", "the last run's exit status (docs/nightly.md#exit-statuses)", [], Double(report.exitStatus))
        gauge("run_duration", "seconds", "the last run's wall time", [], report.seconds)
        for (stage, seconds) in report.stageSeconds { gauge("stage_duration", "seconds", "each stage's wall time in the last run", [("stage", stage)], seconds) }
        if let started = Timestamp.parse(report.startedAt) { gauge("run_start", "timestamp_seconds", "when the last run started", [], Double(started)) }
        if let lastSuccess { gauge("last_success", "timestamp_seconds", "when the last published run started", [], Double(lastSuccess)) }
        events(report.usage, gauge)
        models(report, gauge)
        return registry.emitToString()
    }

    private typealias Gauge = (String, String, String, [(String, String)], Double) -> Void

    private static func events(_ usage: RunUsage, _ gauge: Gauge) {
        gauge("rows_read", "total", "input rows read by the last run", [], Double(usage.rowsRead))
        gauge("events_kept", "total", "events kept for training by the last run", [], Double(usage.eventsKept))
        let removed: [(String, Int)] = [("bad_row", usage.badRows.total), ("retention", usage.eventsRemovedByRetention),
                                        ("future", usage.eventsRemovedAsFuture)]
            + usage.eventsRemovedByConsent.map { ("consent_" + $0.key.rawValue, $0.value) }
        for (reason, count) in removed { gauge("events_removed", "total", "rows and events the last run removed, by reason", [("reason", reason)], Double(count)) }
    }

    private static func models(_ report: NightlyReport, _ gauge: Gauge) {
        for r in report.recommenders {
            let name = r.recommender.rawValue
            var outcomes = ["published": 0, "carried": 0, "withheld": 0], verdicts = ["passed": 0, "ungated": 0, "failed": 0]
            for m in r.models {
                outcomes[m.carriedForward ? "carried" : m.published ? "published" : "withheld"]! += 1
                switch m.verdict {
                case .passed: verdicts["passed"]! += 1
                case .ungated: verdicts["ungated"]! += 1
                case .failed: verdicts["failed"]! += 1
                }
            }
            outcomes["dropped"] = report.dropped.filter { $0.path.hasPrefix("models/\(name)/") }.count
            for (outcome, count) in outcomes {
                gauge("models", "total", "the last run's models by recommender and what became of them", [("recommender", name), ("outcome", outcome)], Double(count))
            }
            for (verdict, count) in verdicts {
                gauge("gate_verdicts", "total", "the last run's gate verdicts by recommender", [("recommender", name), ("verdict", verdict)], Double(count))
            }
            guard let metric = SortMetric(rawValue: r.metric) else { continue }
            for (ranker, metrics) in [("published", r.model), ("als", r.als), ("popularity", r.popularity)] {
                gauge("gate_metric", "ratio", "the gate metric pooled over test users, by recommender and ranker",
                      [("recommender", name), ("metric", "\(r.metric)@\(r.k)"), ("ranker", ranker)], metric.value(metrics))
            }
        }
    }

    /// Writes the file atomically (a temporary name, fsync, rename), creating its folder.
    public static func write(_ report: NightlyReport, to path: String, root: OutputRoot) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let lastSuccess = report.status == .published ? Timestamp.parse(report.startedAt) : lastPublished(root)
        try DurableFile.write(Data(text(report, lastSuccess: lastSuccess).utf8), to: path)
    }

    /// When the current run started: its report's `startedAt`, or the time in its id
    /// (`20261122T120102.345Z-3fa9`) when the report is gone; nil when no run is current.
    static func lastPublished(_ root: OutputRoot) -> Int64? {
        guard let name = root.currentRunName else { return nil }
        if let data = FileManager.default.contents(atPath: root.path + "/reports/\(name).json"),
            let report = try? JSONDecoder().decode(NightlyReport.self, from: data), let started = Timestamp.parse(report.startedAt) {
            return started
        }
        let c = Array(name.prefix(15))
        guard c.count == 15, c[8] == "T" else { return nil }
        let d = { (r: Range<Int>) in String(c[r]) }
        return Timestamp.parse("\(d(0..<4))-\(d(4..<6))-\(d(6..<8))T\(d(9..<11)):\(d(11..<13)):\(d(13..<15))Z")
    }
}
