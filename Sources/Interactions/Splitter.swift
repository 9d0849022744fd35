import Cluster
import Foundation
import Ingest
import Linalg
import Platform
import Synchronization

/// How events are split into training and held-out test data. Applied after the consent and
/// privacy filters, so test data is consenting data too.
///
/// Which event of a matrix is held out depends only on that matrix's own events and on
/// pseudonymous ids — never on another workspace's events or on the order the log numbered
/// ids in. The nightly's full model starts from the held-out model's factors, so the split
/// shapes a published model, and a model may be shaped only by the workspaces its provenance
/// names (an opt-out must reach it).
public enum SplitStrategy: Sendable, Hashable, CustomStringConvertible {
    /// Events at or after the cutoff are test data. The default, `.temporal(.lastFraction(0.2))`,
    /// holds out the last 20% of the time span — of each workspace's own events for a
    /// per-workspace recommender, of every selected event for a global one: random splits leak
    /// the future.
    case temporal(Cutoff)
    /// Each user's last `n` items (by the time of their latest event) are test data.
    case leaveLast(Int)
    /// A seeded random `fraction` of each user's items is test data (users keep at least one
    /// training item).
    case random(fraction: Double, seed: UInt64)

    public enum Cutoff: Sendable, Hashable {
        case lastFraction(Double)
        case time(Int64)
    }

