import Consent
import Factorization
import Foundation
import Ingest
import Interactions
import Linalg
@testable import Pipeline
import Platform
import Publishing
import XCTest

/// `als.warm_start = "last_run"`: the full model starts from the last published run's item
/// factors, matched by id, when tonight's consent and retention still allow that model.
final class LastRunWarmStartTests: XCTestCase {
    func config(_ f: NightlyFixture, asOf: String, root: String = "out", retention: Int? = nil) -> String {
        f.config("", root: root, asOf: asOf, retentionDays: retention)
            .replacingOccurrences(of: "[recommenders.channel.als]", with: "[recommenders.channel.als]\nwarm_start = \"last_run\"")
            .replacingOccurrences(of: "[recommenders.emoji.als]", with: "[recommenders.emoji.als]\nwarm_start = \"last_run\"")
    }

    func models(_ report: NightlyReport) throws -> (PublishedRun, [String: (entry: Manifest.Model, file: ModelFile)]) {
        let run = try PublishedRun.open(try XCTUnwrap(report.runDirectory))
        var out: [String: (Manifest.Model, ModelFile)] = [:]
        for entry in run.manifest.models { out[entry.recommender + "/" + (entry.workspace ?? "")] = (entry, try run.model(entry)) }
        return (run, out)
    }

