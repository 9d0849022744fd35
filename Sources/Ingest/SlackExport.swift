import Foundation
import ZIPFoundation

/// Reads a Slack workspace export — the ZIP an admin downloads, or its unpacked folder — as
/// events in the event schema.
///
/// From `channels.json` (ids, names), `users.json` (ids, `deleted`, `is_bot`, `team_id`) and one
/// JSON file per channel and day: `post` for a message, `reply` for a thread reply (`thread_ts`
/// ≠ `ts`), `react` once per user listed in each reaction, `join`/`leave` from the
/// `channel_join`/`channel_leave` subtypes; times from `ts`. The parser reads only those keys:
/// text, blocks, attachments, files, profiles, names and e-mail addresses are stepped over in
/// the bytes and never become a value anywhere.
public struct SlackExport: Sendable {
    public struct Options: Sendable, Hashable {
        /// The workspace id to give every event; default: `team_id` from users.json.
        public var workspaceID: String?
        /// Keep events of deleted users (default: left out).
        public var keepDeletedUsers = false
        /// Keep skin-tone variants (`+1::skin-tone-3`) as their own emoji (default: folded
        /// into the base emoji).
        public var keepSkinTones = false
        /// The most bytes one file of the export may hold once inflated. A larger day file is a
        /// bad file (its messages are lost and counted); a larger channels.json or users.json
        /// refuses the export. Bounds the memory a hostile ZIP (a "bomb") can take.
        public var maxFileBytes: Int

        public static let defaultMaxFileBytes = 64 << 20

        public init(workspaceID: String? = nil, keepDeletedUsers: Bool = false, keepSkinTones: Bool = false,
                    maxFileBytes: Int = defaultMaxFileBytes) {
            self.workspaceID = workspaceID
            self.keepDeletedUsers = keepDeletedUsers
            self.keepSkinTones = keepSkinTones
            self.maxFileBytes = maxFileBytes
        }
    }

    /// One derived event.
    public struct Event: Sendable, Equatable {
        /// The day file within the export, and the message's number in it (for bad rows).
        public let file: String
        public let message: Int
        public let timestamp: Int64
        public let workspace: String
        public let user: String
        public let channel: String
        public let kind: EventKind
        public let emoji: String?

        func with(user: String, kind: EventKind, emoji: String?) -> Event {
            Event(file: file, message: message, timestamp: timestamp, workspace: workspace, user: user, channel: channel, kind: kind, emoji: emoji)
        }
    }

    /// What a whole read found besides the events.
    public struct Outcome: Sendable, Equatable {
        public var skipped = Skipped()
        /// Day files left out whole: malformed, oversized, duplicated or not files.
        public var badFiles: [DataUsage.BadFile] = []
        /// SHA-256 over the entries read, in the order read (see `SlackFiles`): the same for
        /// a ZIP and its unpacked folder.
        public var sha256 = ""
    }

    /// Counts of what the reader skipped on purpose.
    public struct Skipped: Sendable, Equatable, Codable {
        public var botMessages = 0
        public var deletedUserEvents = 0
        public var systemMessages = 0
    }

    public let path: String
    public let options: Options

    public init(path: String, options: Options = Options()) {
        self.path = path
        self.options = options
    }

