import Foundation
import Ingest
import Linalg
import Platform

/// A realistic synthetic interaction log in the event schema, with a consent registry and a
/// pseudonymisation key: for the demo, tests and benchmarks.
///
/// Structure planted in it: power-law workspace sizes and user activity; users in teams whose
/// channels they join and use (plus `general`); emoji habits — each team and each channel
/// follows one of a few emoji "cultures" (groups of shared emoji used together, the same in
/// every workspace), each user has a few favourites of their own, and everyone sometimes
/// reacts with a globally popular emoji; custom emoji that exist in one workspace only; some
/// leaves. The registry opts some
/// workspaces out (dated at various times, so retroactivity matters), some in, and flips a
/// few back and forth so "latest row wins" matters.
public struct SyntheticEventLog: Sendable {
    public struct Options: Sendable {
        public var workspaces = 40
        public var events = 200_000
        public var days = 30
        public var seed: UInt64 = 1
        /// The last instant of the log; events fall in the `days` before it.
        public var end: Int64 = Timestamp.parse("2026-11-20T00:00:00Z")!
        /// Share of workspaces opted out / opted in in the registry.
        public var optedOutShare = 0.15
        public var optedInShare = 0.6

        public init() {}
    }

    public let options: Options

    public init(options: Options) { self.options = options }

    static let sharedEmoji = [
        "+1", "heart", "joy", "tada", "eyes", "pray", "fire", "rocket", "white_check_mark", "100",
        "thinking_face", "raised_hands", "clap", "smile", "sob", "ok_hand", "wave", "muscle", "star",
        "bulb", "point_up", "sweat_smile", "grin", "heart_eyes", "party_parrot", "thumbsdown", "x",
        "warning", "coffee", "pizza",
    ]

    /// Emoji cultures: groups of shared emoji (indices into `sharedEmoji`) that a team or a
    /// channel uses together — shipping, celebrating, reviewing, support, social, feelings.
    static let cultures: [[Int]] = [
        [7, 6, 8, 9, 17], [3, 12, 11, 24, 18], [4, 10, 20, 13, 15], [27, 26, 25, 5, 19], [28, 29, 16, 22, 14], [1, 2, 23, 21, 0],
    ]

    /// Where a reaction's emoji comes from: a user's own favourites, their team's culture, the
    /// channel's culture, the global popularity curve, the workspace's custom emoji.
    struct EmojiHabits {
        var taste: [Int]
        var team: [Int]
        var channel: [String: [Int]]
    }

    /// Writes `events.csv`, `consent.csv` and `pseudonym.key` into `directory`.
    /// - Returns: how many events were written.
    @discardableResult
    public func write(to directory: String) throws -> Int {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var rng = SeededGenerator(seed: options.seed)
        var workspaces: [String] = []
        for _ in 0..<options.workspaces { workspaces.append(Self.id("T", &rng)) }

        // Workspace sizes: Zipf over users, at least 5.
        let weights = (0..<options.workspaces).map { 1 / pow(Double($0 + 1), 0.9) }
        let totalWeight = weights.reduce(0, +)
        let meanEventsPerUser = 40.0
        let userCounts = weights.map { max(5, Int(Double(options.events) / meanEventsPerUser * $0 / totalWeight)) }

        let path = (directory as NSString).appendingPathComponent("events.csv")
        guard FileManager.default.createFile(atPath: path, contents: nil), let out = FileHandle(forWritingAtPath: path) else { throw CocoaError(.fileWriteUnknown) }
        defer { try? out.close() }
        var buffer = "timestamp,workspace_id,user_id,channel_id,event,emoji\n"
        var written = 0
        let start = options.end - Int64(options.days) * 86_400
        let shared = Self.sharedEmoji
        let emojiSampler = (0..<shared.count).map { 1 / pow(Double($0 + 1), 1.1) }

        for (w, workspace) in workspaces.enumerated() {
            var users: [String] = []
            for _ in 0..<userCounts[w] { users.append(Self.id("U", &rng)) }
            let teams = max(1, users.count / 12)
            let general = Self.id("C", &rng)
            var teamChannels: [[String]] = []
            for _ in 0..<teams {
                var channels: [String] = []
                for _ in 0..<(1 + rng.nextIndex(below: 3)) { channels.append(Self.id("C", &rng)) }
                teamChannels.append(channels)
            }
            let custom = (0..<(1 + rng.nextIndex(below: 3))).map { "\(workspace.lowercased())-custom-\($0)" }
            let teamCulture = (0..<teams).map { _ in Self.cultures[rng.nextIndex(below: Self.cultures.count)] }
            var channelCulture: [String: [Int]] = [general: Self.cultures[rng.nextIndex(below: Self.cultures.count)]]
            for channel in teamChannels.joined() { channelCulture[channel] = Self.cultures[rng.nextIndex(below: Self.cultures.count)] }
            let budget = Int(Double(options.events) * weights[w] / totalWeight)
            let activity = users.indices.map { 1 / pow(Double($0 + 1), 0.6) }
            let activityTotal = activity.reduce(0, +)
            for (u, user) in users.enumerated() {
                let team = u % teams
                var mine = [general] + teamChannels[team]
                if rng.nextUnit() < 0.3 {
                    mine += teamChannels[rng.nextIndex(below: teams)].filter { !mine.contains($0) }
                }
                var taste: [Int] = []
                for _ in 0..<2 { taste.append(Self.draw(emojiSampler, &rng)) }
                let habits = EmojiHabits(taste: taste, team: teamCulture[team], channel: channelCulture)
                // Members join over time: `general` when they arrive, each other channel at a
                // random later moment. Activity happens only in channels joined by then, so a
                // held-out period holds the joins (and first posts) that teammates' earlier
                // behaviour predicts.
                let span = options.days * 86_400
                let arrival = start + Int64(rng.nextIndex(below: max(1, span / 5)))
                var joined: [(time: Int64, channel: String)] = [(arrival, general)]
                for channel in mine.dropFirst() {
                    joined.append((arrival + Int64(rng.nextIndex(below: max(1, Int(options.end - arrival) - 3600))), channel))
                }
                joined.sort { $0.time < $1.time }
                for (time, channel) in joined {
                    buffer += "\(Timestamp.format(time)),\(workspace),\(user),\(channel),join,\n"
                    written += 1
                }
                let count = max(1, Int(Double(budget) * activity[u] / activityTotal) - mine.count)
                for _ in 0..<count {
                    let time = arrival + Int64(rng.nextIndex(below: max(1, Int(options.end - arrival))))
                    let member = joined.filter { $0.time <= time }.map(\.channel)
                    let channel = rng.nextUnit() < 0.97 || teams == 1 ? member[rng.nextIndex(below: member.count)] : teamChannels[rng.nextIndex(below: teams)][0]
                    let roll = rng.nextUnit()
                    let stamp = rng.nextUnit() < 0.5 ? String(time) : Timestamp.format(time)
                    func emoji() -> String {
                        Self.emoji(habits, channel: channel, custom: custom, popularity: emojiSampler, &rng)
                    }
                    let line: String
                    switch roll {
                    case ..<0.40: line = "\(stamp),\(workspace),\(user),\(channel),view,"
                    case ..<0.62: line = "\(stamp),\(workspace),\(user),\(channel),post,\(rng.nextUnit() < 0.2 ? emoji() : "")"
                    case ..<0.77: line = "\(stamp),\(workspace),\(user),\(channel),reply,"
                    case ..<0.995: line = "\(stamp),\(workspace),\(user),\(channel),react,\(emoji())"
                    default: line = "\(stamp),\(workspace),\(user),\(channel),leave,"
                    }
                    buffer += line + "\n"
                    written += 1
                    if buffer.utf8.count > 1 << 20 {
                        out.write(Data(buffer.utf8))
                        buffer = ""
                    }
                }
            }
        }
        out.write(Data(buffer.utf8))

        try registry(workspaces, &rng).write(
            toFile: (directory as NSString).appendingPathComponent("consent.csv"), atomically: true, encoding: .utf8)
        var key = ""
        for _ in 0..<32 { key += String(rng.nextIndex(below: 256) + 256, radix: 16).dropFirst() }
        try (key + "\n").write(toFile: (directory as NSString).appendingPathComponent("pseudonym.key"), atomically: true, encoding: .utf8)
        return written
    }

