import Foundation
import TestSupport
import XCTest

/// The HTML pages of `consentrec run` and `consentrec evaluate --html`, opened in a real browser:
/// headless Chromium from Debian's packages (`make test` installs it) loads each page, renders
/// it to PNG, and `scripts/render_page.py` says what it drew (console messages, the charts in
/// the DOM, each chart's pixels per colour).
final class ReportPageTests: XCTestCase {
    let dir = TemporaryDirectory()

    override func setUpWithError() throws {
        let generated = try CommandRunner.run("consentrec", ["generate", "--out", dir.path + "/data", "--workspaces", "12", "--events", "15000", "--seed", "8"])
        XCTAssertEqual(generated.status, 0, generated.stderr)
    }

    func config(asOf: String) -> String {
        dir.write("nightly-\(asOf.prefix(10)).toml", """
            [input]
            events = ["data/events.csv"]
            [consent]
            registry = "data/consent.csv"
            [privacy]
            key_file = "data/pseudonym.key"
            as_of = "\(asOf)"
            [output]
            root = "out"
            [recommenders.channel.als]
            factors = 8
            iterations = 4
            [recommenders.channel.gate]
            min_test_users = 3
            [recommenders.emoji]
            enabled = true
            min_emoji_workspaces = 2
            min_emoji_users = 2
            [recommenders.emoji.als]
            factors = 8
            iterations = 5
            """)
    }

    /// What the browser made of a page (render_page.py's JSON).
    struct Rendered: Decodable {
        let console: [String]
        let charts: [String]
        let tones: [String: [String: Int]]
        let page: [String: Int]
    }

    func render(_ page: String, png: String? = nil) throws -> Rendered {
        let python = ProcessInfo.processInfo.environment["CONSENTREC_PYTHON"] ?? "/usr/bin/python3"
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../scripts/render_page.py").standardized.path
        let result = try CommandRunner.run(python, [script, page] + (png.map { ["--png", $0] } ?? []), absolute: true)
        XCTAssertEqual(result.status, 0, "render_page.py (Chromium and Pillow come with `make test`): " + result.stderr)
        return try JSONDecoder().decode(Rendered.self, from: Data(result.stdout.utf8))
    }