    /// Reads every day file, handing each event to `event`, each bad message to `bad` (file
    /// within the export, message number, field, reason) and each day file left out whole to
    /// `badFile` (its messages lost are counted there, not in `bad`).
    /// - Throws: `IngestError` when the export itself cannot be read or lacks channels.json
    ///   or users.json.
    public func read(
        event: (Event) throws(IngestError) -> Void,
        bad: (BadRowKind, String, Int, String, String) throws(IngestError) -> Void,
        badFile: (DataUsage.BadFile) throws(IngestError) -> Void
    ) throws(IngestError) -> Outcome {
        let files = try SlackFiles(path: path, maxFileBytes: options.maxFileBytes)
        let channels = try SlackJSON.channels(try files.required("channels.json"), path: path + ":channels.json")
        let users = try SlackJSON.users(try files.required("users.json"), path: path + ":users.json")
        let workspace = try Self.workspace(options.workspaceID, teamIDs: users.teamIDs, path: path)
        var outcome = Outcome()
        let labels = Self.labels(files.allFiles())
        for name in files.allFiles() where !Self.isIgnored(name) || files.isNotAFile(name) {
            func report(_ kind: BadRowKind, _ reason: String, _ lost: Int?) throws(IngestError) {
                let file = DataUsage.BadFile(path: path + ":" + labels[name]!, kind: kind, reason: reason, messagesLost: lost)
                outcome.badFiles.append(file)
                try badFile(file)
            }
            guard SlackFiles.isDayFile(name) else {
                try report(.badFile, "not a day file of the export (CHANNEL/YYYY-MM-DD.json), or not a regular file", nil)
                continue
            }
            let folder = String(name.split(separator: "/")[0])
            guard let channel = channels[folder] else {
                // Read to count what it held: the loss weighs in the bad-row limits by its size.
                let lost = if case .data(let data) = try files.read(name) { max(SlackJSON.messageCount(data), 1) } else { 1 }
                try report(.unknownChannel, "its folder is not in channels.json", lost)
                continue
            }
            guard let messages = try dayFile(name, in: files, report: report) else { continue }
            let context = Event(file: labels[name]!, message: 0, timestamp: 0, workspace: workspace, user: "", channel: channel, kind: .post, emoji: nil)
            try emit(messages, context: context, users: users, skipped: &outcome.skipped, event: event, bad: bad)
        }
        outcome.sha256 = files.digest()
        return outcome
    }

    /// The events of one day file's messages: a person's message, and one `react` per person
    /// listed in each reaction.
    private func emit(
        _ messages: [SlackJSON.Message], context file: Event, users: SlackJSON.Users, skipped: inout Skipped,
        event: (Event) throws(IngestError) -> Void, bad: (BadRowKind, String, Int, String, String) throws(IngestError) -> Void
    ) throws(IngestError) {
        let name = file.file
        for (index, m) in messages.enumerated() {
            let line = index + 1
            guard let ts = m.ts, let seconds = Self.seconds(ts) else {
                try bad(.timestamp, name, line, "ts", "missing or not a Slack timestamp"); continue
            }
            let context = Event(file: name, message: line, timestamp: seconds, workspace: file.workspace, user: "", channel: file.channel, kind: .post, emoji: nil)
            if let kind = Self.kind(of: m, users: users, skipped: &skipped) {
                guard let user = m.user, !user.isEmpty else { try bad(.emptyID, name, line, "user", "a message without a user"); continue }
                if users.deleted.contains(user) && !options.keepDeletedUsers {
                    skipped.deletedUserEvents += 1
                } else {
                    try event(context.with(user: user, kind: kind, emoji: nil))
                }
            }
            // People's reactions count whoever wrote the message, a bot included: the
            // reaction is the person's signal (the message itself stays out).
            for reaction in m.reactions {
                let emoji = options.keepSkinTones ? reaction.name : Self.foldSkinTone(reaction.name)
                for reactor in reaction.users {
                    if users.bots.contains(reactor) { continue }
                    if users.deleted.contains(reactor) && !options.keepDeletedUsers { skipped.deletedUserEvents += 1; continue }
                    try event(context.with(user: reactor, kind: .react, emoji: emoji))
                }
            }
        }
    }

    /// The messages of one day file, or nil when the file is left out whole (reported with
    /// the messages it lost).
    private func dayFile(
        _ name: String, in files: SlackFiles, report: (BadRowKind, String, Int?) throws(IngestError) -> Void
    ) throws(IngestError) -> [SlackJSON.Message]? {
        switch try files.read(name) {
        case .data(let data):
            var parsed = 0
            do throws(JSONRowError) {
                return try SlackJSON.messages(data, parsed: &parsed)
            } catch {
                guard case .malformed(_, let reason) = error else { return nil }
                // What the file appears to hold, and never fewer than were read plus the broken one.
                try report(.badFile, "not a valid day file: \(reason)", max(SlackJSON.messageCount(data), parsed + 1))
            }
        case .tooLarge:
            try report(.badFile, "larger than \(options.maxFileBytes) bytes once inflated (the cap: max_slack_file_bytes)", nil)
        case .duplicate(let count):
            try report(.badFile, "the export holds \(count) entries of this name; none is read", nil)
        case .notAFile:
            try report(.badFile, "not a regular file (symbolic links are not followed)", nil)
        case .corrupt:
            try report(.badFile, "its bytes do not match the ZIP's CRC-32 (corrupt)", nil)
        case .missing:
            break
        }
        return nil
    }

