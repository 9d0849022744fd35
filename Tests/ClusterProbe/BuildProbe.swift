import Cluster
import Consent
import Foundation
import Ingest
import Interactions
import Linalg
import SyntheticData

/// `build`: every rank builds the global emoji matrix from the events of the workspaces it
/// owns (`GlobalMatrixBuild`) and checks its rows against the whole log's build in one
/// process: the same people in the same rows, the same columns, support, provenance, usage
/// and figures of the whole. Also the global temporal cutoff, found across the ranks.
func probeBuild(_ world: any Collective) {
    let rank = world.rank
    func check(_ ok: Bool, _ what: String) { if !ok { print("build rank \(rank) FAILED: \(what)") } }
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("consentrec-build-probe-\(rank)-\(getpid())").path
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var options = SyntheticEventLog.Options()
    options.workspaces = 30
    options.events = 30_000
    _ = try! SyntheticEventLog(options: options).write(to: dir)
    let reader = EventLogReader(
        options: IngestOptions(policy: .optOut, asOf: options.end),
        registry: try! ConsentRegistry.load(path: dir + "/consent.csv", asOf: options.end),
        pseudonymiser: Pseudonymiser(key: try! PseudonymKey.load(file: dir + "/pseudonym.key")))
    let log = try! reader.read([dir + "/events.csv"], logger: .init(label: "probe"))
    let owner = log.vocabulary.workspaces.map { PersonSegments.owner(ofSegment: PersonSegments.segment(ofWorkspace: $0), ranks: world.size) }
    let part = log.subset(log.workspaces.map { owner[Int($0)] == rank })
    var definition = RecommenderDefinition.emojiDefault
    for (name, thresholds) in [("thresholds", (2, 2, 2, 2)), ("open", (1, 1, 1, 1))] {
        (definition.minUserItems, definition.minItemUsers, definition.minEmojiWorkspaces, definition.minEmojiUsers) = thresholds
        let (whole, wholeUsage) = InteractionMatrixBuilder(definition: definition).build(log)
        let (mine, mineUsage) = InteractionMatrixBuilder(definition: definition, collective: world).build(part)
        check(wholeUsage == mineUsage, "\(name): usage")
        guard let w = whole.first, let m = mine.first, let wp = w.persons, let mp = m.persons else { check(false, "\(name): no matrix"); continue }
        let rows = mp.firstRow..<mp.firstRow + m.matrix.rows
        check(mp.segments == PersonSegments.held(by: rank, of: world.size), "\(name): segments held")
        check(mp.rows.map { $0.lowerBound + mp.firstRow..<$0.upperBound + mp.firstRow } == mp.segments.map { wp.rows[$0] }, "\(name): segment rows")
        check(Array(w.userIDs[rows]) == m.userIDs, "\(name): people")
        check(w.matrix.rows(rows) == m.matrix, "\(name): rows")
        check(w.itemIDs == m.itemIDs && w.itemWorkspaceCounts == m.itemWorkspaceCounts && w.itemUserCounts == m.itemUserCounts, "\(name): columns")
        check(w.provenance == m.provenance, "\(name): provenance")
        check(wp.totalRows == mp.totalRows && wp.totalNonZeros == mp.totalNonZeros && wp.columnUsers == mp.columnUsers, "\(name): totals")
        print("build \(name) rank \(rank): \(m.matrix.rows) of \(mp.totalRows) people, \(m.itemIDs.count) emoji")
    }
    let split = SplitStrategy.temporal(.lastFraction(0.2))
    check(split.resolved(for: part, definition: definition, collective: world) == split.resolved(for: log, definition: definition), "cutoff")
    print("build rank \(rank) done")
}
