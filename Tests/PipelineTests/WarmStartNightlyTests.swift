import Factorization
import Foundation
import Consent
import Ingest
@testable import Interactions
import Linalg
@testable import Pipeline
import Publishing
import XCTest

/// The nightly's full models start from their held-out models' factors.
final class WarmStartNightlyTests: XCTestCase {
    var f: NightlyFixture!

    override func setUpWithError() throws { f = try NightlyFixture(workspaces: 8, events: 12_000) }

    /// Each published model of the run, decoded and as stored, by recommender and workspace pseudonym.
    func published(_ config: NightlyConfig) throws -> (manifest: Manifest, models: [String: ModelFile], bytes: [String: Data]) {
        let report = try NightlyRun(config: config).execute(logger: f.quiet)
        let run = try PublishedRun.open(try XCTUnwrap(report.runDirectory))
        var models: [String: ModelFile] = [:], bytes: [String: Data] = [:]
        for entry in run.manifest.models {
            let (file, data) = try run.checkedModel(entry)
            models[file.recommender + "/" + (file.workspace ?? "")] = file
            bytes[file.recommender + "/" + (file.workspace ?? "")] = data
        }
        return (run.manifest, models, bytes)
    }

    /// What a model of `rc` should be, computed here through the public stages: the held-out
    /// model fitted on the training part, laid onto the full matrix by id, then `warm`
    /// iterations; with no training part, one that knows fewer than half of the users or
    /// items, or `warm` 0, a fit from random factors.
    func expected(_ rc: NightlyConfig.Recommender, log: EventLog, warm: Int) throws -> [String: (ALSModel, warm: Bool)] {
        var als = rc.als
        als.threads = 1
        let pairs = HeldOutSplit.make(log, definition: rc.definition, split: rc.split.resolved(for: log, definition: rc.definition)).pairs
        let trains = Dictionary(uniqueKeysWithValues: pairs.map { ($0.train.workspace ?? "", $0.train) })
        var result: [String: (ALSModel, warm: Bool)] = [:]
        for full in InteractionMatrixBuilder(definition: rc.definition).build(log).matrices {
            let key = rc.definition.target.rawValue + "/" + (full.workspace ?? "")
            guard warm > 0, let train = trains[full.workspace ?? ""] else {
                result[key] = (try ImplicitALS(configuration: als).fit(full.matrix, logger: .quiet, userSegments: full.personSegments), false)
                continue
            }
            let heldOut = try ImplicitALS(configuration: als).fit(train.matrix, logger: .quiet, userSegments: train.personSegments)
            let start = WarmStart(
                model: heldOut,
                userRows: full.userIDs.map { id in train.userIDs.firstIndex(of: id).map(Int32.init) ?? -1 },
                itemRows: full.itemIDs.map { id in train.itemIDs.firstIndex(of: id).map(Int32.init) ?? -1 })
            let known = (users: start.userRows.filter { $0 >= 0 }.count, items: start.itemRows.filter { $0 >= 0 }.count)
            guard known.users * 2 >= full.userIDs.count, known.items * 2 >= full.itemIDs.count else {
                result[key] = (try ImplicitALS(configuration: als).fit(full.matrix, logger: .quiet, userSegments: full.personSegments), false)
                continue
            }
            var short = als
            short.iterations = warm
            result[key] = (try ImplicitALS(configuration: short).fit(full.matrix, warmStart: start, logger: .quiet, userSegments: full.personSegments), true)
        }
        return result
    }

