import Foundation
import Linalg

/// Builds a recommender's training matrices from an `EventLog`.
public struct InteractionMatrixBuilder: Sendable {
    public let definition: RecommenderDefinition

    public init(definition: RecommenderDefinition) { self.definition = definition }

    /// The matrices (one per workspace, or one global) and what each filter removed. A
    /// workspace left with no interactions after the thresholds gets no matrix but is counted.
    public func build(_ log: EventLog) -> (matrices: [InteractionMatrix], usage: [DataUsage.MatrixUsage]) {
        let selected = selectEvents(log)
        switch definition.scope {
        case .workspace: return buildPerWorkspace(log, selected)
        case .global: return buildGlobal(log, selected)
        }
    }

    /// Events that carry weight for this recommender, with their item and weight.
    struct Selection {
        var events: [Int] = []
        var items: [Int32] = []
        var weights: [Float] = []
    }

    func selectEvents(_ log: EventLog) -> Selection {
        var weightOf = [Float](repeating: 0, count: EventKind.allCases.count)
        for (kind, w) in definition.weights where w > 0 { weightOf[Int(kind.rawValue)] = w }
        let dropped = definition.target == .channel && definition.leaveRemovesMembership ? leftPairs(log) : []
        var s = Selection()
        for i in 0..<log.count {
            let kind = log.kinds[i]
            let w = weightOf[Int(kind.rawValue)]
            guard w > 0 else { continue }
            let item: Int32
            switch definition.target {
            case .channel:
                item = log.channels[i]
                if kind == .join && !dropped.isEmpty && dropped.contains(Self.pair(log.users[i], item)) { continue }
            case .emoji:
                item = log.emoji[i]
                if item < 0 { continue }
            }
            s.events.append(i)
            s.items.append(item)
            s.weights.append(w)
        }
        return s
    }

