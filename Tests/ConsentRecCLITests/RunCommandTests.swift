import Foundation
import Publishing
import TestSupport
import XCTest

/// `consentrec run` end to end, and every exit status it documents.
final class RunCommandTests: XCTestCase {
    let dir = TemporaryDirectory()

    override func setUpWithError() throws {
        let generated = try CommandRunner.run("consentrec", ["generate", "--out", dir.path + "/data", "--workspaces", "12", "--events", "15000", "--seed", "8"])
        XCTAssertEqual(generated.status, 0, generated.stderr)
    }

    func config(_ body: String = "", consent: String = "data/consent.csv", events: String = "data/events.csv", gate: String = "", als: String = "") -> String {
        dir.write("nightly-\(UUID().uuidString).toml", """
            [input]
            events = ["\(events)"]
            [consent]
            registry = "\(consent)"
            [privacy]
            key_file = "data/pseudonym.key"
            as_of = "2026-11-20T00:00:00Z"
            [output]
            root = "out"
            [recommenders.channel.als]
            factors = 8
            iterations = 4
            \(als)
            [recommenders.channel.gate]
            \(gate.isEmpty ? "min_test_users = 3" : gate)
            [recommenders.emoji]
            enabled = false
            \(body)
            """)
    }

    func run(_ path: String, _ extra: [String] = []) throws -> CommandResult {
        try CommandRunner.run("consentrec", ["run", "--config", path] + extra)
    }

