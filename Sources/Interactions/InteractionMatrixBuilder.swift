import Cluster
import Consent
import Foundation
import Ingest
import Linalg
import Synchronization

/// Builds a recommender's training matrices from an `EventLog`.
public struct InteractionMatrixBuilder: Sendable {
    public let definition: RecommenderDefinition
    /// Threads assembling per-workspace matrices; the result does not depend on it.
    public let threads: Int
    /// The ranks a global matrix's people are spread over (`GlobalMatrixBuild`): each builds
    /// its own people's rows. Every rank must call `build` for a global recommender.
    public var collective: any Collective = SingleRank()

    public init(definition: RecommenderDefinition, threads: Int = 1, collective: any Collective = SingleRank()) {
        self.definition = definition
        self.threads = max(1, threads)
        self.collective = collective
    }

    /// The matrices (one per workspace, or one global) and what each filter removed. A
    /// workspace left with no interactions after the thresholds gets no matrix but is counted.
    /// - Parameter part: build from the events where it is true only — the same matrices as
    ///   from `log.subset(part)`, without copying the log.
    public func build(_ log: EventLog, part: [Bool]? = nil) -> (matrices: [InteractionMatrix], usage: [MatrixUsage]) {
        let selected = selectEvents(log, part: part)
        switch definition.scope {
        case .workspace: return buildPerWorkspace(log, selected)
        case .global: return GlobalMatrixBuild(builder: self, collective: collective).build(log, selected)
        }
    }

    /// Events that carry weight for this recommender, with their item and weight.
    struct Selection {
        var events: [Int] = []
        var items: [Int32] = []
        var weights: [Float] = []
    }

    /// - Parameter part: the events to consider (all when nil).
    func selectEvents(_ log: EventLog, part: [Bool]? = nil) -> Selection {
        precondition(part.map { $0.count == log.count } ?? true, "one flag per event")
        var weightOf = [Float](repeating: 0, count: EventKind.allCases.count)
        for (kind, w) in definition.weights where w > 0 { weightOf[Int(kind.rawValue)] = w }
        let dropped = definition.target == .channel && definition.leaveRemovesMembership ? leftPairs(log, part: part) : []
        var s = Selection()
        s.events.reserveCapacity(log.count)
        s.items.reserveCapacity(log.count)
        s.weights.reserveCapacity(log.count)
        for i in 0..<log.count where part?[i] ?? true {
            let kind = log.kinds[i]
            let w = weightOf[Int(kind.rawValue)]
            guard w > 0 else { continue }
            let item = log.item(i, for: definition.target)
            if item < 0 { continue }
            if kind == .join && !dropped.isEmpty && dropped.contains(Self.pair(log.users[i], item)) { continue }
            s.events.append(i)
            s.items.append(item)
            s.weights.append(w)
        }
        return s
    }

    /// User–channel pairs whose latest membership event is a `leave` (a `leave` at the same
    /// second as a `join` wins).
    func leftPairs(_ log: EventLog, part: [Bool]? = nil) -> Set<UInt64> {
        var latest: [UInt64: (time: Int64, left: Bool)] = [:]
        for i in 0..<log.count where (log.kinds[i] == .join || log.kinds[i] == .leave) && part?[i] ?? true {
            let key = Self.pair(log.users[i], log.channels[i])
            let left = log.kinds[i] == .leave
            if let current = latest[key], current.time > log.timestamps[i] || (current.time == log.timestamps[i] && current.left) {
                continue
            }
            latest[key] = (log.timestamps[i], left)
        }
        return Set(latest.filter { $0.value.left }.keys)
    }