    /// User–channel pairs whose latest membership event is a `leave` (a `leave` at the same
    /// second as a `join` wins).
    func leftPairs(_ log: EventLog) -> Set<UInt64> {
        var latest: [UInt64: (time: Int64, left: Bool)] = [:]
        for i in 0..<log.count where log.kinds[i] == .join || log.kinds[i] == .leave {
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

    private func buildPerWorkspace(_ log: EventLog, _ s: Selection) -> ([InteractionMatrix], [DataUsage.MatrixUsage]) {
        let workspaces = log.vocabulary.workspaces.count
        var buckets = [[Int]](repeating: [], count: workspaces)
        for (k, event) in s.events.enumerated() { buckets[Int(log.workspaces[event])].append(k) }
        var matrices: [InteractionMatrix] = []
        var usage: [DataUsage.MatrixUsage] = []
        // Workspaces in pseudonym order, so the output order does not depend on the input's.
        let order = (0..<workspaces).sorted { log.vocabulary.workspaces[$0] < log.vocabulary.workspaces[$1] }
        for w in order where !buckets[w].isEmpty {
            let picks = buckets[w]
            let assembled = assemble(
                users: picks.map { log.users[s.events[$0]] }, items: picks.map { s.items[$0] },
                weights: picks.map { s.weights[$0] }, log: log)
            let pseudonym = log.vocabulary.workspaces[w]
            usage.append(assembled.usage(definition, workspace: pseudonym, supportRemoved: 0))
            if let matrix = assembled.matrix(definition, workspace: pseudonym) { matrices.append(matrix) }
        }
        return (matrices, usage)
    }

    private func buildGlobal(_ log: EventLog, _ s: Selection) -> ([InteractionMatrix], [DataUsage.MatrixUsage]) {
        // Support per item: distinct workspaces and distinct users.
        var workspacePairs = Set<UInt64>(), userPairs = Set<UInt64>()
        for (k, event) in s.events.enumerated() {
            workspacePairs.insert(Self.pair(s.items[k], log.workspaces[event]))
            userPairs.insert(Self.pair(s.items[k], log.users[event]))
        }
        var workspaceCount = [Int: Int](), userCount = [Int: Int]()
        for p in workspacePairs { workspaceCount[Int(p >> 32), default: 0] += 1 }
        for p in userPairs { userCount[Int(p >> 32), default: 0] += 1 }
        let candidates = Set(s.items.map(Int.init))
        let admitted = candidates.filter {
            workspaceCount[$0, default: 0] >= definition.minEmojiWorkspaces && userCount[$0, default: 0] >= definition.minEmojiUsers
        }
        let picks = s.events.indices.filter { admitted.contains(Int(s.items[$0])) }
        let assembled = assemble(
            users: picks.map { log.users[s.events[$0]] }, items: picks.map { s.items[$0] },
            weights: picks.map { s.weights[$0] }, log: log)
        let usage = assembled.usage(definition, workspace: nil, supportRemoved: candidates.count - admitted.count)
        guard let base = assembled.matrix(definition, workspace: nil) else { return ([], [usage]) }
        let indexOf = Dictionary(uniqueKeysWithValues: log.vocabulary.emoji.enumerated().map { ($1, $0) })
        let matrix = InteractionMatrix(
            recommender: base.recommender, scope: .global, workspace: nil, userIDs: base.userIDs,
            itemIDs: base.itemIDs, matrix: base.matrix,
            itemWorkspaceCounts: base.itemIDs.map { workspaceCount[indexOf[$0]!, default: 0] },
            itemUserCounts: base.itemIDs.map { userCount[indexOf[$0]!, default: 0] })
        return ([matrix], [usage])
    }

    /// Sums the weights per user–item pair, applies log scaling and the thresholds, and lays
    /// out rows and columns in id order.
    func assemble(users: [Int32], items: [Int32], weights: [Float], log: EventLog) -> Assembled {
        // Sum per pair in event order (a stable sort keeps the additions in a fixed order).
        let order = users.indices.sorted { (Self.pair(users[$0], items[$0]), $0) < (Self.pair(users[$1], items[$1]), $1) }
        var pairUser: [Int32] = [], pairItem: [Int32] = [], pairValue: [Float] = []
        for k in order {
            if let last = pairUser.last, last == users[k], pairItem.last == items[k] {
                pairValue[pairValue.count - 1] += weights[k]
            } else {
                pairUser.append(users[k]); pairItem.append(items[k]); pairValue.append(weights[k])
            }
        }
        if definition.logScaling { pairValue = pairValue.map { Float(log1p(Double($0))) } }
        let usersBefore = Set(pairUser).count, itemsBefore = Set(pairItem).count, pairsBefore = pairUser.count

        // Thresholds, repeated until both hold (dropping a user can push an item under).
        var keep = [Bool](repeating: true, count: pairUser.count)
        while true {
            var userItems: [Int32: Int] = [:], itemUsers: [Int32: Int] = [:]
            for k in keep.indices where keep[k] {
                userItems[pairUser[k], default: 0] += 1
                itemUsers[pairItem[k], default: 0] += 1
            }
            var changed = false
            for k in keep.indices where keep[k] {
                if userItems[pairUser[k]]! < definition.minUserItems || itemUsers[pairItem[k]]! < definition.minItemUsers {
                    keep[k] = false
                    changed = true
                }
            }
            if !changed { break }
        }
        let kept = keep.indices.filter { keep[$0] }
        let userList = Array(Set(kept.map { pairUser[$0] }))
        let itemList = Array(Set(kept.map { pairItem[$0] }))
        let userNames = userList.map { log.vocabulary.users[Int($0)] }
        let itemNames: [String] = itemList.map {
            definition.target == .channel ? log.vocabulary.channels[Int($0)] : log.vocabulary.emoji[Int($0)]
        }
        let userOrder = userList.indices.sorted { userNames[$0] < userNames[$1] }
        let itemOrder = itemList.indices.sorted { itemNames[$0] < itemNames[$1] }
        var row = [Int32: Int32](), column = [Int32: Int32]()
        for (r, i) in userOrder.enumerated() { row[userList[i]] = Int32(r) }
        for (c, i) in itemOrder.enumerated() { column[itemList[i]] = Int32(c) }
        // Every index is in range and every value finite, so this cannot fail.
        let matrix = try! SparseMatrix(
            rows: userList.count, columns: itemList.count, rowIndices: kept.map { row[pairUser[$0]]! },
            columnIndices: kept.map { column[pairItem[$0]]! }, values: kept.map { pairValue[$0] })
        return Assembled(
            matrix: matrix, userIDs: userOrder.map { userNames[$0] }, itemIDs: itemOrder.map { itemNames[$0] },
            usersRemoved: usersBefore - userList.count, itemsRemoved: itemsBefore - itemList.count,
            pairsRemoved: pairsBefore - kept.count)
    }

    struct Assembled {
        let matrix: SparseMatrix
        let userIDs: [String]
        let itemIDs: [String]
        let usersRemoved: Int
        let itemsRemoved: Int
        let pairsRemoved: Int

        func matrix(_ d: RecommenderDefinition, workspace: String?) -> InteractionMatrix? {
            guard matrix.nonZeros > 0 else { return nil }
            return InteractionMatrix(
                recommender: d.target, scope: d.scope, workspace: workspace, userIDs: userIDs, itemIDs: itemIDs,
                matrix: matrix, itemWorkspaceCounts: nil, itemUserCounts: nil)
        }

        func usage(_ d: RecommenderDefinition, workspace: String?, supportRemoved: Int) -> DataUsage.MatrixUsage {
            DataUsage.MatrixUsage(
                recommender: d.target, scope: d.scope, workspace: workspace, users: matrix.rows, items: matrix.columns,
                nonZeros: matrix.nonZeros, usersRemovedByThresholds: usersRemoved,
                itemsRemovedByThresholds: itemsRemoved, interactionsRemovedByThresholds: pairsRemoved,
                itemsRemovedBySupport: supportRemoved)
        }
    }
}
