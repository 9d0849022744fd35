@testable import Consent
import Foundation
import Linalg
@testable import Ingest
@testable import Interactions
@testable import Platform
import SyntheticData
import TestSupport
import XCTest

final class SplitterTests: XCTestCase {
    static let dir = TemporaryDirectory()
    static let log: EventLog = {
        var options = SyntheticEventLog.Options()
        options.workspaces = 6
        options.events = 8000
        try! SyntheticEventLog(options: options).write(to: dir.path)
        let reader = EventLogReader(
            options: IngestOptions(policy: .optOut, asOf: options.end),
            registry: try! ConsentRegistry.load(path: dir.file("consent.csv"), asOf: options.end),
            pseudonymiser: Pseudonymiser(key: try! PseudonymKey.load(file: dir.file("pseudonym.key"))))
        return try! reader.read([dir.file("events.csv")], logger: .quiet)
    }()
    let definition = RecommenderDefinition.channelDefault

    func pairs(_ mask: [Bool], test: Bool) -> Set<UInt64> {
        let log = Self.log
        var out = Set<UInt64>()
        for i in 0..<log.count where mask[i] == test && (definition.weights[log.kinds[i]] ?? 0) > 0 {
            out.insert(UInt64(UInt32(bitPattern: log.users[i])) << 32 | UInt64(UInt32(bitPattern: log.channels[i])))
        }
        return out
    }

    func testTemporal_oneStrayOldEvent_doesNotStretchTheSpan() {
        // Found by an attack: one event dated 1970 made the span decades long, left no test
        // event, and so every gate ungated.
        var log = Self.log
        let clean = SplitStrategy.temporal(.lastFraction(0.2)).testMask(log, definition: definition)
        log.timestamps[0] = 0
        let attacked = SplitStrategy.temporal(.lastFraction(0.2)).testMask(log, definition: definition)
        XCTAssertEqual(attacked.dropFirst(), clean.dropFirst())
        XCTAssertGreaterThan(attacked.filter { $0 }.count, log.count / 10)
    }

    func testTemporal_everyTestEventIsAfterEveryTrainEvent_ofItsWorkspace() {
        let log = Self.log
        let mask = SplitStrategy.temporal(.lastFraction(0.2)).testMask(log, definition: definition)
        var cutoffs = Set<Int64>()
        for w in Set(log.workspaces) {
            let events = log.timestamps.indices.filter { log.workspaces[$0] == w }
            let trainTimes = events.filter { !mask[$0] }.map { log.timestamps[$0] }
            let testTimes = events.filter { mask[$0] }.map { log.timestamps[$0] }
            XCTAssertFalse(testTimes.isEmpty)
            XCTAssertLessThan(trainTimes.max()!, testTimes.min()!)
            let share = Double(testTimes.count) / Double(events.count)
            XCTAssertTrue((0.05...0.5).contains(share), "\(share)")
            cutoffs.insert(testTimes.min()!)
        }
        XCTAssertGreaterThan(cutoffs.count, 1, "each workspace has its own cutoff")
    }

    func testResolvedSplit_splitsAWorkspaceShardAsTheWholeLog() {
        // A global recommender's fraction of the time span means a different cutoff on a shard
        // than on the whole log; resolved once on the whole, it splits every shard as the
        // whole is split. A per-workspace recommender's splits need no resolving.
        let log = Self.log
        let inShard = log.workspaces.map { $0 % 2 == 0 }
        let shard = log.subset(inShard)
        let global = RecommenderDefinition.emojiDefault
        XCTAssertEqual(global.scope, .global)
        for d in [definition, global] {
            for strategy: SplitStrategy in [.temporal(.lastFraction(0.2)), .leaveLast(1), .random(fraction: 0.3, seed: 9)] {
                let whole = strategy.testMask(log, definition: d)
                let expected = zip(whole, inShard).filter(\.1).map(\.0)
                XCTAssertEqual(strategy.resolved(for: log, definition: d).testMask(shard, definition: d), expected, "\(strategy) \(d.scope)")
            }
        }
        guard case .temporal(.time(let cutoff)) = SplitStrategy.temporal(.lastFraction(0.2)).resolved(for: log, definition: global) else {
            return XCTFail("a fraction resolves to a time")
        }
        XCTAssertNotEqual(SplitStrategy.temporal(.lastFraction(0.2)).resolved(for: shard, definition: global), .temporal(.time(cutoff)),
                          "this shard's own span differs, so resolving matters here")
        XCTAssertEqual(SplitStrategy.temporal(.lastFraction(0.2)).resolved(for: log, definition: definition), .temporal(.lastFraction(0.2)))
        XCTAssertEqual(SplitStrategy.leaveLast(2).resolved(for: log, definition: global), .leaveLast(2))
    }

