import Consent
import Platform

/// The mutable state of one read: interners, the consent decision per workspace, the log.
struct ReaderState {
    let options: IngestOptions
    let registry: ConsentRegistry
    let oldest: Int64?
    var log: EventLog

    /// Every workspace id seen, kept or not (for the consent decision cache only).
    var workspaceIDs = ByteInterner(capacity: 1024)
    /// Per interned workspace: its index in the log, or −1 − reason for an excluded one.
    var workspaceSlot: [Int32] = []
    var keptWorkspaceRaw: [Int] = []  // log index → workspaceIDs index
    /// Interned workspace ids outside the id grammar, and what is wrong with each.
    var invalidWorkspaces: [Int32: IDGrammar.Problem] = [:]
    /// `workspaceSlot` of a workspace id outside the id grammar.
    static let invalidSlot = Int32.min
    var userIDs = ByteInterner(capacity: 1 << 16)
    var channelIDs = ByteInterner(capacity: 1 << 12)
    var emojiIDs = ByteInterner(capacity: 1 << 10)
    init(options: IngestOptions, registry: ConsentRegistry) {
        self.options = options
        self.registry = registry
        oldest = options.oldestAllowed
        log = EventLog(policy: options.policy)
    }

    static let exclusionCodes = ConsentExclusion.allCases

    /// Makes room for about `rows` more events at once, instead of growing (and copying) the
    /// columns many times on a large file.
    mutating func reserve(rows: Int) {
        let capacity = log.count + rows
        log.timestamps.reserveCapacity(capacity)
        log.workspaces.reserveCapacity(capacity)
        log.users.reserveCapacity(capacity)
        log.channels.reserveCapacity(capacity)
        log.kinds.reserveCapacity(capacity)
        log.emoji.reserveCapacity(capacity)
    }

    mutating func readRows(_ reader: RowReader, progress: (Int, Int) -> Void) throws(IngestError) {
        var nextProgress = log.usage.rowsRead + 1_000_000
        var values = RowValues()
        while true {
            switch try reader.next(&values) {
            case .end:
                progress(log.usage.rowsRead, log.count)
                return
            case .bad(let badLine, let kind, let field, let reason):
                log.usage.rowsRead += 1
                try bad(kind, reader.path, badLine, field, reason)
            case .row(let rowLine):
                try consume(values, path: reader.path, line: rowLine)
            }
            if log.usage.rowsRead >= nextProgress {
                progress(log.usage.rowsRead, log.count)
                nextProgress += 1_000_000
            }
        }
    }

    /// Counts a row that a source found bad before it had values (a malformed file, say).
    mutating func recordBad(_ kind: BadRowKind, path: String, line: Int, field: String, reason: String, rows: Int = 1) throws(IngestError) {
        log.usage.rowsRead += rows
        try bad(kind, path, line, field, reason, rows: rows)
    }

    /// One row, by the rules: consent, then validation, then retention, then interning.
    mutating func consume(_ values: RowValues, path: String, line: Int) throws(IngestError) {
        let maxField = options.maxFieldBytes
        log.usage.rowsRead += 1
        // 1. Consent, before any other field is looked at.
        guard let workspace = values[.workspaceID], !workspace.isEmpty else {
            return try bad(.emptyID, path, line, "workspace_id", "empty")
        }
        guard workspace.count <= maxField else { return try bad(.overlongField, path, line, "workspace_id", "longer than \(maxField) bytes") }
        let (w, isNew) = workspaceIDs.intern(workspace, scope: 0)
        if isNew { decide(Int(w), workspace) }
        let slot = workspaceSlot[Int(w)]
        if slot == Self.invalidSlot { return try badID(invalidWorkspaces[w]!, path, line, "workspace_id") }
        if slot < 0 {
            log.usage.eventsRemovedByConsent[Self.exclusionCodes[Int(-1 - slot)], default: 0] += 1
            return
        }

        // 2. The other fields.
        guard let timeField = values[.timestamp], let time = Timestamp.parse(timeField) else {
            return try bad(.timestamp, path, line, "timestamp", "not RFC 3339 or Unix seconds")
        }
        guard let eventField = values[.event], let kind = EventKind.parse(eventField) else {
            return try bad(.unknownEvent, path, line, "event", "not one of join, view, post, reply, react, leave")
        }
        guard let user = values[.userID], !user.isEmpty else { return try bad(.emptyID, path, line, "user_id", "empty") }
        guard let channel = values[.channelID], !channel.isEmpty else { return try bad(.emptyID, path, line, "channel_id", "empty") }
        guard user.count <= maxField else { return try bad(.overlongField, path, line, "user_id", "longer than \(maxField) bytes") }
        guard channel.count <= maxField else { return try bad(.overlongField, path, line, "channel_id", "longer than \(maxField) bytes") }
        if let problem = IDGrammar.problem(user) { return try badID(problem, path, line, "user_id") }
        if let problem = IDGrammar.problem(channel) { return try badID(problem, path, line, "channel_id") }
        let emoji = values[.emoji].map(Self.trimColons) ?? UnsafeBufferPointer(start: nil, count: 0)
        if emoji.count > maxField { return try bad(.overlongField, path, line, "emoji", "longer than \(maxField) bytes") }
        // An emoji name follows the id grammar too: no control, invisible or bidirectional
        // characters, no quotes, NFC — it is rendered to users and shared across workspaces.
        if !emoji.isEmpty, let problem = IDGrammar.problem(emoji) { return try badID(problem, path, line, "emoji") }
        if kind == .react && emoji.isEmpty { return try bad(.reactWithoutEmoji, path, line, "emoji", "a react event needs an emoji") }

        // 3. Retention.
        if time > options.asOf { log.usage.eventsRemovedAsFuture += 1; return }
        if let oldest, time < oldest { log.usage.eventsRemovedByRetention += 1; return }

        // 4. Intern and keep.
        let u = userIDs.intern(user, scope: slot).index
        let c = channelIDs.intern(channel, scope: slot).index
        let e: Int32 = emoji.isEmpty ? -1 : emojiIDs.intern(emoji, scope: 0).index
        log.timestamps.append(time)
        log.workspaces.append(slot)
        log.users.append(u)
        log.channels.append(c)
        log.kinds.append(kind)
        log.emoji.append(e)
    }