    /// One reaction's emoji: 45% the team's culture, 20% the channel's, 15% the user's own
    /// favourites, 12% the global popularity curve, 8% a custom emoji of the workspace. Within a
    /// culture the first emoji are the most used.
    static func emoji(
        _ habits: EmojiHabits, channel: String, custom: [String], popularity: [Double], _ rng: inout SeededGenerator
    ) -> String {
        let roll = rng.nextUnit()
        func fromCulture(_ culture: [Int]) -> String { sharedEmoji[culture[draw(cultureWeights, &rng)]] }
        switch roll {
        case ..<0.45: return fromCulture(habits.team)
        case ..<0.65: return fromCulture(habits.channel[channel] ?? habits.team)
        case ..<0.80: return sharedEmoji[habits.taste[rng.nextIndex(below: habits.taste.count)]]
        case ..<0.92: return sharedEmoji[draw(popularity, &rng)]
        default: return custom[rng.nextIndex(below: custom.count)]
        }
    }

    static let cultureWeights = [1.0, 0.8, 0.6, 0.45, 0.35]

    private func registry(_ workspaces: [String], _ rng: inout SeededGenerator) -> String {
        var text = "workspace_id,status,effective_at\n"
        let start = options.end - Int64(options.days) * 86_400
        for workspace in workspaces {
            let when = start + Int64(rng.nextIndex(below: max(1, options.days * 86_400)))
            let roll = rng.nextUnit()
            if roll < options.optedOutShare {
                // Opted in first, then out mid-log: retroactive, so every event is excluded.
                text += "\(workspace),opted_in,\(Timestamp.format(start - 86_400 * 90))\n"
                text += "\(workspace),opted_out,\(Timestamp.format(when))\n"
            } else if roll < options.optedOutShare + 0.05 {
                // Opted out once, then back in later: the latest row wins.
                text += "\(workspace),opted_out,\(Timestamp.format(start - 86_400 * 60))\n"
                text += "\(workspace),opted_in,\(Timestamp.format(when))\n"
            } else if roll < options.optedOutShare + options.optedInShare {
                text += "\(workspace),opted_in,\(when)\n"
            }
            // The rest have no row: used under opt-out policy, not under opt-in.
        }
        return text
    }

    static func id(_ prefix: String, _ rng: inout SeededGenerator) -> String {
        let alphabet = Array("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789")
        return prefix + String((0..<9).map { _ in alphabet[rng.nextIndex(below: alphabet.count)] })
    }

    static func draw(_ weights: [Double], _ rng: inout SeededGenerator) -> Int {
        let total = weights.reduce(0, +)
        var target = rng.nextUnit() * total
        for (i, w) in weights.enumerated() {
            target -= w
            if target < 0 { return i }
        }
        return weights.count - 1
    }
}
