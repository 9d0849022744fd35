import Consent
import Foundation
import Ingest
import Linalg
import Privacy

/// The matrices of a private global model (`PrivacyPlan`): people split into a training and a
/// held-out group, each training person's contribution bounded, and the vocabulary chosen by
/// DP partition selection.
///
/// Every step that touches one person's data depends on that person's data, the key and the
/// noisy counts alone — never on another person's data — which is what lets the noise be
/// scaled to one person's bounded contribution:
///
/// 1. **Groups**: a keyed hash of the person's pseudonym puts `heldOutPeople` of them in the
///    held-out group (the key and seed alone decide; the data does not).
/// 2. **Vocabulary**: each training person's distinct emoji, a uniform sample of at most
///    `maxItemsPerUser`, count once towards the emoji's users and their workspace towards its
///    workspaces. Gaussian noise on both counts (`vocabulary_counts`); an emoji is admitted when
///    its bounded counts meet k and m (the hard rule) *and* its noisy counts reach `k + τ` and
///    `m + τ` (τ = `selectionMargin`). Only the noisy counts are published.
/// 3. **Contributions**: each training person's admitted emoji, at most `maxItemsPerUser`
///    (uniform, or least popular first by the noisy counts), each weight capped at `maxWeight`.
/// 4. **Held-out people**: their own events, split per person into a fold-in part and a test
///    part (`random:F` or `leave-last:N`), over any columns the caller asks for.
public struct PrivateMatrixBuilder: Sendable {
    public let definition: RecommenderDefinition
    public let plan: PrivacyPlan
    /// The groups' key: the operator's secret and the seed, never the data.
    public let groups: NoiseSource
    /// This release's noise (the data's digest included).
    public let noise: NoiseSource
    public let split: SplitStrategy

    public init(definition: RecommenderDefinition, plan: PrivacyPlan, groups: NoiseSource, noise: NoiseSource, split: SplitStrategy) {
        precondition(definition.scope == .global)
        self.definition = definition
        self.plan = plan
        self.groups = groups
        self.noise = noise
        self.split = split
    }

    /// What the builder made.
    public struct Result: Sendable {
        /// Training people × the private vocabulary, bounded; nil when no emoji was admitted or
        /// no training person kept an interaction. Its support counts are the noisy ones.
        public let training: InteractionMatrix?
        /// The private vocabulary, sorted, and each emoji's noisy user count (its popularity).
        public let vocabulary: [String]
        public let noisyUsers: [Double]
        /// Held-out people's events: fold-in and test parts (indices into the log).
        public let heldOutFoldIn: [Int]
        public let heldOutTest: [Int]
        /// Training people's selected events (all of them, before bounding).
        public let trainingEvents: [Int]
        public let usage: MatrixUsage
        public let report: PrivacyUsage
    }

    /// Counts of what privacy removed, for the report.
    public struct PrivacyUsage: Sendable, Equatable {
        public var trainingPeople = 0, heldOutPeople = 0
        public var candidates = 0, admitted = 0
        /// Person–emoji pairs left out by the bound on items per person, in the vocabulary
        /// sample and in training.
        public var pairsBoundedOut = 0
        /// Training pairs whose weight was capped at `maxWeight`.
        public var weightsCapped = 0
    }