    /// Parses `temporal:0.2`, `temporal:2026-11-15T00:00:00Z`, `leave-last:1`, `random:0.2`.
    public static func parse(_ text: String, seed: UInt64) -> SplitStrategy? {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return nil }
        switch parts[0] {
        case "temporal":
            // A number is a fraction of the time span, never Unix seconds: `temporal:0` or
            // `temporal:1` is a mistake, not a cutoff in 1970.
            if let f = Double(parts[1]) { return f > 0 && f < 1 ? .temporal(.lastFraction(f)) : nil }
            if Int64(parts[1]) == nil, let t = Timestamp.parse(parts[1]) { return .temporal(.time(t)) }
        case "leave-last":
            if let n = Int(parts[1]), n >= 1 { return .leaveLast(n) }
        case "random":
            if let f = Double(parts[1]), f > 0, f < 1 { return .random(fraction: f, seed: seed) }
        default: break
        }
        return nil
    }

    public var description: String {
        switch self {
        case .temporal(.lastFraction(let f)): "temporal: the last \(Int((f * 100).rounded()))% of the time span held out"
        case .temporal(.time(let t)): "temporal: events from \(Timestamp.format(t)) held out"
        case .leaveLast(let n): "leave-last: each user's last \(n) item\(n == 1 ? "" : "s") held out"
        case .random(let f, let seed): "random: \(Int((f * 100).rounded()))% of each user's items held out (seed \(seed))"
        }
    }

    /// The split as it applies to `log` for a global recommender: a fraction of the time span
    /// becomes the cutoff time it means over the recommender's selected events (exactly the
    /// events its provenance covers). Resolve it once on the whole log and split any part of the log with
    /// the result: each part is then split exactly as it is inside the whole. Every other
    /// split — and any split of a per-workspace recommender, whose cutoffs are each
    /// workspace's own — is already independent of the rest of the log and is returned as is.
    /// In a distributed run, `log` is a rank's part and every rank calls this: the cutoff is
    /// the whole run's (`cutoff(_:fraction:collective:)`).
    public func resolved(for log: EventLog, definition: RecommenderDefinition, collective: any Collective = SingleRank()) -> SplitStrategy {
        guard case .temporal(.lastFraction(let f)) = self, definition.scope == .global else { return self }
        let times = InteractionMatrixBuilder(definition: definition).selectEvents(log).events.map { log.timestamps[$0] }
        return Self.cutoff(times, fraction: f, collective: collective).map { .temporal(.time($0)) } ?? self
    }

    /// Splits the events for one recommender: true = test. Every rank calls it for a global
    /// recommender in a distributed run.
    public func testMask(_ log: EventLog, definition: RecommenderDefinition, collective: any Collective = SingleRank()) -> [Bool] {
        switch resolved(for: log, definition: definition, collective: collective) {
        case .temporal(.time(let time)):
            return log.timestamps.map { $0 >= time }
        case .temporal(.lastFraction(let f)):
            // Global: no selected event to split. Per workspace: each workspace's own cutoff.
            guard definition.scope == .workspace else { return [Bool](repeating: false, count: log.count) }
            return perWorkspaceTemporal(log, definition, fraction: f)
        case .leaveLast, .random:
            return pairSplit(log, definition)
        }
    }

    /// The cutoff of `temporal:F` over `times`: the last fraction `F` of the span from the first
    /// percentile (at least the second oldest of three or more) to the newest, not from the
    /// oldest, so that one stray old event cannot stretch the span until no event is left to
    /// test on. Exact, so it does not depend on the order of `times`. Nil for no times.
    static func cutoff(_ times: [Int64], fraction: Double) -> Int64? {
        guard let last = times.max() else { return nil }
        var times = times
        let first = Self.select(&times, rank: times.count >= 3 ? max(1, times.count / 100) : 0)
        return last - Int64((Double(last - first) * fraction).rounded())
    }

    /// `cutoff(_:fraction:)` over every rank's `times`: the same time, found by bisecting the
    /// time range with counts summed across the ranks (at most 64 rounds) instead of gathering
    /// the times.
    static func cutoff(_ times: [Int64], fraction: Double, collective: any Collective) -> Int64? {
        guard collective.size > 1 else { return cutoff(times, fraction: fraction) }
        let count = collective.sum([times.count])[0]
        guard count > 0 else { return nil }
        let extremes = collective.gather(Self.wire([times.min() ?? .max, times.max() ?? .min])).map(Self.pair)
        var low = extremes.map(\.0).min()!, high = extremes.map(\.1).max()!
        let last = high
        let rank = count >= 3 ? max(1, count / 100) : 0
        // The smallest time with more than `rank` times at or before it.
        while low < high {
            let mid = low + Int64(bitPattern: UInt64(bitPattern: high &- low) / 2)
            if collective.sum([times.count { $0 <= mid }])[0] > rank { high = mid } else { low = mid + 1 }
        }
        return last - Int64((Double(last - low) * fraction).rounded())
    }

    private static func wire(_ values: [Int64]) -> [UInt8] { values.withUnsafeBytes { Array($0) } }
    private static func pair(_ bytes: [UInt8]) -> (Int64, Int64) {
        bytes.withUnsafeBytes { ($0.loadUnaligned(fromByteOffset: 0, as: Int64.self), $0.loadUnaligned(fromByteOffset: 8, as: Int64.self)) }
    }

    /// The element of rank `rank` (0-based) in sorted order, by quickselect with a three-way
    /// partition (many equal times cost nothing) and seeded pivots: expected linear time on
    /// any input, and the answer does not depend on the pivots.
    static func select(_ values: inout [Int64], rank: Int) -> Int64 {
        var low = 0, high = values.count
        var rng = SeededGenerator(seed: 0x5EED)
        while true {
            let pivot = values[low + rng.nextIndex(below: high - low)]
            var less = low, equal = low, greater = high
            while equal < greater {
                if values[equal] < pivot { values.swapAt(less, equal); less += 1; equal += 1 }
                else if values[equal] > pivot { greater -= 1; values.swapAt(equal, greater) }
                else { equal += 1 }
            }
            if rank < less { high = less } else if rank >= greater { low = greater } else { return pivot }
        }
    }

    /// `temporal:F` per workspace: each workspace's cutoff from its own selected events (the
    /// events its model's provenance covers), applied to its events.
    private func perWorkspaceTemporal(_ log: EventLog, _ definition: RecommenderDefinition, fraction: Double) -> [Bool] {
        var times = [[Int64]](repeating: [], count: log.vocabulary.workspaces.count)
        for i in InteractionMatrixBuilder(definition: definition).selectEvents(log).events { times[Int(log.workspaces[i])].append(log.timestamps[i]) }
        let cutoffs = times.map { Self.cutoff($0, fraction: fraction) ?? Int64.max }
        return (0..<log.count).map { log.timestamps[$0] >= cutoffs[Int(log.workspaces[$0])] }
    }

    /// Per-user splits decide per user–item pair; every event of a test pair is test data. A
    /// channel the user left (when leaves remove membership) is never held out: it is not
    /// something to recommend to them, so it stays in training, where its join is dropped.
    private func pairSplit(_ log: EventLog, _ definition: RecommenderDefinition) -> [Bool] {
        let items = log.items(for: definition.target, weights: definition.weights)
        let builder = InteractionMatrixBuilder(definition: definition)
        let left = definition.target == .channel && definition.leaveRemovesMembership ? builder.leftPairs(log) : []
        var latest: [Int32: [Int32: Int64]] = [:]  // user → item → time of latest event
        for i in 0..<log.count where items[i] >= 0 && !left.contains(InteractionMatrixBuilder.pair(log.users[i], items[i])) {
            let t = log.timestamps[i]
            latest[log.users[i], default: [:]][items[i]] = max(latest[log.users[i]]?[items[i]] ?? Int64.min, t)
        }
        // Ties and orders go by pseudonymous id, never by the log's numbering of ids (which
        // depends on every other workspace's rows).
        let itemIDs = definition.target == .channel ? log.vocabulary.channels : log.vocabulary.emoji
        var test = Set<UInt64>()
        for user in latest.keys.sorted() {
            let pairs = latest[user]!.sorted { ($0.value, itemIDs[Int($0.key)]) > ($1.value, itemIDs[Int($1.key)]) }  // newest first
            guard pairs.count >= 2 else { continue }
            let held: [Int32]
            switch self {
            case .leaveLast(let n):
                held = pairs.prefix(min(n, pairs.count - 1)).map(\.key)
            case .random(let fraction, let seed):
                var rng = SeededGenerator(seed: seed &+ Self.stableHash(log.vocabulary.users[Int(user)]) &* 0x9E37_79B9_7F4A_7C15)
                var order = pairs.map(\.key).sorted { itemIDs[Int($0)] < itemIDs[Int($1)] }
                for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, rng.nextIndex(below: i + 1)) }
                let count = min(pairs.count - 1, Int((Double(pairs.count) * fraction).rounded()))
                held = Array(order.prefix(count))
            case .temporal:
                held = []
            }
            for item in held { test.insert(UInt64(UInt32(bitPattern: user)) << 32 | UInt64(UInt32(bitPattern: item))) }
        }
        return (0..<log.count).map { i in
            items[i] >= 0 && test.contains(UInt64(UInt32(bitPattern: log.users[i])) << 32 | UInt64(UInt32(bitPattern: items[i])))
        }
    }

    /// FNV-1a of the UTF-8 bytes: the same number for the same id on every machine and run.
    static func stableHash(_ id: String) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in id.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return hash
    }
}

