import Consent
import Platform

/// The form in which a distributed run moves events between ranks: pseudonyms and columns,
/// never a raw id (the reading rank has already applied consent and pseudonymised every id),
/// never the raw channel ids kept for display, and never usage counts (they travel apart).
extension EventLog {
    static let wireTag = "consentrec-events-1"

    /// The events where `keep` is true, with a vocabulary of only the ids they use.
    public func wire(keeping keep: (Int) -> Bool) -> [UInt8] {
        var remap = (workspaces: [Int32](repeating: -1, count: vocabulary.workspaces.count),
                     users: [Int32](repeating: -1, count: vocabulary.users.count),
                     channels: [Int32](repeating: -1, count: vocabulary.channels.count),
                     emoji: [Int32](repeating: -1, count: vocabulary.emoji.count))
        var order = (workspaces: [Int32](), users: [Int32](), channels: [Int32](), emoji: [Int32]())
        func mapped(_ i: Int32, _ map: inout [Int32], _ list: inout [Int32]) -> Int32 {
            if i < 0 { return i }
            if map[Int(i)] < 0 { map[Int(i)] = Int32(list.count); list.append(i) }
            return map[Int(i)]
        }
        var columns = (t: [Int64](), w: [Int32](), u: [Int32](), c: [Int32](), k: [UInt8](), e: [Int32]())
        for i in 0..<count where keep(i) {
            columns.t.append(timestamps[i])
            columns.w.append(mapped(workspaces[i], &remap.workspaces, &order.workspaces))
            columns.u.append(mapped(users[i], &remap.users, &order.users))
            columns.c.append(mapped(channels[i], &remap.channels, &order.channels))
            columns.k.append(kinds[i].rawValue)
            columns.e.append(mapped(emoji[i], &remap.emoji, &order.emoji))
        }
        var w = WireWriter()
        w.string(Self.wireTag)
        w.strings(order.workspaces.map { vocabulary.workspaces[Int($0)] })
        w.strings(order.users.map { vocabulary.users[Int($0)] })
        w.column(order.users.map { remap.workspaces[Int(vocabulary.userWorkspace[Int($0)])] })
        w.strings(order.channels.map { vocabulary.channels[Int($0)] })
        w.column(order.channels.map { remap.workspaces[Int(vocabulary.channelWorkspace[Int($0)])] })
        w.strings(order.emoji.map { vocabulary.emoji[Int($0)] })
        w.column(columns.t); w.column(columns.w); w.column(columns.u); w.column(columns.c); w.column(columns.k); w.column(columns.e)
        return w.bytes
    }

    /// The events of a `wire(keeping:)` message, with `policy`'s empty usage.
    /// - Throws: `WireReader.Malformed` for a message that is not one, or whose indices point
    ///   outside its vocabulary.
    public static func fromWire(_ bytes: [UInt8], policy: ConsentPolicy) throws(WireReader.Malformed) -> EventLog {
        var r = WireReader(bytes)
        guard try r.string() == wireTag else { throw .init(offset: 0, reason: "not an event message") }
        var log = EventLog(policy: policy)
        log.vocabulary.workspaces = try r.strings()
        log.vocabulary.users = try r.strings()
        log.vocabulary.userWorkspace = try r.column()
        log.vocabulary.channels = try r.strings()
        log.vocabulary.channelWorkspace = try r.column()
        log.vocabulary.emoji = try r.strings()
        log.timestamps = try r.column(); log.workspaces = try r.column(); log.users = try r.column()
        log.channels = try r.column()
        let kinds: [UInt8] = try r.column()
        log.emoji = try r.column()
        try r.finish()
        log.kinds = try kinds.map { (k) throws(WireReader.Malformed) in
            guard let kind = EventKind(rawValue: k) else { throw .init(offset: 0, reason: "event kind \(k)") }
            return kind
        }
        try log.checkIndices()
        return log
    }

    private func checkIndices() throws(WireReader.Malformed) {
        let v = vocabulary
        func inRange(_ column: [Int32], _ count: Int, optional: Bool = false) -> Bool {
            column.allSatisfy { (optional && $0 == -1) || ($0 >= 0 && Int($0) < count) }
        }
        guard v.userWorkspace.count == v.users.count, v.channelWorkspace.count == v.channels.count,
            [workspaces.count, users.count, channels.count, kinds.count, emoji.count].allSatisfy({ $0 == timestamps.count }),
            inRange(v.userWorkspace, v.workspaces.count), inRange(v.channelWorkspace, v.workspaces.count),
            inRange(workspaces, v.workspaces.count), inRange(users, v.users.count), inRange(channels, v.channels.count),
            inRange(emoji, v.emoji.count, optional: true)
        else { throw .init(offset: 0, reason: "columns of unequal length or indices outside the vocabulary") }
    }

    /// The logs one after another, as one log: ids interned in first-seen order by pseudonym,
    /// events in the order given. `usage` is the whole read's.
    public static func concatenating(_ parts: [EventLog], usage: DataUsage) -> EventLog {
        var out = EventLog(policy: usage.policy)
        var index = (workspaces: [String: Int32](), users: [String: Int32](), channels: [String: Int32](), emoji: [String: Int32]())
        func intern(_ name: String, _ table: inout [String: Int32], _ list: inout [String]) -> (Int32, Bool) {
            if let i = table[name] { return (i, false) }
            let i = Int32(list.count)
            table[name] = i
            list.append(name)
            return (i, true)
        }
        for part in parts {
            let v = part.vocabulary
            let w = v.workspaces.map { intern($0, &index.workspaces, &out.vocabulary.workspaces).0 }
            let u = v.users.indices.map { i in
                let (m, new) = intern(v.users[i], &index.users, &out.vocabulary.users)
                if new { out.vocabulary.userWorkspace.append(w[Int(v.userWorkspace[i])]) }
                return m
            }
            let c = v.channels.indices.map { i in
                let (m, new) = intern(v.channels[i], &index.channels, &out.vocabulary.channels)
                if new { out.vocabulary.channelWorkspace.append(w[Int(v.channelWorkspace[i])]) }
                return m
            }
            let e = v.emoji.map { intern($0, &index.emoji, &out.vocabulary.emoji).0 }
            out.timestamps += part.timestamps
            out.kinds += part.kinds
            out.workspaces += part.workspaces.map { w[Int($0)] }
            out.users += part.users.map { u[Int($0)] }
            out.channels += part.channels.map { c[Int($0)] }
            out.emoji += part.emoji.map { $0 < 0 ? $0 : e[Int($0)] }
        }
        out.usage = usage
        return out
    }
}

extension EventLog {
    /// The same events with the usage of the whole distributed read.
    public func withUsage(_ usage: DataUsage) -> EventLog {
        var out = self
        out.usage = usage
        return out
    }
}