    /// - Parameter window: the span the run may read (retention window start to `as_of`): the
    ///   training matrix's provenance gives it instead of the exact oldest and newest events,
    ///   which are one person's each.
    public func build(_ log: EventLog, window: ClosedRange<Int64>) -> Result {
        let s = InteractionMatrixBuilder(definition: definition).selectEvents(log)
        // Each person's selected events, people in pseudonym order.
        var byUser: [Int32: [Int]] = [:]
        for k in s.events.indices { byUser[log.users[s.events[k]], default: []].append(k) }
        let people = byUser.keys.sorted { HexOrder(log.vocabulary.users[Int($0)]) < HexOrder(log.vocabulary.users[Int($1)]) }
        let heldOutBits = UInt64((plan.parameters.heldOutPeople * 0x1p64).rounded(.down))
        var training: [Int32] = [], heldOut: [Int32] = []
        for p in people {
            if groups.bits("person " + log.vocabulary.users[Int(p)]) < heldOutBits { heldOut.append(p) } else { training.append(p) }
        }
        var report = PrivacyUsage(trainingPeople: training.count, heldOutPeople: heldOut.count)
        let itemName = { (item: Int32) in log.itemName(Int(item), for: self.definition.target) }

        // Vocabulary: bounded counts, noise, the hard and the noisy rule.
        var users: [Int32: Int] = [:], workspaces: [Int32: Set<Int32>] = [:]
        for p in training {
            let items = distinctItems(byUser[p]!, s)
            let kept = sample(items, max: plan.parameters.maxItemsPerUser, label: "vocabulary " + log.vocabulary.users[Int(p)])
            report.pairsBoundedOut += items.count - kept.count
            let workspace = log.workspaces[s.events[byUser[p]![0]]]
            for item in kept {
                users[item, default: 0] += 1
                workspaces[item, default: []].insert(workspace)
            }
        }
        report.candidates = users.count
        let scale = plan.training.mechanism("vocabulary_counts").noiseScale, tau = plan.selectionMargin
        let k = Double(definition.minEmojiWorkspaces), m = Double(definition.minEmojiUsers)
        var admitted: [(name: String, item: Int32, users: Double, workspaces: Double)] = []
        for item in users.keys.sorted(by: { itemName($0) < itemName($1) }) {
            var stream = noise.stream("vocabulary " + itemName(item))
            let u = Double(users[item]!), w = Double(workspaces[item]!.count)
            let noisyUsers = u + scale * stream.gaussian(), noisyWorkspaces = w + scale * stream.gaussian()
            if u >= m, w >= k, noisyUsers >= m + tau, noisyWorkspaces >= k + tau {
                admitted.append((itemName(item), item, noisyUsers, noisyWorkspaces))
            }
        }
        report.admitted = admitted.count

        // Contributions of the training people over the admitted emoji.
        let column = Dictionary(uniqueKeysWithValues: admitted.enumerated().map { ($1.item, Int32($0)) })
        let popularity = admitted.map(\.users)
        var rows: [Int32] = [], columns: [Int32] = [], values: [Float] = [], rowIDs: [String] = []
        var trainingEvents: [Int] = []
        // The largest Float at most max_weight: a cap that rounds up would exceed the sensitivity.
        var cap = Float(plan.parameters.maxWeight)
        if Double(cap) > plan.parameters.maxWeight { cap = cap.nextDown }
        for p in training {
            trainingEvents += byUser[p]!.map { s.events[$0] }
            var weights = summedWeights(byUser[p]!, s, columns: column)
            let ordered = order(weights.keys.sorted(), popularity: popularity, label: "training " + log.vocabulary.users[Int(p)])
            let kept = Array(ordered.prefix(plan.parameters.maxItemsPerUser))
            report.pairsBoundedOut += ordered.count - kept.count
            guard kept.count >= max(1, definition.minUserItems) else { continue }
            let row = Int32(rowIDs.count)
            rowIDs.append(log.vocabulary.users[Int(p)])
            for c in kept.sorted() {
                var w = weights.removeValue(forKey: c)!
                if w > cap { w = cap; report.weightsCapped += 1 }
                rows.append(row); columns.append(c); values.append(w)
            }
        }
        let matrix = try! SparseMatrix(rows: rowIDs.count, columns: admitted.count, rowIndices: rows, columnIndices: columns, values: values)
        let (foldIn, test) = heldOutParts(heldOut.map { byUser[$0]! }, s, log: log)
        let provenance = Provenance.of(s.events, in: log).map {
            Provenance(workspaces: $0.workspaces, oldestEvent: window.lowerBound, newestEvent: window.upperBound)
        }
        // A vocabulary admitted is a model published, even if no training person kept an emoji
        // (its factors are then noise): whether to publish never rests on exact counts.
        let trainingMatrix = admitted.isEmpty || provenance == nil ? nil : InteractionMatrix(
            recommender: definition.target, scope: .global, workspace: nil, userIDs: rowIDs, itemIDs: admitted.map(\.name),
            matrix: matrix, itemWorkspaceCounts: admitted.map { Int($0.workspaces.rounded()) },
            itemUserCounts: admitted.map { Int($0.users.rounded()) }, provenance: provenance!)
        let usage = MatrixUsage(
            recommender: definition.target, scope: .global, workspace: nil, users: matrix.rows, items: matrix.columns,
            nonZeros: matrix.nonZeros, usersRemovedByThresholds: training.count - rowIDs.count, itemsRemovedByThresholds: 0,
            interactionsRemovedByThresholds: 0, itemsRemovedBySupport: report.candidates - report.admitted)
        return Result(training: trainingMatrix, vocabulary: admitted.map(\.name), noisyUsers: popularity,
                      heldOutFoldIn: foldIn, heldOutTest: test, trainingEvents: trainingEvents, usage: usage, report: report)
    }

