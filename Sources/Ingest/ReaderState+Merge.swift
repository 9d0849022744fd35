import Consent

extension ReaderState {
    /// Adds what `block` read — a later stretch of the same input, read from a fresh state —
    /// as if this state had read it itself: ids are interned in first-seen order, workspaces
    /// decided once, the block's events appended with their indices mapped, counts added.
    /// `lineOffset` is what the block's line numbers lack (0 if it numbered from the file's).
    mutating func absorb(_ block: ReaderState, lineOffset: Int) {
        let workspaceMap = absorbWorkspaces(of: block)
        func intern(_ ids: ByteInterner, into target: inout ByteInterner, scoped: Bool) -> [Int32] {
            (0..<ids.count).map { i in
                let scope = scoped ? workspaceMap[Int(ids.scope(i))] : 0
                return ids.bytes(i).withUnsafeBufferPointer { target.intern($0, scope: scope).index }
            }
        }
        let users = intern(block.userIDs, into: &userIDs, scoped: true)
        let channels = intern(block.channelIDs, into: &channelIDs, scoped: true)
        let emoji = intern(block.emojiIDs, into: &emojiIDs, scoped: false)
        let theirs = block.log
        reserve(rows: theirs.count)
        log.timestamps.append(contentsOf: theirs.timestamps)
        log.kinds.append(contentsOf: theirs.kinds)
        Self.append(theirs.workspaces, mappedBy: workspaceMap, to: &log.workspaces)
        Self.append(theirs.users, mappedBy: users, to: &log.users)
        Self.append(theirs.channels, mappedBy: channels, to: &log.channels)
        Self.append(theirs.emoji, mappedBy: emoji, to: &log.emoji)
        absorbCounts(of: theirs.usage, lineOffset: lineOffset)
    }

    /// Appends `indices` through `map` (negative indices, "none", as they are); a plain copy
    /// when the map is the identity, as it is for the first block into an empty state.
    private static func append(_ indices: [Int32], mappedBy map: [Int32], to column: inout [Int32]) {
        if map.enumerated().allSatisfy({ $0.offset == Int($0.element) }) {
            column.append(contentsOf: indices)
            return
        }
        let start = column.count
        column.append(contentsOf: repeatElement(0, count: indices.count))
        column.withUnsafeMutableBufferPointer { out in
            map.withUnsafeBufferPointer { m in
                for (k, i) in indices.enumerated() { out[start + k] = i < 0 ? i : m[Int(i)] }
            }
        }
    }

    /// Interns the block's workspace ids in its first-seen order, deciding each one new here;
    /// returns its kept-workspace slots mapped to this state's.
    private mutating func absorbWorkspaces(of block: ReaderState) -> [Int32] {
        var map = [Int32](repeating: -1, count: block.keptWorkspaceRaw.count)
        var keptIndexOfRaw = [Int: Int](minimumCapacity: block.keptWorkspaceRaw.count)
        for (slot, raw) in block.keptWorkspaceRaw.enumerated() { keptIndexOfRaw[raw] = slot }
        for i in 0..<block.workspaceIDs.count {
            let bytes = block.workspaceIDs.bytes(i)
            let (w, isNew) = bytes.withUnsafeBufferPointer { workspaceIDs.intern($0, scope: 0) }
            if isNew { bytes.withUnsafeBufferPointer { decide(Int(w), $0) } }
            if let slot = keptIndexOfRaw[i] { map[slot] = workspaceSlot[Int(w)] }
        }
        return map
    }

    private mutating func absorbCounts(of usage: DataUsage, lineOffset: Int) {
        log.usage.rowsRead += usage.rowsRead
        log.usage.badRows.absorb(usage.badRows, lineOffset: lineOffset)
        for (reason, n) in usage.eventsRemovedByConsent { log.usage.eventsRemovedByConsent[reason, default: 0] += n }
        log.usage.eventsRemovedByRetention += usage.eventsRemovedByRetention
        log.usage.eventsRemovedAsFuture += usage.eventsRemovedAsFuture
    }
}