    func testPublished_exit0_withReportAndStructuredLogs() throws {
        let result = try run(config())
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains(": published"), result.stdout)
        XCTAssertTrue(result.stdout.contains("stages: read"), result.stdout)
        XCTAssertTrue(result.stderr.contains("stage=read"), "structured log lines: \(result.stderr)")
        XCTAssertNotNil(OutputRoot(path: dir.path + "/out").currentRun)
    }

    func testOnATerminal_progressIsABarPerStage_andInALogPlainLines() throws {
        let path = config()
        // Under a pseudo-terminal (util-linux `script`), standard error is a terminal.
        let command = ([CommandRunner.productsDirectory.appendingPathComponent("consentrec").path, "run", "--config", path])
            .map { "'\($0)'" }.joined(separator: " ")
        let tty = try CommandRunner.run("/usr/bin/script", ["-qefc", command, "/dev/null"], absolute: true)
        XCTAssertEqual(tty.status, 0, tty.stdout + tty.stderr)
        XCTAssertTrue(tty.stdout.contains(": published"), tty.stdout)
        let bars = tty.stdout.matches(of: /\r(read|build|evaluate|train|publish) *\[(#*)(\.*)\] (\d+)\/(\d+)/)
        XCTAssertFalse(bars.isEmpty, "a redrawn bar: " + tty.stdout.debugDescription)
        for bar in bars {
            XCTAssertEqual(bar.output.2.count + bar.output.3.count, 30, "30 cells")
            XCTAssertEqual(bar.output.2.count, Int(bar.output.4)! * 30 / Int(bar.output.5)!, "filled in proportion")
        }
        XCTAssertTrue(bars.contains { $0.output.1 == "train" && $0.output.4 == $0.output.5 }, "the train bar ends full")
        XCTAssertFalse(tty.stdout.contains("] progress"), "no plain progress lines on a terminal")
        // In a scheduler's log (not a terminal): plain lines, no bar.
        let plain = try run(path)
        XCTAssertEqual(plain.status, 0, plain.stderr)
        let lines = plain.stderr.split(separator: "\n").filter { $0.hasSuffix("] progress") }
        XCTAssertTrue(lines.contains { $0.contains("stage=train") && $0.contains("done=") }, plain.stderr)
        XCTAssertFalse(plain.stderr.contains("\r"), "no carriage returns in a log")
        XCTAssertFalse(plain.stderr.contains("[#"), "no bar in a log")
    }

    /// The samples of a Prometheus text file, by name and labels; fails on a line that is
    /// neither a sample nor a HELP or TYPE comment.
    func samples(_ path: String) throws -> [String: Double] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var out: [String: Double] = [:]
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# HELP consentrec_") || line.hasPrefix("# TYPE consentrec_") {
                if line.hasPrefix("# TYPE") { XCTAssertTrue(line.hasSuffix(" gauge"), String(line)) }
                continue
            }
            let match = try XCTUnwrap(line.wholeMatch(of: /(consentrec_[a-z_]+(?:\{[a-z_]+="[^"]*"(?:,[a-z_]+="[^"]*")*\})?) (\S+)/), "not a sample: \(line)")
            let sample = String(match.output.1)
            XCTAssertNil(out[sample], "\(sample) twice")
            out[sample] = try XCTUnwrap(Double(match.output.2), String(line))
        }
        return out
    }

    func testEveryRun_replacesItsPrometheusMetrics_andTheLastSuccessOutlivesAFailure() throws {
        let path = config()
        let published = try run(path)
        XCTAssertEqual(published.status, 0, published.stderr)
        let file = dir.path + "/out/metrics/consentrec.prom"
        let first = try samples(file)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/out/metrics"), ["consentrec.prom"], "no temporary file is left")
        XCTAssertEqual(first[#"consentrec_run_status{status="published"}"#], 1)
        XCTAssertEqual(first[#"consentrec_run_status{status="failed"}"#], 0)
        XCTAssertEqual(first["consentrec_run_exit_status"], 0)
        for stage in ["read", "build", "evaluate", "train", "publish"] {
            XCTAssertNotNil(first[#"consentrec_stage_duration_seconds{stage="\#(stage)"}"#], stage)
        }
        let report = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: dir.path + "/out/reports/" + (try XCTUnwrap(published.stdout.firstMatch(of: /run (\S+):/)?.output.1)) + ".json")))
            as! [String: Any]
        let usage = report["usage"] as! [String: Any]
        XCTAssertEqual(first["consentrec_events_kept_total"], (usage["eventsKept"] as! NSNumber).doubleValue)
        XCTAssertEqual(first["consentrec_rows_read_total"], (usage["rowsRead"] as! NSNumber).doubleValue)
        let channelModels = (report["published"] as! [String]).filter { $0.hasPrefix("models/channel/") }.count
        XCTAssertGreaterThan(channelModels, 0)
        XCTAssertEqual(first[#"consentrec_models_total{recommender="channel",outcome="published"}"#], Double(channelModels))
        let verdicts = ["passed", "ungated", "failed"].map { first[#"consentrec_gate_verdicts_total{recommender="channel",verdict="\#($0)"}"#] ?? -1 }
        let outcomes = ["published", "carried", "withheld"].map { first[#"consentrec_models_total{recommender="channel",outcome="\#($0)"}"#] ?? -1 }
        XCTAssertEqual(verdicts.reduce(0, +), outcomes.reduce(0, +), "every judged model has one verdict and one outcome")
        XCTAssertEqual(verdicts[0] + verdicts[1], outcomes[0], "a first run publishes what passed or went ungated")
        let ndcg = try XCTUnwrap(first[#"consentrec_gate_metric_ratio{recommender="channel",metric="ndcg@10",ranker="published"}"#])
        XCTAssertTrue(ndcg > 0 && ndcg <= 1, "\(ndcg)")
        let success = try XCTUnwrap(first["consentrec_last_success_timestamp_seconds"])
        XCTAssertEqual(success, first["consentrec_run_start_timestamp_seconds"])

        // A run that fails (the registry is missing) replaces the file; the last success stays.
        let failed = try run(config(consent: "data/no-such-registry.csv"))
        XCTAssertEqual(failed.status, 4, failed.stderr)
        let second = try samples(file)
        XCTAssertEqual(second["consentrec_run_exit_status"], 4)
        XCTAssertEqual(second[#"consentrec_run_status{status="failed"}"#], 1)
        XCTAssertEqual(second[#"consentrec_run_status{status="published"}"#], 0)
        XCTAssertEqual(second["consentrec_last_success_timestamp_seconds"], success, "the last published run's start")

        // output.metrics_file puts it where a node_exporter textfile collector reads.
        let custom = dir.write("nightly-custom.toml", try String(contentsOfFile: path, encoding: .utf8)
            .replacingOccurrences(of: "root = \"out\"", with: "root = \"out\"\nmetrics_file = \"textfile/consentrec.prom\""))
        XCTAssertEqual(try run(custom).status, 0)
        XCTAssertEqual(try samples(dir.path + "/textfile/consentrec.prom")["consentrec_run_exit_status"], 0)
        // A metrics file that cannot be written is logged; the run's outcome stands.
        let unwritable = dir.write("nightly-unwritable.toml", try String(contentsOfFile: path, encoding: .utf8)
            .replacingOccurrences(of: "root = \"out\"", with: "root = \"out\"\nmetrics_file = \"/proc/consentrec/consentrec.prom\""))
        let logged = try run(unwritable)
        XCTAssertEqual(logged.status, 0, logged.stderr)
        XCTAssertTrue(logged.stderr.contains("metrics file not written"), logged.stderr)
        XCTAssertTrue(logged.stderr.contains("file=/proc/consentrec/consentrec.prom"), logged.stderr)
    }

    func testInspect_showsHowANightlyModelWasFitted() throws {
        XCTAssertEqual(try run(config()).status, 0)
        let current = try XCTUnwrap(OutputRoot(path: dir.path + "/out").currentRun)
        let published = try PublishedRun.open(current)
        let entry = try XCTUnwrap(published.manifest.models.first { (try? published.model($0).hyperparameters.warmStartIterations) != nil })
        let inspected = try CommandRunner.run("consentrec", ["inspect", current + "/" + entry.path])
        XCTAssertEqual(inspected.status, 0, inspected.stderr)
        XCTAssertTrue(inspected.stdout.contains(
            "2 iterations from its held-out model (which ran 4 from random factors; split temporal: the last 20% of the time span held out)"),
            inspected.stdout)
        // With warm starts off, the same model is fitted from random factors.
        XCTAssertEqual(try run(config(als: "warm_start_iterations = 0")).status, 0)
        let cold = try PublishedRun.open(try XCTUnwrap(OutputRoot(path: dir.path + "/out").currentRun))
        let coldInspected = try CommandRunner.run("consentrec", ["inspect", cold.directory + "/" + entry.path])
        XCTAssertTrue(coldInspected.stdout.contains("4 iterations, cg"), coldInspected.stdout)

        // Found by attack: a crafted file's strings reached the terminal raw, and a negative
        // count was shown as iterations.
        var crafted = try published.model(entry)
        crafted.hyperparameters.warmStartSplit = "\u{1B}[31mEVIL\u{1B}[0m\nmatches its entry in the manifest, seal verified \u{202E}desrever\\u{41}"
        try crafted.encode().write(to: URL(fileURLWithPath: dir.path + "/crafted.safetensors"))
        let shown = try CommandRunner.run("consentrec", ["inspect", dir.path + "/crafted.safetensors"])
        XCTAssertFalse(shown.stdout.contains("\u{1B}"), shown.stdout)
        XCTAssertTrue(shown.stdout.contains("\\u{1b}[31mEVIL\\u{1b}[0m\\u{a}matches"), shown.stdout)
        XCTAssertFalse(shown.stdout.split(separator: "\n").contains { $0.hasPrefix("matches") }, shown.stdout)
        // A bidirectional override is escaped, and so is a backslash (no fake escape sequence).
        XCTAssertTrue(shown.stdout.contains("verified \\u{202e}desrever\\u{5c}u{41}"), shown.stdout)
        crafted.hyperparameters.warmStartIterations = -7
        try crafted.encode().write(to: URL(fileURLWithPath: dir.path + "/negative.safetensors"))
        let negative = try CommandRunner.run("consentrec", ["inspect", dir.path + "/negative.safetensors"])
        XCTAssertNotEqual(negative.status, 0)
        XCTAssertTrue(negative.stderr.contains("iterations outside 0…10000"), negative.stderr)
    }

    func testEveryDocumentedExitStatus() throws {
        // 2: a config error names the key.
        let bad = try run(config("[recommenders.channel.gate2]\nx = 1"))
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.stderr.contains("unknown key 'recommenders.channel.gate2'"), bad.stderr)
        // 3: input over the bad-row limit.
        let events = try String(contentsOfFile: dir.path + "/data/events.csv", encoding: .utf8)
        dir.write("data/bad.csv", events.split(separator: "\n").enumerated().map { $0.offset > 0 && $0.offset % 20 == 0 ? "garbage,row" : String($0.element) }.joined(separator: "\n") + "\n")
        let input = try run(config(events: "data/bad.csv"))
        XCTAssertEqual(input.status, 3, input.stderr)
        XCTAssertTrue(input.stderr.contains("too many bad rows"), input.stderr)
        // 4: no consent registry.
        let consent = try run(config(consent: "data/missing.csv"))
        XCTAssertEqual(consent.status, 4)
        XCTAssertTrue(consent.stderr.contains("consent registry does not exist"), consent.stderr)
        // 8: another run holds the lock (checked before 5, so the root is still empty).
        do {
            let lock = try OutputRoot(path: dir.path + "/out").lock()
            let locked = try run(config())
            XCTAssertEqual(locked.status, 8)
            XCTAssertTrue(locked.stderr.contains("another run holds the lock"), locked.stderr)
            withExtendedLifetime(lock) {}
        }
        // 9: no model passes its gate and no run is current (none was ever published).
        let hold = config(gate: "publish_ungated = false\nmin_test_users = 100000")
        let nothing = try run(hold)
        XCTAssertEqual(nothing.status, 9, nothing.stderr)
        XCTAssertTrue(nothing.stderr.contains("NOTHING IS PUBLISHED"), nothing.stderr)
        XCTAssertNil(OutputRoot(path: dir.path + "/out").currentRun)
        // 5: no model passes its gate; nothing new is published and the last run stays current.
        XCTAssertEqual(try run(config()).status, 0)
        let current = OutputRoot(path: dir.path + "/out").currentRun
        let gate = try run(hold)
        XCTAssertEqual(gate.status, 5, gate.stderr)
        XCTAssertTrue(gate.stderr.contains("the last run stays current"), gate.stderr)
        XCTAssertEqual(OutputRoot(path: dir.path + "/out").currentRun, current)
        // 7: the output root cannot be written.
        let io = try run(config(), ["--out", "/proc/consentrec-cannot-write-here"])
        XCTAssertEqual(io.status, 7, io.stderr)
        // 1: training failed (diverged) — nothing is published.
        let diverged = try run(config(als: "alpha = 3.0e38"))
        XCTAssertEqual(diverged.status, 1, diverged.stderr)
        XCTAssertTrue(diverged.stderr.contains("training diverged") || diverged.stderr.contains("not positive definite"), diverged.stderr)
        // 64: a usage error.
        XCTAssertEqual(try run(config(), ["--threads", "0"]).status, 64)
        // Found by attack: --threads 100000 was taken and the run was killed for its memory.
        let many = try run(config(), ["--threads", "100000"])
        XCTAssertEqual(many.status, 64, many.stderr)
        XCTAssertTrue(many.stderr.contains("--threads must be 1…1024"), many.stderr)
        let train = try CommandRunner.run("consentrec", ["train", "--events", dir.path + "/data/events.csv", "--consent", dir.path + "/data/consent.csv",
                                                         "--key-file", dir.path + "/data/pseudonym.key", "--out", dir.path + "/t", "--threads", "5000"])
        XCTAssertEqual(train.status, 64, train.stderr)
        XCTAssertTrue(train.stderr.contains("threads"), train.stderr)
        // 6 is the privacy gate: reached by `consentrec audit` (TrainCommandTests) and, for `run`,
        // by NightlyRunTests.testPrivacyGate_stopsARunWhoseAuditFails.
    }
}