    func testFullModels_startFromTheHeldOutModel_withAThirdOfTheIterations() throws {
        let config = try f.load(f.config())
        XCTAssertEqual(config.recommenders.map(\.warmStartIterations), [2, 2], "a third of 5, rounded up")
        let (manifest, models, _) = try published(config)
        XCTAssertEqual(manifest.recommenders.map(\.hyperparameters.warmStartIterations), [2, 2])
        let log = try f.read(config)
        var warmed = 0
        for rc in config.recommenders {
            for (key, (model, warm)) in try expected(rc, log: log, warm: 2) {
                guard let file = models[key] else { continue }  // not published: its gate failed
                XCTAssertEqual(file.itemFactors.storage.map(\.bitPattern), model.itemFactors.storage.map(\.bitPattern), key)
                XCTAssertEqual(file.hyperparameters.iterations, 5, key)
                XCTAssertEqual(file.hyperparameters.warmStartIterations, warm ? 2 : nil, key)
                XCTAssertEqual(file.hyperparameters.warmStartSplit, warm ? rc.split.description : nil, key)
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
        let (manifest, models, bytes) = try published(config)
        XCTAssertEqual(manifest.recommenders.map(\.hyperparameters.warmStartIterations), [nil, 2])
        let channel = config.recommenders[0]
        let expected = try expected(channel, log: f.read(config), warm: 0)
        let channelModels = models.filter { $0.key.hasPrefix("channel/") }
        XCTAssertFalse(channelModels.isEmpty)
        for (key, file) in channelModels {
            XCTAssertEqual(file.itemFactors.storage.map(\.bitPattern), expected[key]?.0.itemFactors.storage.map(\.bitPattern), key)
            XCTAssertNil(file.hyperparameters.warmStartIterations, key)
            // The stored file has no warm-start key at all: the same bytes as before it existed.
            let stored = try XCTUnwrap(bytes[key])
            XCTAssertNil(stored.range(of: Data("warm_start".utf8)), key)
        }
        XCTAssertNotNil(bytes["emoji/"]?.range(of: Data("warm_start_iterations".utf8)), "the emoji model is still warm-started")
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

    func testAHeldOutModelThatKnowsLessThanHalf_isNotStartedFrom() throws {
        let config = try f.load(f.config())
        let rc = config.recommenders[0]
        let rules = ConsentRules(registry: try f.todaysRegistry(), pseudonymiser: f.pseudonymiser, policy: .optOut)
        let stage = GateStage(recommender: rc, previous: PreviousRun(run: nil), carryRule: CarryForwardRule(rules: rules, oldestAllowed: nil))
        let users = ["u1", "u2", "u3", "u4"], items = ["c1", "c2"]
        let matrix = InteractionMatrix(
            recommender: .channel, scope: .workspace, workspace: "w", userIDs: users, itemIDs: items,
            matrix: try SparseMatrix(rows: 4, columns: 2, rowIndices: [0, 1, 2, 3], columnIndices: [0, 1, 0, 1], values: [1, 1, 1, 1]),
            itemWorkspaceCounts: nil, itemUserCounts: nil, provenance: Provenance(workspaces: ["w"], oldestEvent: 0, newestEvent: 1))
        func start(knowing knownUsers: [String], _ knownItems: [String]) -> WarmStart? {
            let model = ALSModel(configuration: rc.als, userFactors: Matrix(rows: knownUsers.count, columns: rc.als.factors),
                                 itemFactors: Matrix(rows: knownItems.count, columns: rc.als.factors))
            let evaluation = HeldOutEvaluation(results: [:], k: rc.k, models: ["w": HeldOutModel(model: model, userIDs: knownUsers, itemIDs: knownItems)])
            return stage.decide([matrix], evaluation: evaluation).toTrain.first?.warmStart
        }
        XCTAssertEqual(start(knowing: ["u2", "u4"], ["c2"])?.userRows, [-1, 0, -1, 1], "half of each: started from")
        XCTAssertNil(start(knowing: ["u2"], ["c1", "c2"]), "a quarter of the users")
        XCTAssertNil(start(knowing: ["u1", "u2", "u3"], []), "no item")
    }
}

extension InteractionMatrix {
    /// What a nightly fit of this matrix sums its users' Gram matrix over: a global model's
    /// person segments (`PersonRows`), one segment for a workspace's.
    var personSegments: [Range<Int>]? { persons?.rows }
}