    func testAWorkspacesSplit_dependsOnItsOwnEventsAlone_notOnOtherWorkspacesOrTheRowOrder() throws {
        // The log read again without one workspace's rows and with the rest in reverse order:
        // every other workspace's held-out events are the same events (by pseudonym and time).
        let log = Self.log  // writes the files
        let text = try String(contentsOfFile: Self.dir.file("events.csv"), encoding: .utf8)
        var lines = text.split(separator: "\n").map(String.init)
        let header = lines.removeFirst()
        // A workspace whose events the log holds (not one its consent already excludes).
        let pseudonymiser = Pseudonymiser(key: try PseudonymKey.load(file: Self.dir.file("pseudonym.key")))
        let present = Set(log.workspaces.map { log.vocabulary.workspaces[Int($0)] })
        let dropped = try XCTUnwrap(lines.lazy.map { String($0.split(separator: ",", omittingEmptySubsequences: false)[1]) }
            .first { present.contains(pseudonymiser.workspace($0)) })
        let kept = lines.filter { $0.split(separator: ",", omittingEmptySubsequences: false)[1] != dropped }
        XCTAssertLessThan(kept.count, lines.count)
        try ([header] + kept.reversed()).joined(separator: "\n").write(toFile: Self.dir.file("other.csv"), atomically: true, encoding: .utf8)
        let other = try EventLogReader(
            options: IngestOptions(policy: .optOut, asOf: SyntheticEventLog.Options().end),
            registry: try ConsentRegistry.load(path: Self.dir.file("consent.csv"), asOf: SyntheticEventLog.Options().end),
            pseudonymiser: pseudonymiser)
            .read([Self.dir.file("other.csv")], logger: .quiet)
        let droppedPseudonym: Set = [pseudonymiser.workspace(dropped)]
        XCTAssertFalse(other.workspaces.contains { droppedPseudonym.contains(other.vocabulary.workspaces[Int($0)]) })

        func heldOut(_ log: EventLog, _ strategy: SplitStrategy) -> Set<String> {
            let mask = strategy.testMask(log, definition: definition)
            return Set(log.timestamps.indices.filter { mask[$0] && !droppedPseudonym.contains(log.vocabulary.workspaces[Int(log.workspaces[$0])]) }.map {
                "\(log.vocabulary.users[Int(log.users[$0])]) \(log.vocabulary.channels[Int(log.channels[$0])]) \(log.kinds[$0]) \(log.timestamps[$0])"
            })
        }
        for strategy: SplitStrategy in [.temporal(.lastFraction(0.2)), .leaveLast(1), .random(fraction: 0.3, seed: 9)] {
            let expected = heldOut(log, strategy)
            XCTAssertFalse(expected.isEmpty)
            XCTAssertEqual(heldOut(other, strategy), expected, "\(strategy)")
        }
    }

