extension ReaderState {
    /// Feeds a Slack export's events through the same per-row rules as any other input:
    /// consent first, validation, retention, interning. Bad messages and files are counted
    /// as bad rows named `EXPORT:channel/day.json:N`.
    /// - Returns: the export's checksum (`SlackExport.Outcome.sha256`).
    mutating func readSlackExport(_ path: String, options: SlackExport.Options) throws(IngestError) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256)
        let outcome = try SlackExport(path: path, options: options).read(
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
            },
            badFile: { (file: DataUsage.BadFile) throws(IngestError) in
                self.log.usage.badFiles.append(file)
                let lost = file.messagesLost.map { "\($0) message\($0 == 1 ? "" : "s") lost" } ?? "its messages lost"
                try self.recordBad(file.kind, path: file.path, line: 0, field: "file", reason: file.reason + "; " + lost, rows: max(file.messagesLost ?? 1, 1))
            })
        var total = log.usage.slackSkipped ?? SlackExport.Skipped()
        total.botMessages += outcome.skipped.botMessages
        total.deletedUserEvents += outcome.skipped.deletedUserEvents
        total.systemMessages += outcome.skipped.systemMessages
        log.usage.slackSkipped = total
        return outcome.sha256
    }
}
