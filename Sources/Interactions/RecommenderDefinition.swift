import Ingest

/// What one recommender learns from: which events, how much each weighs, and over which
/// workspaces.
public struct RecommenderDefinition: Sendable, Hashable, Codable {
    public enum Target: String, Sendable, Hashable, Codable, CaseIterable {
        /// user × channel, "channels you may want to join".
        case channel
        /// user × emoji, "emoji you are likely to react with".
        case emoji
    }

    public enum Scope: String, Sendable, Hashable, Codable, CaseIterable {
        /// One matrix (and model) per workspace: no workspace's data shapes another's model.
        case workspace
        /// One matrix over all consenting workspaces (emoji only), restricted to emoji with
        /// enough support that no workspace's custom emoji can enter it.
        case global
    }

    public var target: Target
    public var scope: Scope
    /// Weight per event kind; kinds without a positive weight are not used. For `emoji`, only
    /// events that carry an emoji count.
    public var weights: [EventKind: Float]
    /// Use `log(1 + Σ weights)` per user–item pair instead of the plain sum.
    public var logScaling: Bool
    /// Channel only: when a user's latest membership event for a channel is `leave`, that
    /// pair's `join` weight is dropped (their other activity there still counts).
    public var leaveRemovesMembership: Bool
    /// Users with fewer distinct items are left out (applied with `minItemUsers` until both
    /// hold).
    public var minUserItems: Int
    /// Items with fewer distinct users are left out.
    public var minItemUsers: Int
    /// Global scope: an emoji must be used in at least this many workspaces (k).
    public var minEmojiWorkspaces: Int
    /// Global scope: an emoji must be used by at least this many users in all (m).
    public var minEmojiUsers: Int

    public init(
        target: Target, scope: Scope, weights: [EventKind: Float], logScaling: Bool = false,
        leaveRemovesMembership: Bool = true, minUserItems: Int = 1, minItemUsers: Int = 1,
        minEmojiWorkspaces: Int = 5, minEmojiUsers: Int = 25
    ) {
        self.target = target
        self.scope = scope
        self.weights = weights
        self.logScaling = logScaling
        self.leaveRemovesMembership = leaveRemovesMembership
        self.minUserItems = minUserItems
        self.minItemUsers = minItemUsers
        self.minEmojiWorkspaces = minEmojiWorkspaces
        self.minEmojiUsers = minEmojiUsers
    }

    /// Channels: joining weighs most, posting and replying show active membership, reactions
    /// and views are weaker signals; per workspace; a user needs 2 channels and a channel 2
    /// users to be trained on.
    public static let channelDefault = RecommenderDefinition(
        target: .channel, scope: .workspace,
        weights: [.join: 2, .post: 1, .reply: 1, .react: 0.5, .view: 0.1], logScaling: true,
        minUserItems: 2, minItemUsers: 2)

    /// Emoji: reactions, and emoji attached to posts at half weight; one global model over
    /// emoji used in ≥ 5 workspaces by ≥ 25 users.
    public static let emojiDefault = RecommenderDefinition(
        target: .emoji, scope: .global, weights: [.react: 1, .post: 0.5], logScaling: true,
        minUserItems: 2, minItemUsers: 2, minEmojiWorkspaces: 5, minEmojiUsers: 25)

    /// The default definition of a recommender.
    public static func `default`(for target: Target) -> RecommenderDefinition {
        switch target {
        case .channel: channelDefault
        case .emoji: emojiDefault
        }
    }

    /// Every recommender's default definition, in `Target` order.
    public static var defaults: [RecommenderDefinition] { Target.allCases.map(`default`(for:)) }
}

extension RecommenderDefinition.Target {
    /// Item ids are pseudonyms (fixed-length hex, sorted as numbers); otherwise names (emoji),
    /// sorted as strings.
    public var itemsArePseudonyms: Bool {
        switch self {
        case .channel: true
        case .emoji: false
        }
    }
}