    /// Held-out people × `vocabulary`: the fold-in part's weights (summed, log-scaled) and the
    /// test part's items (weight 1), for the people with at least one test item in the
    /// vocabulary, in pseudonym order.
    public func heldOutMatrices(_ log: EventLog, foldIn: [Int], test: [Int], vocabulary: [String])
        -> (userIDs: [String], foldIn: SparseMatrix, test: SparseMatrix)
    {
        let column = Dictionary(uniqueKeysWithValues: vocabulary.enumerated().map { ($1, Int32($0)) })
        let weightOf = Dictionary(definition.weights.map { ($0.key, $0.value) }) { a, _ in a }
        func name(_ i: Int) -> String { log.itemName(Int(log.item(i, for: definition.target)), for: definition.target) }
        var tested: [Int32: Set<Int32>] = [:]
        for i in test { if let c = column[name(i)] { tested[log.users[i], default: []].insert(c) } }
        let people = tested.keys.sorted { HexOrder(log.vocabulary.users[Int($0)]) < HexOrder(log.vocabulary.users[Int($1)]) }
        let row = Dictionary(uniqueKeysWithValues: people.enumerated().map { ($1, Int32($0)) })
        var sums: [UInt64: [Float]] = [:]
        for i in foldIn {
            guard let r = row[log.users[i]], let c = column[name(i)], let w = weightOf[log.kinds[i]], w > 0 else { continue }
            sums[InteractionMatrixBuilder.pair(r, c), default: []].append(w)
        }
        var fr: [Int32] = [], fc: [Int32] = [], fv: [Float] = []
        for (key, parts) in sums {
            let total = parts.sorted().reduce(0, +)
            fr.append(Int32(key >> 32)); fc.append(Int32(truncatingIfNeeded: key & 0xFFFF_FFFF))
            fv.append(definition.logScaling ? Float(log1p(Double(total))) : total)
        }
        var tr: [Int32] = [], tc: [Int32] = []
        for p in people { for c in tested[p]!.sorted() { tr.append(row[p]!); tc.append(c) } }
        let foldInMatrix = try! SparseMatrix(rows: people.count, columns: vocabulary.count, rowIndices: fr, columnIndices: fc, values: fv)
        let testMatrix = try! SparseMatrix(rows: people.count, columns: vocabulary.count, rowIndices: tr, columnIndices: tc,
                                           values: [Float](repeating: 1, count: tr.count))
        return (people.map { log.vocabulary.users[Int($0)] }, foldInMatrix, testMatrix)
    }

    /// A person's distinct items, in item order.
    func distinctItems(_ picks: [Int], _ s: InteractionMatrixBuilder.Selection) -> [Int32] {
        Array(Set(picks.map { s.items[$0] })).sorted()
    }

    /// At most `max` of `items`, a uniform sample seeded by the person's label and the key.
    func sample(_ items: [Int32], max: Int, label: String) -> [Int32] {
        guard items.count > max else { return items }
        var generator = SeededGenerator(seed: noise.bits(label))
        var pool = items
        for i in 0..<max { pool.swapAt(i, i + generator.nextIndex(below: pool.count - i)) }
        return Array(pool.prefix(max))
    }

    /// A person's columns in the order they are kept: a keyed shuffle, or least popular first.
    func order(_ columns: [Int32], popularity: [Double], label: String) -> [Int32] {
        switch plan.parameters.bounding {
        case .uniform: return shuffled(columns, label: label)
        case .leastPopular: return columns.sorted { (popularity[Int($0)], $0) < (popularity[Int($1)], $1) }
        }
    }

    private func shuffled(_ columns: [Int32], label: String) -> [Int32] {
        var generator = SeededGenerator(seed: noise.bits(label))
        var pool = columns
        for i in pool.indices.dropLast() { pool.swapAt(i, i + generator.nextIndex(below: pool.count - i)) }
        return pool
    }

    /// A person's weights per admitted column: summed, log-scaled as the recommender says.
    func summedWeights(_ picks: [Int], _ s: InteractionMatrixBuilder.Selection, columns: [Int32: Int32]) -> [Int32: Float] {
        var sums: [Int32: [Float]] = [:]
        for k in picks { if let c = columns[s.items[k]] { sums[c, default: []].append(s.weights[k]) } }
        // Summed in ascending order, as the CSR constructor sums repeats: no dependence on event order.
        return sums.mapValues { parts in
            let total = parts.sorted().reduce(0, +)
            return definition.logScaling ? Float(log1p(Double(total))) : total
        }
    }

    /// The held-out people's events split per person: `random:F` holds out a keyed sample of
    /// F of the person's distinct items, `leave-last:N` their N most recently used items.
    func heldOutParts(_ people: [[Int]], _ s: InteractionMatrixBuilder.Selection, log: EventLog) -> (foldIn: [Int], test: [Int]) {
        var foldIn: [Int] = [], test: [Int] = []
        for picks in people {
            let held = heldItems(picks, s, log: log)
            for k in picks { if held.contains(s.items[k]) { test.append(s.events[k]) } else { foldIn.append(s.events[k]) } }
        }
        return (foldIn.sorted(), test.sorted())
    }

    private func heldItems(_ picks: [Int], _ s: InteractionMatrixBuilder.Selection, log: EventLog) -> Set<Int32> {
        let items = distinctItems(picks, s)
        switch split {
        case .random(let fraction, _):
            let count = Int((Double(items.count) * fraction).rounded())
            return Set(sample(items, max: count, label: "split " + log.vocabulary.users[Int(log.users[s.events[picks[0]]])]))
        case .leaveLast(let n):
            var latest: [Int32: Int64] = [:]
            for k in picks { latest[s.items[k]] = max(latest[s.items[k]] ?? .min, log.timestamps[s.events[k]]) }
            return Set(items.sorted { (latest[$0]!, $0) > (latest[$1]!, $1) }.prefix(n))
        case .temporal:
            preconditionFailure("a private model's split is random:F or leave-last:N (NightlyConfig refuses temporal)")
        }
    }
}
