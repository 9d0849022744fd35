import Ingest

extension EventLog {
    /// The item event `i` carries for a recommender (its channel, its emoji), or −1 when it
    /// carries none. The one place that maps a recommender to an event's column.
    @inline(__always)
    public func item(_ i: Int, for target: RecommenderDefinition.Target) -> Int32 {
        switch target {
        case .channel: channels[i]
        case .emoji: emoji[i]
        }
    }

    /// The id of item index `item` of a recommender: a channel pseudonym, an emoji name.
    public func itemName(_ item: Int, for target: RecommenderDefinition.Target) -> String {
        switch target {
        case .channel: vocabulary.channels[item]
        case .emoji: vocabulary.emoji[item]
        }
    }

    /// The item of each event for a recommender, or −1 when the event carries nothing for it
    /// (no weight and not a membership event, or no item).
    public func items(for target: RecommenderDefinition.Target, weights: [EventKind: Float]) -> [Int32] {
        (0..<count).map { i in
            guard (weights[kinds[i]] ?? 0) > 0 || kinds[i] == .join || kinds[i] == .leave else { return -1 }
            return item(i, for: target)
        }
    }
}