/// Held-out interactions laid onto a training matrix's rows and columns.
public struct HeldOut: Sendable, Equatable {
    /// Same shape as the training matrix.
    public let test: SparseMatrix
    /// Test interactions whose user, item or both are unknown in training (cold start): counted,
    /// not evaluated.
    public let coldStartUsers: Int
    public let coldStartItems: Int
    public let coldStartInteractions: Int
    /// Test pairs the user already had in training (a temporal split can hold out a repeat):
    /// not evaluated, since a ranking leaves out known items.
    public let repeatedInteractions: Int

    /// Aligns `test` (built from the held-out events, without thresholds) onto `train`.
    public static func align(_ test: InteractionMatrix?, onto train: InteractionMatrix) -> HeldOut {
        guard let test else {
            return HeldOut(test: try! SparseMatrix(rows: train.matrix.rows, columns: train.matrix.columns,
                                                   rowPointers: [Int](repeating: 0, count: train.matrix.rows + 1), columnIndices: [], values: []),
                           coldStartUsers: 0, coldStartItems: 0, coldStartInteractions: 0, repeatedInteractions: 0)
        }
        let row = Dictionary(uniqueKeysWithValues: train.userIDs.enumerated().map { ($1, Int32($0)) })
        let column = Dictionary(uniqueKeysWithValues: train.itemIDs.enumerated().map { ($1, Int32($0)) })
        var r = [Int32](), c = [Int32](), v = [Float]()
        var coldUsers = Set<String>(), coldItems = Set<String>(), cold = 0, repeated = 0
        for u in 0..<test.matrix.rows {
            let user = test.userIDs[u]
            for (i, value) in zip(test.matrix.row(u).columns, test.matrix.row(u).values) {
                let item = test.itemIDs[Int(i)]
                guard let tr = row[user], let tc = column[item] else {
                    if row[user] == nil { coldUsers.insert(user) }
                    if column[item] == nil { coldItems.insert(item) }
                    cold += 1
                    continue
                }
                if train.matrix.row(Int(tr)).columns.contains(tc) { repeated += 1; continue }
                r.append(tr); c.append(tc); v.append(value)
            }
        }
        let matrix = try! SparseMatrix(rows: train.matrix.rows, columns: train.matrix.columns, rowIndices: r, columnIndices: c, values: v)
        return HeldOut(test: matrix, coldStartUsers: coldUsers.count, coldStartItems: coldItems.count,
                       coldStartInteractions: cold, repeatedInteractions: repeated)
    }
}

