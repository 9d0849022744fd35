import Ingest

extension EventLog {
    /// The item of each event for a recommender (its channel, or its emoji), or −1 when the
    /// event carries nothing for it.
    public func items(for target: RecommenderDefinition.Target, weights: [EventKind: Float]) -> [Int32] {
        (0..<count).map { i in
            guard (weights[kinds[i]] ?? 0) > 0 || kinds[i] == .join || kinds[i] == .leave else { return -1 }
            switch target {
            case .channel: return channels[i]
            case .emoji: return emoji[i]
            }
        }
    }
}