    func testGlobalCutoff_countsOnlyTheEventsItsProvenanceCovers() throws {
        // A workspace whose only emoji-bearing rows are joins (weight 0 for emoji) is not in
        // the global model's provenance, so it must not move the cutoff — even with rows
        // dated after every other event.
        let log = Self.log
        let text = try String(contentsOfFile: Self.dir.file("events.csv"), encoding: .utf8)
        let extra = (0..<50).map { "2026-12-\(10 + $0 % 9)T12:00:00Z,TJOINSONLY,UJOINER\($0),CJOINED\($0 % 3),join,thumbsup" }
        try (text.trimmingCharacters(in: .newlines) + "\n" + extra.joined(separator: "\n") + "\n")
            .write(toFile: Self.dir.file("joins.csv"), atomically: true, encoding: .utf8)
        let asOf = Timestamp.parse("2027-01-01T00:00:00Z")!
        let read = { (file: String) in
            try EventLogReader(
                options: IngestOptions(policy: .optOut, asOf: asOf),
                registry: try ConsentRegistry.load(path: Self.dir.file("consent.csv"), asOf: asOf),
                pseudonymiser: Pseudonymiser(key: try PseudonymKey.load(file: Self.dir.file("pseudonym.key"))))
                .read([Self.dir.file(file)], logger: .quiet)
        }
        let (plain, joins) = (try read("events.csv"), try read("joins.csv"))
        XCTAssertEqual(joins.count, plain.count + 50)
        XCTAssertGreaterThan(joins.timestamps.max()!, log.timestamps.max()!)
        let emoji = RecommenderDefinition.emojiDefault
        let split = SplitStrategy.temporal(.lastFraction(0.2))
        XCTAssertEqual(split.resolved(for: joins, definition: emoji), split.resolved(for: plain, definition: emoji))
        let matrix = try XCTUnwrap(InteractionMatrixBuilder(definition: emoji).build(joins).matrices.first)
        let pseudonymiser = Pseudonymiser(key: try PseudonymKey.load(file: Self.dir.file("pseudonym.key")))
        XCTAssertFalse(matrix.provenance.workspaces.contains(pseudonymiser.workspace("TJOINSONLY")))
    }

    func testBuildingAndSplitting_onManyThreads_giveTheOneThreadResult() {
        let log = Self.log
        for d in [definition, RecommenderDefinition.emojiDefault] {
            let one = InteractionMatrixBuilder(definition: d, threads: 1).build(log)
            let three = InteractionMatrixBuilder(definition: d, threads: 3).build(log)
            XCTAssertEqual(one.matrices, three.matrices)
            XCTAssertEqual(one.usage, three.usage)
            let split = SplitStrategy.temporal(.lastFraction(0.2))
            let a = HeldOutSplit.make(log, definition: d, split: split, threads: 1)
            let b = HeldOutSplit.make(log, definition: d, split: split, threads: 3)
            XCTAssertEqual(a.pairs.map(\.train), b.pairs.map(\.train))
            XCTAssertEqual(a.pairs.map(\.held), b.pairs.map(\.held))
            XCTAssertEqual(a.usage, b.usage)
        }
        XCTAssertGreaterThan(InteractionMatrixBuilder(definition: definition).build(log).matrices.count, 3)
    }

    func testBuildingAPart_givesTheMatricesOfThatSubsetOfTheLog() {
        // HeldOutSplit builds its parts through a mask instead of copying the log.
        let log = Self.log
        var rng = SeededGenerator(seed: 12)
        let masks = [log.timestamps.map { $0 % 3 == 0 }, (0..<log.count).map { _ in rng.nextUnit() < 0.7 },
                     SplitStrategy.temporal(.lastFraction(0.2)).testMask(log, definition: definition)]
        for d in [definition, RecommenderDefinition.emojiDefault] {
            for mask in masks {
                let fromMask = InteractionMatrixBuilder(definition: d, threads: 2).build(log, part: mask)
                let fromSubset = InteractionMatrixBuilder(definition: d).build(log.subset(mask))
                XCTAssertEqual(fromMask.matrices, fromSubset.matrices)
                XCTAssertEqual(fromMask.usage, fromSubset.usage)
                if d.target == .channel { XCTAssertFalse(fromMask.matrices.isEmpty) }
            }
        }
        // Leaves: a join kept only when no later leave of the same pair is in the part — and
        // some part here does separate a join from its leave.
        let builder = InteractionMatrixBuilder(definition: definition)
        XCTAssertTrue(masks.contains { builder.leftPairs(log, part: $0) != builder.leftPairs(log) })
        for mask in masks { XCTAssertEqual(builder.leftPairs(log, part: mask), builder.leftPairs(log.subset(mask))) }
    }

