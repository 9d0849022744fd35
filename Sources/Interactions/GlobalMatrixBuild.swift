import Cluster
import Consent
import Foundation
import Ingest
import Linalg
import Platform

/// The global matrix built where its events are: in one process from the whole log, or in a
/// distributed run by every rank from the events of the workspaces it owns (its people), with
/// no event leaving its rank. What needs every rank's events is added up across the ranks:
/// the emoji's support (distinct workspaces and users, each counted at one rank, since users
/// and workspaces are each owned by one), the item counts of the threshold rounds, the person
/// segments' sizes and the provenance. Each rank ends with its own people's rows of the matrix
/// one process builds, every column, and the whole matrix's figures (`PersonRows`).
struct GlobalMatrixBuild {
    let builder: InteractionMatrixBuilder
    let collective: any Collective
    var definition: RecommenderDefinition { builder.definition }

    func build(_ log: EventLog, _ s: InteractionMatrixBuilder.Selection) -> ([InteractionMatrix], [MatrixUsage]) {
        let support = Support(log, s, target: definition.target, collective: collective)
        let admitted = support.names.indices.map {
            support.workspaces[$0] >= definition.minEmojiWorkspaces && support.users[$0] >= definition.minEmojiUsers
        }
        let picks = s.events.indices.filter { admitted[support.column[s.items[$0]]!] }
        let assembled = assemble(
            users: picks.map { log.users[s.events[$0]] }, columns: picks.map { Int32(support.column[s.items[$0]]!) },
            weights: picks.map { s.weights[$0] }, log: log, names: support.names, admitted: admitted)
        let admittedCount = admitted.filter { $0 }.count
        let removed = collective.sum([assembled.usersRemoved, assembled.pairsRemoved, assembled.matrix.nonZeros])
        let usage = MatrixUsage(
            recommender: definition.target, scope: .global, workspace: nil, users: assembled.persons.totalRows, items: assembled.itemIDs.count,
            nonZeros: assembled.persons.totalNonZeros, usersRemovedByThresholds: removed[0],
            itemsRemovedByThresholds: admittedCount - assembled.itemIDs.count, interactionsRemovedByThresholds: removed[1],
            itemsRemovedBySupport: support.names.count - admittedCount)
        // Every workspace with a selected event moved the support counts, admitted or not.
        guard let provenance = provenance(Provenance.of(s.events, in: log)), assembled.persons.totalNonZeros > 0 else { return ([], [usage]) }
        let kept = assembled.columns
        var matrix = InteractionMatrix(
            recommender: definition.target, scope: .global, workspace: nil, userIDs: assembled.userIDs, itemIDs: assembled.itemIDs,
            matrix: assembled.matrix, itemWorkspaceCounts: kept.map { support.workspaces[$0] }, itemUserCounts: kept.map { support.users[$0] },
            provenance: provenance)
        matrix.persons = assembled.persons
        return ([matrix], [usage])
    }

    /// Every candidate emoji of every rank, in name order, with its support summed.
    struct Support {
        /// Candidate names, sorted: the columns of the global build.
        let names: [String]
        /// Distinct workspaces and distinct users per candidate.
        let workspaces: [Int]
        let users: [Int]
        /// The candidate column of each of the log's selected items.
        let column: [Int32: Int]

        init(_ log: EventLog, _ s: InteractionMatrixBuilder.Selection, target: RecommenderDefinition.Target, collective: any Collective) {
            let local = Set(s.items)
            let itemName = { (i: Int32) in log.itemName(Int(i), for: target) }
            names = collective.union(local.map(itemName))
            let position = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
            let column = Dictionary(uniqueKeysWithValues: local.map { ($0, position[itemName($0)]!) })
            self.column = column
            let distinct = { (owner: (Int) -> Int32) -> [Int] in
                var pairs = s.events.indices.map { InteractionMatrixBuilder.pair(Int32(column[s.items[$0]]!), owner(s.events[$0])) }
                pairs.sort()
                var counts = [Int](repeating: 0, count: position.count)
                for (k, p) in pairs.enumerated() where k == 0 || pairs[k - 1] != p { counts[Int(p >> 32)] += 1 }
                return counts
            }
            let summed = collective.sum(distinct { log.workspaces[$0] } + distinct { log.users[$0] })
            workspaces = Array(summed[..<names.count])
            users = Array(summed[names.count...])
        }
    }

    struct Assembled {
        let matrix: SparseMatrix
        let userIDs: [String]
        let itemIDs: [String]
        /// The support's candidate of each column.
        let columns: [Int]
        let usersRemoved: Int
        let pairsRemoved: Int
        let persons: PersonRows
    }