    /// Records the consent decision for a newly seen workspace. An id outside the id grammar
    /// is never decided on: its rows are bad, whatever the registry says of look-alike ids.
    mutating func decide(_ w: Int, _ workspace: UnsafeBufferPointer<UInt8>) {
        if let problem = IDGrammar.problem(workspace) {
            workspaceSlot.append(Self.invalidSlot)
            invalidWorkspaces[Int32(w)] = problem
            return
        }
        let id = String(decoding: workspace, as: UTF8.self)
        if let reason = registry.exclusion(of: id, policy: options.policy) {
            let code = Int32(Self.exclusionCodes.firstIndex(of: reason)!)
            workspaceSlot.append(-1 - code)
            log.usage.workspacesRemovedByConsent[reason, default: 0] += 1
        } else {
            workspaceSlot.append(Int32(keptWorkspaceRaw.count))
            keptWorkspaceRaw.append(w)
        }
    }

    /// Counts a row whose id breaks the id grammar.
    private mutating func badID(_ problem: IDGrammar.Problem, _ path: String, _ line: Int, _ field: String) throws(IngestError) {
        switch problem {
        case .empty: try bad(.emptyID, path, line, field, "empty")
        case .invalidUTF8: try bad(.invalidUTF8, path, line, field, "not valid UTF-8")
        default: try bad(.invalidID, path, line, field, problem.rawValue)
        }
    }

    private mutating func bad(_ kind: BadRowKind, _ path: String, _ line: Int, _ field: String, _ reason: String, rows: Int = 1) throws(IngestError) {
        log.usage.badRows.record(kind, file: path, line: line, field: field, reason: reason, rows: rows)
        // The absolute limit can fail the run early; the fraction needs the whole count.
        if let maxCount = options.badRowLimit.maxCount, log.usage.badRows.total > maxCount {
            throw .tooManyBadRows(summary: log.usage.badRows.summary + " after \(log.usage.rowsRead) rows", examples: log.usage.badRows.examples)
        }
    }

    /// Pseudonymises every distinct id once and fills the vocabulary and the counts.
    mutating func finish(pseudonymiser: Pseudonymiser) -> EventLog {
        var vocabulary = Vocabulary()
        vocabulary.workspaces = keptWorkspaceRaw.map { pseudonymiser.pseudonym(.workspace, workspaceIDs.bytes($0), workspace: [UInt8]()) }
        func raw(_ scope: Int32) -> ArraySlice<UInt8> { workspaceIDs.bytes(keptWorkspaceRaw[Int(scope)]) }
        vocabulary.users = (0..<userIDs.count).map { pseudonymiser.pseudonym(.user, userIDs.bytes($0), workspace: raw(userIDs.scope($0))) }
        vocabulary.userWorkspace = (0..<userIDs.count).map { userIDs.scope($0) }
        vocabulary.channels = (0..<channelIDs.count).map {
            pseudonymiser.pseudonym(.channel, channelIDs.bytes($0), workspace: raw(channelIDs.scope($0)))
        }
        vocabulary.channelWorkspace = (0..<channelIDs.count).map { channelIDs.scope($0) }
        if options.keepChannelIDsForDisplay {
            log.displayChannelIDs = (0..<channelIDs.count).map { String(decoding: channelIDs.bytes($0), as: UTF8.self) }
        }
        vocabulary.emoji = (0..<emojiIDs.count).map { String(decoding: emojiIDs.bytes($0), as: UTF8.self) }
        log.vocabulary = vocabulary
        log.usage.eventsKept = log.count
        // A workspace is kept if any of its events survived every filter.
        log.usage.workspacesKept = Set(log.workspaces).count
        log.usage.usersKept = userIDs.count
        log.usage.channelsKept = channelIDs.count
        log.usage.emojiKept = emojiIDs.count
        return log
    }

    @inline(__always)
    static func trimColons(_ b: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        var s = 0, e = b.count
        if e - s >= 2, b[s] == 0x3A, b[e - 1] == 0x3A { s += 1; e -= 1 }
        return UnsafeBufferPointer(rebasing: b[s..<e])
    }
}