    func testCutoffSelection_isExact_andIndependentOfOrder() {
        var rng = SeededGenerator(seed: 3)
        for count in [1, 2, 3, 7, 100, 1_000, 250_000] {
            // Few distinct values (many equal times) and many.
            for distinct in [3, 1_000_000] {
                var values = (0..<count).map { _ in Int64(rng.nextIndex(below: distinct)) }
                let sorted = values.sorted()
                for rank in Set([0, count / 100, count / 2, count - 1]) {
                    var copy = values
                    XCTAssertEqual(SplitStrategy.select(&copy, rank: rank), sorted[rank], "\(count) \(distinct) \(rank)")
                }
                let forward = SplitStrategy.cutoff(values, fraction: 0.2)
                values.reverse()
                XCTAssertEqual(SplitStrategy.cutoff(values, fraction: 0.2), forward)
                values.shuffle(using: &rng)
                XCTAssertEqual(SplitStrategy.cutoff(values, fraction: 0.2), forward)
            }
        }
    }

    func testLeaveLast_holdsOutEachUsersLatestItem_andNoPairIsOnBothSides() {
        let log = Self.log
        let mask = SplitStrategy.leaveLast(1).testMask(log, definition: definition)
        let test = pairs(mask, test: true), train = pairs(mask, test: false)
        XCTAssertTrue(test.isDisjoint(with: train))
        // Per user: at most one held-out pair, and it is the pair with the latest event (ties
        // to the larger channel pseudonym), among the channels the user did not leave.
        let left = InteractionMatrixBuilder(definition: definition).leftPairs(log)
        var latest: [Int32: (Int64, String, Int32)] = [:]
        for i in 0..<log.count where (definition.weights[log.kinds[i]] ?? 0) > 0 || log.kinds[i] == .join || log.kinds[i] == .leave {
            guard !left.contains(InteractionMatrixBuilder.pair(log.users[i], log.channels[i])) else { continue }
            let candidate = (log.timestamps[i], log.vocabulary.channels[Int(log.channels[i])], log.channels[i])
            if let current = latest[log.users[i]], (current.0, current.1) >= (candidate.0, candidate.1) { continue }
            latest[log.users[i]] = candidate
        }
        let byUser = Dictionary(grouping: test, by: { Int32(bitPattern: UInt32($0 >> 32)) })
        for (user, held) in byUser {
            XCTAssertEqual(held.count, 1)
            XCTAssertEqual(Int32(bitPattern: UInt32(held.first! & 0xFFFF_FFFF)), latest[user]!.2)
        }
    }

    func testPerUserSplits_neverHoldOutAChannelTheUserLeft() {
        let log = Self.log
        let left = InteractionMatrixBuilder(definition: definition).leftPairs(log)
        XCTAssertFalse(left.isEmpty, "the log must have users who left a channel")
        for strategy: SplitStrategy in [.leaveLast(1), .leaveLast(3), .random(fraction: 0.5, seed: 4)] {
            let mask = strategy.testMask(log, definition: definition)
            let heldLeft = log.timestamps.indices.filter { mask[$0] && left.contains(InteractionMatrixBuilder.pair(log.users[$0], log.channels[$0])) }
            XCTAssertEqual(heldLeft, [], "\(strategy)")
            XCTAssertTrue(mask.contains(true), "\(strategy)")
        }
    }

    func testRandom_isReproducibleFromItsSeed_andDisjoint() {
        let a = SplitStrategy.random(fraction: 0.3, seed: 1).testMask(Self.log, definition: definition)
        let b = SplitStrategy.random(fraction: 0.3, seed: 1).testMask(Self.log, definition: definition)
        let c = SplitStrategy.random(fraction: 0.3, seed: 2).testMask(Self.log, definition: definition)
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, c)
        XCTAssertTrue(pairs(a, test: true).isDisjoint(with: pairs(a, test: false)))
    }

    func testParse_readsEveryForm_andRejectsNonsense() {
        XCTAssertEqual(SplitStrategy.parse("temporal:0.2", seed: 0), .temporal(.lastFraction(0.2)))
        XCTAssertEqual(SplitStrategy.parse("temporal:2026-11-15T00:00:00Z", seed: 0), .temporal(.time(Timestamp.parse("2026-11-15T00:00:00Z")!)))
        XCTAssertEqual(SplitStrategy.parse("leave-last:2", seed: 0), .leaveLast(2))
        XCTAssertEqual(SplitStrategy.parse("random:0.1", seed: 9), .random(fraction: 0.1, seed: 9))
        for bad in ["temporal:1.5", "random:0", "leave-last:0", "sideways:1", "temporal"] { XCTAssertNil(SplitStrategy.parse(bad, seed: 0), bad) }
    }
}