    /// This rank's rows: weights summed per pair, log scaling, the thresholds over every rank's
    /// rows, then the rows laid out by person segment and pseudonym, the kept columns by name.
    private func assemble(users: [Int32], columns: [Int32], weights: [Float], log: EventLog, names: [String], admitted: [Bool]) -> Assembled {
        var (summed, userList) = summed(users: users, columns: columns, weights: weights, width: names.count)
        if definition.logScaling { summed = summed.compactMapValues { Float(log1p(Double($0))) } }
        let (keepUser, keepItem) = builder.thresholds(summed, collective: collective)
        let userName = { (r: Int) in log.vocabulary.users[Int(userList[r])] }
        let segmentOf = { (r: Int) in
            PersonSegments.segment(ofWorkspace: log.vocabulary.workspaces[Int(log.vocabulary.userWorkspace[Int(userList[r])])])
        }
        let userOrder = (0..<summed.rows).filter { keepUser[$0] }
            .map { (segmentOf($0), HexOrder(userName($0)), $0) }.sorted { ($0.0, $0.1) < ($1.0, $1.1) }
        let itemOrder = (0..<summed.columns).filter { keepItem[$0] && admitted[$0] }
        let matrix = InteractionMatrixBuilder.reordered(summed, rows: userOrder.map(\.2), columns: itemOrder)
        return Assembled(
            matrix: matrix, userIDs: userOrder.map { userName($0.2) }, itemIDs: itemOrder.map { names[$0] }, columns: itemOrder,
            usersRemoved: summed.rows - userOrder.count, pairsRemoved: summed.nonZeros - matrix.nonZeros,
            persons: persons(segments: userOrder.map(\.0), matrix: matrix))
    }

    /// The weights summed per pair over this rank's users (first-seen order) and the global columns.
    private func summed(users: [Int32], columns: [Int32], weights: [Float], width: Int) -> (SparseMatrix, [Int32]) {
        var userLocal = [Int32: Int32](), userList: [Int32] = []
        var rows = [Int32]()
        rows.reserveCapacity(users.count)
        for u in users {
            if let r = userLocal[u] { rows.append(r) } else {
                userLocal[u] = Int32(userList.count); rows.append(Int32(userList.count)); userList.append(u)
            }
        }
        let matrix = try! SparseMatrix(rows: userList.count, columns: width, rowIndices: rows, columnIndices: columns, values: weights)
        return (matrix, userList)
    }

    /// Where this rank's rows sit in the whole matrix: the segments' sizes summed over ranks.
    private func persons(segments: [Int], matrix: SparseMatrix) -> PersonRows {
        let held = PersonSegments.held(by: collective.rank, of: collective.size)
        precondition(segments.allSatisfy { held.contains($0) }, "a rank holds the people of the workspaces it owns only")
        var sizes = [Int](repeating: 0, count: PersonSegments.count)
        for s in segments { sizes[s] += 1 }
        let totals = collective.sum(sizes + [matrix.nonZeros] + matrix.columnCounts)
        var rows: [Range<Int>] = [], start = 0
        for s in held {
            rows.append(start..<start + sizes[s])
            start += sizes[s]
        }
        let counts = totals[PersonSegments.count...]
        return PersonRows(segments: held, rows: rows, firstRow: totals[..<held.lowerBound].reduce(0, +),
                          totalRows: totals[..<PersonSegments.count].reduce(0, +), totalNonZeros: counts.first!, columnUsers: Array(counts.dropFirst()))
    }

    /// This rank's provenance with every other rank's: the whole build's (nil: no event anywhere).
    private func provenance(_ mine: Provenance?) -> Provenance? {
        var w = WireWriter()
        if let mine {
            w.strings(mine.workspaces)
            w.int64(mine.oldestEvent)
            w.int64(mine.newestEvent)
        }
        var all: Provenance?
        for message in collective.gather(w.bytes) where !message.isEmpty {
            var r = WireReader(message)
            guard let workspaces = try? r.strings(), let oldest = try? r.int64(), let newest = try? r.int64() else { continue }
            let part = Provenance(workspaces: workspaces, oldestEvent: oldest, newestEvent: newest)
            all = all.map { $0.union(part) } ?? part
        }
        return all
    }
}

extension Collective {
    /// Every rank's names together, sorted, each once.
    func union(_ names: [String]) -> [String] {
        var w = WireWriter()
        w.strings(names)
        var all = Set<String>()
        for message in gather(w.bytes) {
            var r = WireReader(message)
            all.formUnion((try? r.strings()) ?? [])
        }
        return all.sorted()
    }
}