    @inline(__always)
    static func pair(_ a: Int32, _ b: Int32) -> UInt64 { UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b)) }

    private func buildPerWorkspace(_ log: EventLog, _ s: Selection) -> ([InteractionMatrix], [MatrixUsage]) {
        let workspaces = log.vocabulary.workspaces.count
        let buckets = {
            var buckets = [[Int]](repeating: [], count: workspaces)
            for (k, event) in s.events.enumerated() { buckets[Int(log.workspaces[event])].append(k) }
            return buckets
        }()
        // Workspaces in pseudonym order, so the output order does not depend on the input's;
        // each assembled on its own (in parallel), collected in that order.
        let order = (0..<workspaces).sorted { log.vocabulary.workspaces[$0] < log.vocabulary.workspaces[$1] }.filter { !buckets[$0].isEmpty }
        let built = Mutex([(MatrixUsage, InteractionMatrix?)?](repeating: nil, count: order.count))
        ParallelFor(threads: threads).forEach(chunks: order.count) { k in
            let picks = buckets[order[k]]
            let assembled = assemble(
                users: picks.map { log.users[s.events[$0]] }, items: picks.map { s.items[$0] },
                weights: picks.map { s.weights[$0] }, log: log)
            let pseudonym = log.vocabulary.workspaces[order[k]]
            let provenance = Provenance.of(picks.lazy.map { s.events[$0] }, in: log)!
            let result = (assembled.usage(definition, workspace: pseudonym, supportRemoved: 0),
                          assembled.matrix(definition, workspace: pseudonym, provenance: provenance))
            built.withLock { $0[k] = result }
        }
        let results = built.withLock { $0 }.map { $0! }
        return (results.compactMap(\.1), results.map(\.0))
    }

    /// Sums the weights per user–item pair, applies log scaling and the thresholds, and lays
    /// out rows and columns in id order.
    func assemble(users: [Int32], items: [Int32], weights: [Float], log: EventLog) -> Assembled {
        var (summed, userList, itemList) = summed(users: users, items: items, weights: weights)
        if definition.logScaling { summed = summed.compactMapValues { Float(log1p(Double($0))) } }
        let (keepUser, keepItem) = thresholds(summed)

        // Final layout: kept rows and columns sorted by id. Pseudonyms are fixed-length hex, so
        // their order is that of two integers, which sort without touching the strings.
        let userName = { (r: Int) in log.vocabulary.users[Int(userList[r])] }
        let itemName = { (c: Int) in log.itemName(Int(itemList[c]), for: self.definition.target) }
        let userOrder = (0..<summed.rows).filter { keepUser[$0] }
            .map { (HexOrder(userName($0)), $0) }.sorted { $0.0 < $1.0 }.map(\.1)
        let itemOrder: [Int]
        if definition.target.itemsArePseudonyms {
            itemOrder = (0..<summed.columns).filter { keepItem[$0] }.map { (HexOrder(itemName($0)), $0) }.sorted { $0.0 < $1.0 }.map(\.1)
        } else {
            itemOrder = (0..<summed.columns).filter { keepItem[$0] }.sorted { itemName($0) < itemName($1) }
        }
        let matrix = Self.reordered(summed, rows: userOrder, columns: itemOrder)
        return Assembled(
            matrix: matrix, userIDs: userOrder.map(userName), itemIDs: itemOrder.map(itemName),
            usersRemoved: summed.rows - userOrder.count, itemsRemoved: summed.columns - itemOrder.count,
            pairsRemoved: summed.nonZeros - matrix.nonZeros)
    }

    /// The weights summed per user–item pair, over local indices in first-seen order (the CSR
    /// constructor sums repeats in ascending order of value, so the sums do not depend on the
    /// order of the events), with the log indices of each row and column.
    func summed(users: [Int32], items: [Int32], weights: [Float]) -> (SparseMatrix, users: [Int32], items: [Int32]) {
        var userLocal = [Int32: Int32](), itemLocal = [Int32: Int32]()
        var userList: [Int32] = [], itemList: [Int32] = []
        var rows = [Int32](), columns = [Int32]()
        rows.reserveCapacity(users.count)
        columns.reserveCapacity(users.count)
        for k in users.indices {
            let u = users[k], i = items[k]
            if let r = userLocal[u] { rows.append(r) } else {
                userLocal[u] = Int32(userList.count); rows.append(Int32(userList.count)); userList.append(u)
            }
            if let c = itemLocal[i] { columns.append(c) } else {
                itemLocal[i] = Int32(itemList.count); columns.append(Int32(itemList.count)); itemList.append(i)
            }
        }
        let matrix = try! SparseMatrix(rows: userList.count, columns: itemList.count, rowIndices: rows, columnIndices: columns, values: weights)
        return (matrix, userList, itemList)
    }

    /// The rows and columns that meet the thresholds, applied until both hold (dropping a user
    /// can push an item under). With the rows spread over ranks (a global matrix's people), an
    /// item's users are counted over every rank's rows, and the ranks stop together.
    func thresholds(_ summed: SparseMatrix, collective: any Collective = SingleRank()) -> (users: [Bool], items: [Bool]) {
        var keepUser = [Bool](repeating: true, count: summed.rows)
        var keepItem = [Bool](repeating: true, count: summed.columns)
        while true {
            var userItems = [Int](repeating: 0, count: summed.rows), itemUsers = [Int](repeating: 0, count: summed.columns)
            for r in 0..<summed.rows where keepUser[r] {
                for c in summed.row(r).columns where keepItem[Int(c)] {
                    userItems[r] += 1
                    itemUsers[Int(c)] += 1
                }
            }
            itemUsers = collective.sum(itemUsers)
            var changed = false
            for r in 0..<summed.rows where keepUser[r] && userItems[r] < definition.minUserItems { keepUser[r] = false; changed = true }
            for c in 0..<summed.columns where keepItem[c] && itemUsers[c] < definition.minItemUsers { keepItem[c] = false; changed = true }
            if !collective.any(changed) { return (keepUser, keepItem) }
        }
    }

    /// `matrix` with only the given rows and columns, in the given orders.
    static func reordered(_ matrix: SparseMatrix, rows: [Int], columns: [Int]) -> SparseMatrix {
        var newColumn = [Int32](repeating: -1, count: matrix.columns)
        for (n, c) in columns.enumerated() { newColumn[c] = Int32(n) }
        var pointers = [0], outColumns = [Int32](), outValues = [Float]()
        var entries: [(Int32, Float)] = []
        for r in rows {
            entries.removeAll(keepingCapacity: true)
            let row = matrix.row(r)
            for (c, v) in zip(row.columns, row.values) where newColumn[Int(c)] >= 0 { entries.append((newColumn[Int(c)], v)) }
            entries.sort { $0.0 < $1.0 }
            for (c, v) in entries { outColumns.append(c); outValues.append(v) }
            pointers.append(outColumns.count)
        }
        return try! SparseMatrix(rows: rows.count, columns: columns.count, rowPointers: pointers, columnIndices: outColumns, values: outValues)
    }

    struct Assembled {
        let matrix: SparseMatrix
        let userIDs: [String]
        let itemIDs: [String]
        let usersRemoved: Int
        let itemsRemoved: Int
        let pairsRemoved: Int

        func matrix(_ d: RecommenderDefinition, workspace: String?, provenance: Provenance) -> InteractionMatrix? {
            guard matrix.nonZeros > 0 else { return nil }
            return InteractionMatrix(
                recommender: d.target, scope: d.scope, workspace: workspace, userIDs: userIDs, itemIDs: itemIDs,
                matrix: matrix, itemWorkspaceCounts: nil, itemUserCounts: nil, provenance: provenance)
        }

        func usage(_ d: RecommenderDefinition, workspace: String?, supportRemoved: Int) -> MatrixUsage {
            MatrixUsage(
                recommender: d.target, scope: d.scope, workspace: workspace, users: matrix.rows, items: matrix.columns,
                nonZeros: matrix.nonZeros, usersRemovedByThresholds: usersRemoved,
                itemsRemovedByThresholds: itemsRemoved, interactionsRemovedByThresholds: pairsRemoved,
                itemsRemovedBySupport: supportRemoved)
        }
    }
}

/// The sort order of a 32-digit lower-case hex pseudonym, as two integers.
struct HexOrder: Comparable {
    let high: UInt64
    let low: UInt64

    init(_ hex: String) {
        var h: UInt64 = 0, l: UInt64 = 0
        for (i, c) in hex.utf8.prefix(32).enumerated() {
            let digit = UInt64(c <= 0x39 ? c &- 0x30 : c &- 0x57)
            if i < 16 { h = h << 4 | digit } else { l = l << 4 | digit }
        }
        high = h
        low = l
    }

    static func < (a: HexOrder, b: HexOrder) -> Bool { (a.high, a.low) < (b.high, b.low) }
}
