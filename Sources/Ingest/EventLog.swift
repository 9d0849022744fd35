import Consent

/// The events a run may use — consenting, valid, within retention — in columns, with ids
/// replaced by dense indices. Built by `EventLogReader`.
public struct EventLog: Sendable {
    /// Unix seconds.
    public internal(set) var timestamps: [Int64] = []
    /// Index into `vocabulary.workspaces`.
    public internal(set) var workspaces: [Int32] = []
    /// Index into `vocabulary.users`.
    public internal(set) var users: [Int32] = []
    /// Index into `vocabulary.channels`.
    public internal(set) var channels: [Int32] = []
    public internal(set) var kinds: [EventKind] = []
    /// Index into `vocabulary.emoji`, or -1.
    public internal(set) var emoji: [Int32] = []

    public internal(set) var vocabulary = Vocabulary()
    /// Raw channel ids by channel index, only with `IngestOptions.keepChannelIDsForDisplay`.
    public internal(set) var displayChannelIDs: [String]?
    public internal(set) var usage: DataUsage

    public var count: Int { timestamps.count }

    init(policy: ConsentPolicy) { usage = DataUsage(policy: policy) }
}

/// Pseudonymous names of everything an `EventLog` indexes. Every customer id is here only as
/// its keyed hash; emoji are kept by name (the vocabulary a client renders, not an identifier).
public struct Vocabulary: Sendable, Equatable {
    /// Workspace pseudonyms, by workspace index.
    public internal(set) var workspaces: [String] = []
    /// User pseudonyms (scoped by workspace), by user index.
    public internal(set) var users: [String] = []
    /// The workspace index of each user.
    public internal(set) var userWorkspace: [Int32] = []
    /// Channel pseudonyms (scoped by workspace), by channel index.
    public internal(set) var channels: [String] = []
    /// The workspace index of each channel.
    public internal(set) var channelWorkspace: [Int32] = []
    /// Emoji short names without colons.
    public internal(set) var emoji: [String] = []
}

extension EventLog {
    /// The events where `keep` is true, with the same vocabulary (indices stay valid). Usage
    /// counts are carried over unchanged: they describe the read, not the subset.
    public func subset(_ keep: [Bool]) -> EventLog {
        precondition(keep.count == count, "one flag per event")
        var out = self
        out.timestamps = []; out.workspaces = []; out.users = []; out.channels = []; out.kinds = []; out.emoji = []
        for i in 0..<count where keep[i] {
            out.timestamps.append(timestamps[i]); out.workspaces.append(workspaces[i]); out.users.append(users[i])
            out.channels.append(channels[i]); out.kinds.append(kinds[i]); out.emoji.append(emoji[i])
        }
        return out
    }
}