    func testSecondNight_startsFromTheFirstNightsItemFactors_byID_withProvenanceCarriedOn() throws {
        let f = try NightlyFixture(workspaces: 10, events: 16_000)
        let night1 = try NightlyRun(config: try f.load(config(f, asOf: "2026-11-19T00:00:00Z"), name: "1.toml")).execute(logger: .quiet)
        let (run1, first) = try models(night1)
        let config2 = try f.load(config(f, asOf: "2026-11-20T00:00:00Z"), name: "2.toml")
        let night2 = try NightlyRun(config: config2).execute(logger: .quiet)
        let (_, second) = try models(night2)
        XCTAssertTrue(night2.text.contains("the last run"), night2.text)

        // Recompute each model that started from the last run, independently: tonight's full
        // matrix, the first night's item factors laid on by id, the warm iterations.
        let log = try f.read(config2)
        var checked = 0
        for rc in config2.recommenders {
            for matrix in InteractionMatrixBuilder(definition: rc.definition).build(log).matrices {
                let key = rc.definition.target.rawValue + "/" + (matrix.workspace ?? "")
                guard let (entry, file) = second[key], file.hyperparameters.warmStartModel != nil, let (oldEntry, old) = first[key] else { continue }
                XCTAssertEqual(entry.warmStartedFrom, run1.manifest.runID)
                XCTAssertEqual(file.hyperparameters.warmStartModel, oldEntry.sha256)
                XCTAssertNil(file.hyperparameters.warmStartSplit)
                var als = rc.als
                als.threads = 1
                als.iterations = rc.warmStartIterations
                let rows = matrix.itemIDs.map { id in old.itemIDs.firstIndex(of: id).map(Int32.init) ?? -1 }
                let start = WarmStart(itemFactors: old.itemFactors, itemRows: rows, users: matrix.matrix.rows, configuration: als)
                let expected = try ImplicitALS(configuration: als).fit(matrix.matrix, warmStart: start, logger: .quiet, userSegments: matrix.personSegments)
                XCTAssertEqual(file.itemFactors.storage.map(\.bitPattern), expected.itemFactors.storage.map(\.bitPattern), key)
                // Whatever shaped the first night's model shaped this one too.
                XCTAssertEqual(entry.provenance, matrix.provenance.union(oldEntry.provenance), key)
                XCTAssertEqual(file.provenance, entry.provenance, key)
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 3)

        // Reproducible: the same two nights under another root give the same bytes.
        _ = try NightlyRun(config: try f.load(config(f, asOf: "2026-11-19T00:00:00Z", root: "again"), name: "1b.toml")).execute(logger: .quiet)
        let again = try NightlyRun(config: try f.load(config(f, asOf: "2026-11-20T00:00:00Z", root: "again"), name: "2b.toml")).execute(logger: .quiet)
        let (_, repeated) = try models(again)
        XCTAssertEqual(repeated.mapValues(\.entry.sha256), second.mapValues(\.entry.sha256))
    }

    func testAModelTonightsRulesDoNotAllow_isNeverStartedFrom() throws {
        let f = try NightlyFixture(workspaces: 10, events: 16_000)
        let night1 = try NightlyRun(config: try f.load(config(f, asOf: "2026-11-19T00:00:00Z"), name: "1.toml")).execute(logger: .quiet)
        let (_, first) = try models(night1)
        // A contributor of the global model opts out.
        let global = try XCTUnwrap(first["emoji/"]?.entry)
        let channelWorkspaces = Set(first.values.compactMap(\.entry.workspace))
        let victim = try XCTUnwrap(global.provenance.workspaces.first { channelWorkspaces.contains($0) })
        try f.record(try XCTUnwrap(f.rawWorkspaces()[victim]), "opted_out", at: "2026-11-19T12:00:00Z")
        let night2 = try NightlyRun(config: try f.load(config(f, asOf: "2026-11-20T00:00:00Z"), name: "2.toml")).execute(logger: .quiet)
        let (_, second) = try models(night2)
        let newGlobal = try XCTUnwrap(second["emoji/"])
        XCTAssertNil(newGlobal.file.hyperparameters.warmStartModel, "the last global model was shaped by an excluded workspace")
        XCTAssertFalse(newGlobal.entry.shapedBy.contains(victim))
        // That model failed tonight's audit, so the purge withdrew its whole run first: nothing
        // starts from any of its models.
        XCTAssertFalse(night2.purge.withdrawn.isEmpty, night2.text)
        XCTAssertTrue(second.values.allSatisfy { $0.file.hyperparameters.warmStartModel == nil && $0.entry.warmStartedFrom == nil })

        // Retention: a model whose events are older than tonight's window is not started from.
        let g = try NightlyFixture(workspaces: 10, events: 16_000)
        _ = try NightlyRun(config: try g.load(config(g, asOf: "2026-11-19T00:00:00Z"), name: "1.toml")).execute(logger: .quiet)
        let late = try NightlyRun(config: try g.load(config(g, asOf: "2026-11-20T00:00:00Z", retention: 10), name: "2.toml")).execute(logger: .quiet)
        let (_, windowed) = try models(late)
        XCTAssertTrue(windowed.values.allSatisfy { $0.file.hyperparameters.warmStartModel == nil }, "every last-run model holds events from before the window")
        XCTAssertTrue(late.text.contains("could not start from the last run's model"), late.text)

        // A run as of an earlier time never starts from a model holding later events.
        let h = try NightlyFixture(workspaces: 10, events: 16_000)
        _ = try NightlyRun(config: try h.load(config(h, asOf: "2026-11-20T00:00:00Z"), name: "1.toml")).execute(logger: .quiet)
        let back = try NightlyRun(config: try h.load(config(h, asOf: "2026-11-18T00:00:00Z"), name: "2.toml")).execute(logger: .quiet)
        let (earlier, models) = try self.models(back)
        XCTAssertTrue(models.values.allSatisfy { $0.file.hyperparameters.warmStartModel == nil }, back.text)
        XCTAssertTrue(back.text.contains("after this run's as-of"), back.text)
        let asOf = try XCTUnwrap(Timestamp.parse(earlier.manifest.asOf))
        XCTAssertTrue(models.values.allSatisfy { $0.entry.provenance.newestEvent <= asOf })
    }

    func testLastRunWithoutWarmIterations_isAConfigError() throws {
        let f = try NightlyFixture(workspaces: 4, events: 2_000)
        let text = config(f, asOf: "2026-11-20T00:00:00Z").replacingOccurrences(of: "warm_start = \"last_run\"\nfactors = 8", with: "warm_start = \"last_run\"\nwarm_start_iterations = 0\nfactors = 8")
        XCTAssertThrowsError(try f.load(text, name: "bad.toml")) { error in
            XCTAssertTrue("\(error)".contains("warm_start_iterations is 0"), "\(error)")
        }
    }
}
