extension ReaderState {
    /// Feeds a Slack export's events through the same per-row rules as any other input:
    /// consent first, validation, retention, interning. Bad messages and files are counted
    /// as bad rows named `EXPORT:channel/day.json:N`.
    mutating func readSlackExport(_ path: String, options: SlackExport.Options) throws(IngestError) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256)
        let skipped = try SlackExport(path: path, options: options).read(
            event: { (e: SlackExport.Event) throws(IngestError) in
                bytes.removeAll(keepingCapacity: true)
                var bounds: [(Int, Int)] = []
                for field in [String(e.timestamp), e.workspace, e.user, e.channel, e.kind.name, e.emoji ?? ""] {
                    let start = bytes.count
                    bytes.append(contentsOf: field.utf8)
                    bounds.append((start, bytes.count))
                }
                try bytes.withUnsafeBufferPointer { (buffer) throws(IngestError) in
                    var values = RowValues()
                    let columns: [EventColumn] = [.timestamp, .workspaceID, .userID, .channelID, .event, .emoji]
                    for (column, (start, end)) in zip(columns, bounds) where end > start || column != .emoji {
                        values.slots[column.slot] = UnsafeBufferPointer(rebasing: buffer[start..<end])
                    }
                    try self.consume(values, path: path + ":" + e.file, line: e.message)
                }
            },
            bad: { (kind, file, line, field, reason) throws(IngestError) in
                try self.recordBad(kind, path: path + ":" + file, line: line, field: field, reason: reason)
            })
        var total = log.usage.slackSkipped ?? SlackExport.Skipped()
        total.botMessages += skipped.botMessages
        total.deletedUserEvents += skipped.deletedUserEvents
        total.systemMessages += skipped.systemMessages
        log.usage.slackSkipped = total
    }
}
