import Factorization
import Foundation
import Ingest
import Interactions
@testable import Pipeline
import Publishing
import XCTest

/// The nightly's full models start from their held-out models' factors.
final class WarmStartNightlyTests: XCTestCase {
    var f: NightlyFixture!

    override func setUpWithError() throws { f = try NightlyFixture(workspaces: 8, events: 12_000) }

    /// Each published model of the run, by recommender and workspace pseudonym.
    func published(_ config: NightlyConfig) throws -> (manifest: Manifest, models: [String: ModelFile]) {
        let report = try NightlyRun(config: config).execute(logger: f.quiet)
        let run = try PublishedRun.open(try XCTUnwrap(report.runDirectory))
        var models: [String: ModelFile] = [:]
        for entry in run.manifest.models {
            let file = try run.model(entry)
            models[file.recommender + "/" + (file.workspace ?? "")] = file
        }
        return (run.manifest, models)
    }

    /// What a model of `rc` should be, computed here through the public stages: the held-out
    /// model fitted on the training part, laid onto the full matrix by id, then `warm`
    /// iterations; with no training part (or `warm` 0), a fit from random factors.
    func expected(_ rc: NightlyConfig.Recommender, log: EventLog, warm: Int) throws -> [String: (ALSModel, warm: Bool)] {
        var als = rc.als
        als.threads = 1
        let pairs = HeldOutSplit.make(log, definition: rc.definition, split: rc.split.resolved(for: log, definition: rc.definition)).pairs
        let trains = Dictionary(uniqueKeysWithValues: pairs.map { ($0.train.workspace ?? "", $0.train) })
        var result: [String: (ALSModel, warm: Bool)] = [:]
        for full in InteractionMatrixBuilder(definition: rc.definition).build(log).matrices {
            let key = rc.definition.target.rawValue + "/" + (full.workspace ?? "")
            guard warm > 0, let train = trains[full.workspace ?? ""] else {
                result[key] = (try ImplicitALS(configuration: als).fit(full.matrix, logger: .quiet), false)
                continue
            }
            let heldOut = try ImplicitALS(configuration: als).fit(train.matrix, logger: .quiet)
            let start = WarmStart(
                model: heldOut,
                userRows: full.userIDs.map { id in train.userIDs.firstIndex(of: id).map(Int32.init) ?? -1 },
                itemRows: full.itemIDs.map { id in train.itemIDs.firstIndex(of: id).map(Int32.init) ?? -1 })
            var short = als
            short.iterations = warm
            result[key] = (try ImplicitALS(configuration: short).fit(full.matrix, warmStart: start, logger: .quiet), true)
        }
        return result
    }

    func testFullModels_startFromTheHeldOutModel_withAThirdOfTheIterations() throws {
        let config = try f.load(f.config())
        XCTAssertEqual(config.recommenders.map(\.warmStartIterations), [2, 2], "a third of 5, rounded up")
        let (manifest, models) = try published(config)
        XCTAssertEqual(manifest.recommenders.map(\.hyperparameters.warmStartIterations), [2, 2])
        let log = try f.read(config)
        var warmed = 0
        for rc in config.recommenders {
            for (key, (model, warm)) in try expected(rc, log: log, warm: 2) {
                guard let file = models[key] else { continue }  // not published: its gate failed
                XCTAssertEqual(file.itemFactors.storage.map(\.bitPattern), model.itemFactors.storage.map(\.bitPattern), key)
                XCTAssertEqual(file.hyperparameters.iterations, 5, key)
                XCTAssertEqual(file.hyperparameters.warmStartIterations, warm ? 2 : nil, key)
                if warm { warmed += 1 }
            }
        }
        XCTAssertGreaterThan(warmed, 3, "models warm-started")
        XCTAssertNotNil(models["emoji/"]?.hyperparameters.warmStartIterations, "the global model too")
    }

    func testZeroWarmIterations_fitFromRandomFactors_asBefore() throws {
        let text = f.config().replacingOccurrences(of: "factors = 8\niterations = 5\nregularization = 1.0",
                                                   with: "factors = 8\niterations = 5\nregularization = 1.0\nwarm_start_iterations = 0")
        let config = try f.load(text)
        XCTAssertEqual(config.recommenders.map(\.warmStartIterations), [0, 2])
        let (manifest, models) = try published(config)
        XCTAssertEqual(manifest.recommenders.map(\.hyperparameters.warmStartIterations), [nil, 2])
        let channel = config.recommenders[0]
        let expected = try expected(channel, log: f.read(config), warm: 0)
        let channelModels = models.filter { $0.key.hasPrefix("channel/") }
        XCTAssertFalse(channelModels.isEmpty)
        for (key, file) in channelModels {
            XCTAssertEqual(file.itemFactors.storage, expected[key]?.0.itemFactors.storage, key)
            XCTAssertNil(file.hyperparameters.warmStartIterations, key)
        }
        // The model file's metadata has no warm-start key at all: the same bytes as before it existed.
        let bytes = try XCTUnwrap(channelModels.values.first).encode()
        XCTAssertNil(String(decoding: bytes.prefix(4096), as: UTF8.self).range(of: "warm_start"))
    }

    func testWarmStartIterations_isChecked() throws {
        for (value, reason) in [("-1", "must be at least 0"), ("\"two\"", "an integer")] {
            let text = f.config().replacingOccurrences(of: "factors = 8\niterations = 5\nregularization = 1.0",
                                                       with: "factors = 8\niterations = 5\nregularization = 1.0\nwarm_start_iterations = \(value)")
            XCTAssertThrowsError(try f.load(text, name: "bad.toml")) { error in
                XCTAssertTrue("\(error)".contains("recommenders.channel.als.warm_start_iterations"), "\(error)")
                XCTAssertTrue("\(error)".contains(reason), "\(error)")
            }
        }
        let fifteen = f.config().replacingOccurrences(of: "factors = 8\niterations = 5\nregularization = 1.0",
                                                      with: "factors = 8\niterations = 15\nregularization = 1.0")
        XCTAssertEqual(try f.load(fifteen).recommenders[0].warmStartIterations, 5)
    }
}
