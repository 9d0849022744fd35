import Foundation

/// The few fields ConsentRec reads from a Slack export, parsed from bytes with every other
/// value stepped over unread (see `JSONObjectParser.skipValue`).
enum SlackJSON {
    struct Reaction: Equatable {
        var name: String
        var users: [String]
    }

    struct Message: Equatable {
        var subtype: String?
        var user: String?
        var ts: String?
        var threadTS: String?
        var botID: String?
        var reactions: [Reaction] = []
    }

    struct Users {
        var deleted = Set<String>()
        var bots = Set<String>()
        /// Every distinct `team_id` in users.json, sorted.
        var teamIDs: [String] = []
    }

    static func withParser<T>(_ data: Data, _ body: (inout JSONObjectParser) throws(JSONRowError) -> T) throws(JSONRowError) -> T {
        let scratch = UnsafeMutablePointer<UInt8>.allocate(capacity: max(data.count, 1))
        defer { scratch.deallocate() }
        var result: Result<T, JSONRowError>!
        data.withUnsafeBytes { raw in
            let base = raw.bindMemory(to: UInt8.self).baseAddress ?? UnsafePointer(scratch)
            var parser = JSONObjectParser(base: base, position: 0, end: raw.count, scratch: scratch, scratchUsed: 0)
            do throws(JSONRowError) {
                let value = try body(&parser)
                parser.skipWhitespace()
                while parser.position < parser.end, parser.base[parser.position] == 0x0A { parser.position += 1; parser.skipWhitespace() }
                guard parser.position == parser.end else { throw JSONRowError.malformed(field: "file", reason: "text after the JSON value") }
                result = .success(value)
            } catch {
                result = .failure(error)
            }
        }
        return try result.get()
    }

    /// channels.json: folder name → channel id.
    static func channels(_ data: Data, path: String) throws(IngestError) -> [String: String] {
        do throws(JSONRowError) {
            return try withParser(data) { (p: inout JSONObjectParser) throws(JSONRowError) -> [String: String] in
                var byName: [String: String] = [:]
                try p.parseArray { (p: inout JSONObjectParser) throws(JSONRowError) in
                    var id: String?, name: String?
                    try p.parseObjectValue { (key: String, p: inout JSONObjectParser) throws(JSONRowError) in
                        switch key {
                        case "id": id = try p.scalarText(field: key)
                        case "name": name = try p.scalarText(field: key)
                        default: try p.skipValue()
                        }
                    }
                    if let id, let name { byName[name] = id }
                }
                return byName
            }
        } catch {
            throw .unreadableFile(path: path, reason: "not a valid channels.json")
        }
    }

    /// users.json: who is deleted, who is a bot, and the workspace's team id. Names, profiles
    /// and e-mail addresses are stepped over.
    static func users(_ data: Data, path: String) throws(IngestError) -> Users {
        do throws(JSONRowError) {
            return try withParser(data) { (p: inout JSONObjectParser) throws(JSONRowError) -> Users in
                var users = Users()
                try p.parseArray { (p: inout JSONObjectParser) throws(JSONRowError) in
                    var id: String?, deleted = false, bot = false, team: String?
                    try p.parseObjectValue { (key: String, p: inout JSONObjectParser) throws(JSONRowError) in
                        switch key {
                        case "id": id = try p.scalarText(field: key)
                        case "team_id": team = try p.scalarText(field: key)
                        case "deleted": deleted = try p.scalarText(field: key) == "true"
                        case "is_bot", "is_app_user":
                            let flag = try p.scalarText(field: key)
                            if flag == "true" { bot = true }
                        default: try p.skipValue()
                        }
                    }
                    guard let id else { return }
                    if deleted { users.deleted.insert(id) }
                    if bot || id == "USLACKBOT" { users.bots.insert(id) }
                    if let team, !users.teamIDs.contains(team) { users.teamIDs.append(team) }
                }
                users.teamIDs.sort()
                return users
            }
        } catch {
            throw .unreadableFile(path: path, reason: "not a valid users.json")
        }
    }

    /// One day file: an array of messages.
    /// How many messages a day file appears to hold, however malformed: the objects directly
    /// inside its outer array, found by a lenient scan (strings and escapes stepped over).
    static func messageCount(_ data: Data) -> Int {
        var depth = 0, count = 0, inString = false, escaped = false
        for b in data {
            if inString {
                if escaped { escaped = false } else if b == 0x5C { escaped = true } else if b == 0x22 { inString = false }
                continue
            }
            switch b {
            case 0x22: inString = true
            case 0x5B, 0x7B:
                depth += 1
                if b == 0x7B && depth == 2 { count += 1 }
            case 0x5D, 0x7D: depth = max(depth - 1, 0)
            default: break
            }
        }
        return count
    }

    /// `parsed` counts the messages read so far, also when the file turns out malformed.
    static func messages(_ data: Data, parsed: inout Int) throws(JSONRowError) -> [Message] {
        var count = 0
        defer { parsed = count }
        return try withParser(data) { (p: inout JSONObjectParser) throws(JSONRowError) -> [Message] in
            var messages: [Message] = []
            try p.parseArray { (p: inout JSONObjectParser) throws(JSONRowError) in
                var m = Message()
                var seen = Set<String>()
                try p.parseObjectValue { (key: String, p: inout JSONObjectParser) throws(JSONRowError) in
                    // A repeated key would let a message count twice (two reaction lists) or
                    // change its author: the file is malformed, as a JSON Lines row would be.
                    guard seen.insert(key).inserted else { throw JSONRowError.malformed(field: "message", reason: "a key appears twice") }
                    switch key {
                    case "subtype": m.subtype = try p.scalarText(field: key)
                    case "user": m.user = try p.scalarText(field: key)
                    case "ts": m.ts = try p.scalarText(field: key)
                    case "thread_ts": m.threadTS = try p.scalarText(field: key)
                    case "bot_id": m.botID = try p.scalarText(field: key)
                    case "reactions":
                        try p.parseArray { (p: inout JSONObjectParser) throws(JSONRowError) in
                            var r = Reaction(name: "", users: [])
                            try p.parseObjectValue { (key: String, p: inout JSONObjectParser) throws(JSONRowError) in
                                switch key {
                                case "name": r.name = try p.scalarText(field: key) ?? ""
                                case "users":
                                    try p.parseArray { (p: inout JSONObjectParser) throws(JSONRowError) in
                                        if let u = try p.scalarText(field: "users") { r.users.append(u) }
                                    }
                                default: try p.skipValue()
                                }
                            }
                            // One reaction per person per emoji, however often a list names them.
                            var reactors = Set<String>()
                            r.users = r.users.filter { reactors.insert($0).inserted }
                            if !r.name.isEmpty { m.reactions.append(r) }
                        }
                    default: try p.skipValue()  // text, blocks, files, attachments, user_profile, …
                    }
                }
                messages.append(m)
                count += 1
            }
            return messages
        }
    }
}
