import Foundation
import Linalg

/// Generated user × item interaction matrices with known structure.
///
/// Real interaction data is power-law on both sides (a few very active users, a few very
/// popular items) and clustered (people join the channels of their team). The generator
/// plants both, so a benchmark sees realistic row lengths and a quality check can tell a
/// model that learned the clusters from a popularity ranking.
public enum SyntheticInteractions {
    /// Parameters of a generated matrix.
    public struct Shape: Sendable, Hashable {
        public var users: Int
        public var items: Int
        /// Stored entries wanted: distinct user–item pairs. The result comes close (one user
        /// takes at most a tenth of the items, and every user at least one).
        public var nonZeros: Int
        /// How many planted clusters of users and items.
        public var communities: Int
        /// Probability that an interaction goes to an item of the user's own community rather
        /// than to one drawn by global popularity.
        public var affinity: Double
        /// Zipf exponent of user activity and of item popularity.
        public var exponent: Double

        public init(
            users: Int, items: Int, nonZeros: Int, communities: Int = 40,
            affinity: Double = 0.7, exponent: Double = 1.0
        ) {
            self.users = users
            self.items = items
            self.nonZeros = nonZeros
            self.communities = communities
            self.affinity = affinity
            self.exponent = exponent
        }
    }

    /// A `users × items` matrix of interaction counts (1, 2, 3, …) with power-law row and
    /// column sums and planted communities; the same shape and seed give the same matrix.
    public static func generate(_ shape: Shape, seed: UInt64) -> SparseMatrix {
        precondition(shape.users > 0 && shape.items > 0 && shape.communities > 0)
        var rng = SeededGenerator(seed: seed)

        // Item popularity: Zipf over a random permutation of the item rows.
        let itemOrder = permutation(shape.items, &rng)
        let itemWeights = (0..<shape.items).map { rank in pow(Double(rank + 1), -shape.exponent) }
        let itemCommunity = (0..<shape.items).map { _ in rng.nextIndex(below: shape.communities) }
        let globalSampler = CumulativeSampler(weights: itemWeights)
        var members = [[Int]](repeating: [], count: shape.communities)
        var memberWeights = [[Double]](repeating: [], count: shape.communities)
        for rank in 0..<shape.items {
            let item = itemOrder[rank]
            members[itemCommunity[item]].append(item)
            memberWeights[itemCommunity[item]].append(itemWeights[rank])
        }
        let communitySamplers = memberWeights.map { CumulativeSampler(weights: $0.isEmpty ? [1] : $0) }

        // User activity: Zipf (milder than popularity), at least one item and at most a tenth
        // of the catalogue each, scaled to the requested total.
        let userOrder = permutation(shape.users, &rng)
        let activity = (0..<shape.users).map { rank in pow(Double(rank + 1), -shape.exponent * 0.7) }
        let cap = max(1, shape.items / 10)
        var scale = Double(shape.nonZeros) / activity.reduce(0, +)
        var counts = [Int](repeating: 0, count: shape.users)
        for _ in 0..<4 {  // the cap removes mass from the top; rescale the rest a few times
            var total = 0
            for rank in 0..<shape.users {
                let n = max(1, min(cap, Int((activity[rank] * scale).rounded())))
                counts[userOrder[rank]] = n
                total += n
            }
            if total >= shape.nonZeros || total == 0 { break }
            scale *= Double(shape.nonZeros) / Double(total)
        }

        var rowPointers = [Int](repeating: 0, count: shape.users + 1)
        var columns = [Int32]()
        var values = [Float]()
        columns.reserveCapacity(shape.nonZeros)
        values.reserveCapacity(shape.nonZeros)
        var picks = [(Int32, Float)]()
        var pickedBy = [Int](repeating: -1, count: shape.items)
        for user in 0..<shape.users {
            let home = rng.nextIndex(below: shape.communities)
            picks.removeAll(keepingCapacity: true)
            var attempts = 0
            // Distinct items by rejection; a bounded number of tries keeps a heavy user with
            // a small community from looping, at the price of a slightly shorter row.
            while picks.count < counts[user] && attempts < 20 * counts[user] {
                attempts += 1
                let item: Int
                if rng.nextUnit() < shape.affinity, !members[home].isEmpty {
                    item = members[home][communitySamplers[home].sample(&rng)]
                } else {
                    item = itemOrder[globalSampler.sample(&rng)]
                }
                if pickedBy[item] == user { continue }
                pickedBy[item] = user
                // Interaction counts 1, 2, 3, … with probability halving each step.
                var count: Float = 1
                while rng.next() & 1 == 1 && count < 16 { count += 1 }
                picks.append((Int32(item), count))
            }
            picks.sort { $0.0 < $1.0 }
            for (item, count) in picks {
                columns.append(item)
                values.append(count)
            }
            rowPointers[user + 1] = columns.count
        }
        // The arrays were built sorted and in range, so this cannot fail.
        return try! SparseMatrix(
            rows: shape.users, columns: shape.items, rowPointers: rowPointers,
            columnIndices: columns, values: values)
    }

    private static func permutation(_ n: Int, _ rng: inout SeededGenerator) -> [Int] {
        var order = Array(0..<n)
        for i in stride(from: n - 1, to: 0, by: -1) { order.swapAt(i, rng.nextIndex(below: i + 1)) }
        return order
    }
}

/// Draws an index with probability proportional to its weight, by binary search over the
/// cumulative weights (O(log n) a draw, deterministic given the generator).
struct CumulativeSampler {
    let cumulative: [Double]

    init(weights: [Double]) {
        var running = 0.0
        cumulative = weights.map { running += $0; return running }
    }

    func sample(_ rng: inout SeededGenerator) -> Int {
        let target = rng.nextUnit() * cumulative[cumulative.count - 1]
        var low = 0, high = cumulative.count - 1
        while low < high {
            let mid = (low + high) / 2
            if cumulative[mid] > target { high = mid } else { low = mid + 1 }
        }
        return low
    }
}