/// Training matrices and their held-out data for one recommender.
public enum HeldOutSplit {
    /// Splits `log` (or takes the pre-split `test` log), builds the training matrices with the
    /// recommender's thresholds and the held-out ones without, and lays each held-out matrix
    /// onto its training matrix. The nightly job and `evaluate` both use this, so they judge
    /// models on the same data.
    public static func make(
        _ log: EventLog, test: EventLog? = nil, definition: RecommenderDefinition, split: SplitStrategy, threads: Int = 1,
        collective: any Collective = SingleRank()
    ) -> (pairs: [(train: InteractionMatrix, held: HeldOut)], usage: [MatrixUsage]) {
        // Each part built from the log it is in, through a mask: no copy of the log.
        let (trainLog, heldLog): (EventLog, EventLog)
        let (trainPart, heldPart): ([Bool]?, [Bool]?)
        if let test {
            (trainLog, heldLog, trainPart, heldPart) = (log, test, nil, nil)
        } else {
            let mask = split.testMask(log, definition: definition, collective: collective)
            (trainLog, heldLog, trainPart, heldPart) = (log, log, mask.map { !$0 }, mask)
        }
        let (trainMatrices, usage) = InteractionMatrixBuilder(definition: definition, threads: threads, collective: collective).build(trainLog, part: trainPart)
        var open = definition
        open.minUserItems = 1; open.minItemUsers = 1; open.minEmojiWorkspaces = 1; open.minEmojiUsers = 1
        let held = InteractionMatrixBuilder(definition: open, threads: threads, collective: collective).build(heldLog, part: heldPart).matrices
        let heldByKey = Dictionary(held.map { ($0.workspace ?? "", $0) }) { a, _ in a }
        let aligned = Mutex([HeldOut?](repeating: nil, count: trainMatrices.count))
        ParallelFor(threads: threads).forEach(chunks: trainMatrices.count) { k in
            let result = HeldOut.align(heldByKey[trainMatrices[k].workspace ?? ""], onto: trainMatrices[k])
            aligned.withLock { $0[k] = result }
        }
        return (zip(trainMatrices, aligned.withLock { $0 }.map { $0! }).map { ($0, $1) }, usage)
    }
}