    func testTheRunsPage_loadsInChromiumWithoutAnError_drawsEveryChart_andShowsTheReportsFigures() throws {
        var pages: [String] = []
        for asOf in ["2026-11-19T00:00:00Z", "2026-11-20T00:00:00Z"] {
            let result = try CommandRunner.run("consentrec", ["run", "--config", config(asOf: asOf)])
            XCTAssertEqual(result.status, 0, result.stderr)
            pages.append(String(try XCTUnwrap(result.stdout.firstMatch(of: /\nreport: (\S+\.html)\n/)?.output.1, result.stdout)))
        }
        let page = pages[1], source = try String(contentsOfFile: page, encoding: .utf8)
        // The run directory links to its page.
        let link = dir.path + "/out/current/report.html"
        XCTAssertEqual(try String(contentsOfFile: link, encoding: .utf8), source, "current/report.html opens this run's page")
        // Self-contained: a policy that loads nothing, no script, no address but SVG's namespace.
        XCTAssertTrue(source.contains(#"<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'"/>"#))
        XCTAssertFalse(source.contains("<script"))
        XCTAssertEqual(source.matches(of: /https?:\/\/[^"]*/).map { String($0.output) }.filter { $0 != "http://www.w3.org/2000/svg" }, [])

        let rendered = try render(page, png: dir.path + "/page.png")
        XCTAssertEqual(rendered.console, [], "the page loads without a console message")
        XCTAssertEqual(rendered.charts, ["funnel-channel", "funnel-emoji", "gates-channel", "pooled-channel", "spread-channel", "trend-channel",
                                         "gates-emoji", "pooled-emoji", "trend-emoji", "loss-emoji", "stages"])
        let expected: [String: [String]] = [
            "funnel-channel": ["neutral", "good", "bad"], "funnel-emoji": ["neutral", "good", "bad"], "gates-channel": ["good", "primary"],
            "pooled-channel": ["primary", "baseline"], "spread-channel": ["primary"], "trend-channel": ["primary", "baseline"],
            "gates-emoji": ["primary"], "pooled-emoji": ["primary", "baseline"], "trend-emoji": ["primary", "baseline"],
            "loss-emoji": ["primary"], "stages": ["primary"],
        ]
        for (chart, tones) in expected {
            for tone in tones { XCTAssertGreaterThan(rendered.tones[chart]?[tone] ?? 0, 40, "\(chart) draws its \(tone) marks") }
        }
        XCTAssertGreaterThan(rendered.page["primary"] ?? 0, 10_000, "the page's screenshot shows the charts")
        try checkFigures(source, report: page.replacingOccurrences(of: ".html", with: ".json"))

        // The audit allows the link to the run's own page, and no other.
        let audit = ["audit", dir.path + "/out", "--consent", dir.path + "/data/consent.csv", "--key-file", dir.path + "/data/pseudonym.key"]
        let passed = try CommandRunner.run("consentrec", audit)
        XCTAssertEqual(passed.status, 0, passed.stdout + passed.stderr)
        let runDirectory = try FileManager.default.destinationOfSymbolicLink(atPath: dir.path + "/out/current")
        let linkPath = dir.path + "/out/" + runDirectory + "/report.html"
        try FileManager.default.removeItem(atPath: linkPath)
        try FileManager.default.createSymbolicLink(atPath: linkPath, withDestinationPath: "../../reports/elsewhere.html")
        let flagged = try CommandRunner.run("consentrec", audit)
        XCTAssertNotEqual(flagged.status, 0)
        XCTAssertTrue((flagged.stdout + flagged.stderr).contains("report.html"), flagged.stdout + flagged.stderr)
    }

    /// The page's figures are the JSON report's.
    func checkFigures(_ source: String, report path: String) throws {
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
        let usage = report["usage"] as! [String: Any]
        let rowsRead = (usage["rowsRead"] as! NSNumber).intValue
        let digits = Array(String(rowsRead))
        let grouped = digits.enumerated().map { i, c in (i > 0 && (digits.count - i) % 3 == 0 ? "," : "") + String(c) }.joined()
        XCTAssertTrue(source.contains("<title>rows read: \(grouped)</title>"), "rows read \(grouped)")
        let recommenders = report["recommenders"] as! [[String: Any]]
        let channel = try XCTUnwrap(recommenders.first { $0["recommender"] as? String == "channel" })
        // The histogram holds every workspace model with test users once.
        let judged = (channel["models"] as! [[String: Any]]).filter { ($0["testUsers"] as! NSNumber).intValue > 0 && $0["model"] != nil }
        let spread = try XCTUnwrap(source.firstMatch(of: /data-chart="spread-channel"(?s:.*?)<\/svg>/)?.output)
        let bins = spread.matches(of: /<title>[^<]*: (\d+)<\/title>/).map { Int($0.output.1)! }
        XCTAssertEqual(bins.reduce(0, +), judged.count, "one count per judged workspace")
        // Two runs in the trend: a point each for the model and popularity.
        let trend = try XCTUnwrap(source.firstMatch(of: /data-chart="trend-channel"(?s:.*?)<\/svg>/)?.output)
        XCTAssertEqual(trend.matches(of: /<circle/).count, 4)
        // The emoji model's loss: a point per iteration, at the report's values.
        let emoji = try XCTUnwrap(recommenders.first { $0["recommender"] as? String == "emoji" })
        let loss = try XCTUnwrap(((emoji["trainingLoss"] as? [[String: Any]])?.first?["loss"] as? [NSNumber])?.map(\.doubleValue))
        // The final fit starts from the held-out model's factors: warm_start_iterations, by default (5 + 2) / 3 = 2.
        XCTAssertEqual(loss.count, 2)
        XCTAssertLessThan(loss.last!, loss.first!, "the loss falls")
        let lossChart = try XCTUnwrap(source.firstMatch(of: /data-chart="loss-emoji"(?s:.*?)<\/svg>/)?.output)
        XCTAssertEqual(lossChart.matches(of: /<circle/).count, loss.count)
        for (i, value) in loss.enumerated() {
            XCTAssertTrue(lossChart.contains("<title>global model, \(i + 1): \(String(format: "%.4g", value))</title>"), "iteration \(i + 1)")
        }
    }

    /// The browser check is not blind: a page that loads from the network, or a chart with its
    /// marks gone, is caught.
    func testTheBrowserCheck_catchesABlockedLoad_andAnUndrawnChart() throws {
        let result = try CommandRunner.run("consentrec", ["run", "--config", config(asOf: "2026-11-20T00:00:00Z")])
        XCTAssertEqual(result.status, 0, result.stderr)
        let page = String(try XCTUnwrap(result.stdout.firstMatch(of: /\nreport: (\S+\.html)\n/)?.output.1))
        var source = try String(contentsOfFile: page, encoding: .utf8)
        source = source.replacingOccurrences(of: "<body>", with: #"<body><img src="https://example.com/tracker.png">"#)
        let stages = try XCTUnwrap(source.range(of: #"data-chart="stages""#))
        source.replaceSubrange(stages.lowerBound..<source.endIndex,
                               with: source[stages.lowerBound...].replacingOccurrences(of: "bar t-primary", with: "bar"))
        let broken = dir.write("broken.html", source)
        let rendered = try render(broken)
        XCTAssertTrue(rendered.console.contains { $0.contains("https://example.com/tracker.png") }, "\(rendered.console)")
        XCTAssertEqual(rendered.tones["stages"]?["primary"], 0, "a chart without its marks counts none")
    }

    func testEvaluateHTML_drawsEveryModelBesideTheBaselines_withTheJSONReportsFigures() throws {
        let html = dir.path + "/evaluation.html", json = dir.path + "/evaluation.json"
        let result = try CommandRunner.run("consentrec", ["evaluate", "--config", config(asOf: "2026-11-20T00:00:00Z"), "--grid", "factors=4,8",
                                                          "--html", html, "--json", json])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("HTML report written to \(html)"), result.stdout)
        let rendered = try render(html)
        XCTAssertEqual(rendered.console, [])
        XCTAssertEqual(rendered.charts, ["funnel-channel", "funnel-emoji", "models-channel", "spread-channel", "models-emoji"])
        for chart in ["models-channel", "models-emoji"] {
            XCTAssertGreaterThan(rendered.tones[chart]?["primary"] ?? 0, 40, chart)
            XCTAssertGreaterThan(rendered.tones[chart]?["baseline"] ?? 0, 40, chart)
        }
        // Every row of the JSON report is a bar with its NDCG.
        let source = try String(contentsOfFile: html, encoding: .utf8)
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as! [String: Any]
        for r in report["recommenders"] as! [[String: Any]] {
            let name = r["recommender"] as! String
            let chart = try XCTUnwrap(source.firstMatch(of: try Regex(#"data-chart="models-\#(name)"(?s:.*?)</svg>"#))?.output[0].substring)
            let rows = r["rows"] as! [[String: Any]]
            XCTAssertEqual(chart.matches(of: /<rect/).count, rows.count)
            for row in rows {
                let ndcg = (((row["metrics"] as! [String: Any])["textbook"] as! [String: Any])["ndcg"] as! NSNumber).doubleValue
                XCTAssertTrue(chart.contains("<title>\(row["name"] as! String): \(String(format: "%.4f", ndcg))</title>"), "\(name) \(row["name"]!)")
            }
        }
    }
}