    /// How bad rows and files name an export's entries: folder and file names are channel
    /// names and could be anything a workspace typed, so they are never shown. A day file is
    /// `folder-N/YYYY-MM-DD.json` (folders numbered from 1 in sorted order), anything else
    /// `entry-N` (its place among all entries, sorted).
    static func labels(_ names: [String]) -> [String: String] {
        let folders = Set(names.compactMap { $0.contains("/") ? String($0.split(separator: "/")[0]) : nil }).sorted()
        let folderNumber = Dictionary(uniqueKeysWithValues: folders.enumerated().map { ($1, $0 + 1) })
        var labels: [String: String] = [:]
        for (index, name) in names.enumerated() {
            let parts = name.split(separator: "/")
            labels[name] = SlackFiles.isDayFile(name) ? "folder-\(folderNumber[String(parts[0])]!)/\(parts[1])" : "entry-\(index + 1)"
        }
        return labels
    }

    /// Export files that hold no events: the workspace's own lists (channels.json, users.json,
    /// and integration_logs.json, dms.json, … at the top level) and archiver debris.
    static func isIgnored(_ name: String) -> Bool {
        !name.contains("/") || name.hasPrefix("__MACOSX/") || name.hasSuffix("/.DS_Store")
    }

    /// The event kind of a message, or nil for one that is not a person's event (a bot's, a
    /// system message), counted in `skipped`.
    static func kind(of m: SlackJSON.Message, users: SlackJSON.Users, skipped: inout Skipped) -> EventKind? {
        if m.botID != nil || m.subtype == "bot_message" || m.user.map(users.bots.contains) == true {
            skipped.botMessages += 1
            return nil
        }
        switch m.subtype {
        case nil, "file_share", "me_message", "thread_broadcast":
            return (m.threadTS != nil && m.threadTS != m.ts) || m.subtype == "thread_broadcast" ? .reply : .post
        case "channel_join": return .join
        case "channel_leave": return .leave
        default:
            skipped.systemMessages += 1
            return nil
        }
    }

    /// The workspace id of every event: the one given, or the export's single `team_id`.
    /// - Throws: when users.json names no team, or several (an Enterprise Grid export, or files
    ///   of two workspaces mixed): events must never be attributed to the wrong workspace's
    ///   consent.
    static func workspace(_ given: String?, teamIDs: [String], path: String) throws(IngestError) -> String {
        if let given {
            // A mixed export may be attributed to one of its own teams only, never to an outside id.
            guard teamIDs.count <= 1 || teamIDs.contains(given) else {
                throw .unreadableFile(path: path, reason: "the export mixes \(teamIDs.count) team_id values and the given workspace id is none of them; "
                    + "events must not be attributed to another workspace's consent")
            }
            return given
        }
        guard let team = teamIDs.first else {
            throw .unreadableFile(path: path, reason: "users.json names no team_id; give the workspace id (--workspace-id or slack_workspace_id)")
        }
        guard teamIDs.count == 1 else {
            throw .unreadableFile(
                path: path, reason: "users.json names \(teamIDs.count) different team_id values; the export mixes workspaces, so "
                    + "no workspace can be inferred. Give the workspace id (--workspace-id or slack_workspace_id) if it is one workspace")
        }
        return team
    }

    /// `+1::skin-tone-3` → `+1`.
    static func foldSkinTone(_ name: String) -> String {
        guard let range = name.range(of: "::skin-tone-") else { return name }
        return String(name[..<range.lowerBound])
    }

    /// Whole seconds of a Slack `ts` (`1700000000.000100`).
    static func seconds(_ ts: String) -> Int64? {
        let whole = ts.split(separator: ".", maxSplits: 1).first.map(String.init) ?? ts
        guard let s = Int64(whole), s >= 0 else { return nil }
        return s
    }
}
