import Platform

/// Interns byte strings within a scope to dense indices 0, 1, 2, … in first-seen order.
///
/// An open-addressing table over one byte arena: interning an id already seen allocates
/// nothing, which is what lets the reader look up three ids per event at millions of events
/// a second. Ids stay in memory only for lookup; nothing here is ever written out.
struct ByteInterner {
    private(set) var arena: [UInt8] = []
    private var starts: [Int] = [0]
    private var scopes: [Int32] = []
    private var hashes: [UInt64] = []
    private var table: [Int32]
    private var mask: Int

    init(capacity: Int = 1024) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        table = [Int32](repeating: -1, count: size)
        mask = size - 1
    }

    var count: Int { scopes.count }

    /// The bytes of entry `index`.
    func bytes(_ index: Int) -> ArraySlice<UInt8> { arena[starts[index]..<starts[index + 1]] }

    /// The scope entry `index` was interned in.
    func scope(_ index: Int) -> Int32 { scopes[index] }

    /// The index of `bytes` in `scope`, adding it if new.
    @inline(__always)
    mutating func intern(_ bytes: UnsafeBufferPointer<UInt8>, scope: Int32) -> (index: Int32, isNew: Bool) {
        let h = Self.hash(bytes, scope: scope)
        var slot = Int(truncatingIfNeeded: h) & mask
        while true {
            let entry = table[slot]
            if entry < 0 { break }
            let e = Int(entry)
            if hashes[e] == h && scopes[e] == scope && equal(e, bytes) { return (entry, false) }
            slot = (slot + 1) & mask
        }
        let index = Int32(scopes.count)
        arena.append(contentsOf: bytes)
        starts.append(arena.count)
        scopes.append(scope)
        hashes.append(h)
        table[slot] = index
        if scopes.count * 2 > table.count { grow() }
        return (index, true)
    }

    @inline(__always)
    private func equal(_ e: Int, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let s = starts[e], n = starts[e + 1] - s
        guard n == bytes.count else { return false }
        return arena.withUnsafeBufferPointer { a in
            POSIX.equalBytes(a.baseAddress! + s, bytes.baseAddress!, count: n)
        }
    }

    private mutating func grow() {
        let size = table.count * 2
        table = [Int32](repeating: -1, count: size)
        mask = size - 1
        for (e, h) in hashes.enumerated() {
            var slot = Int(truncatingIfNeeded: h) & mask
            while table[slot] >= 0 { slot = (slot + 1) & mask }
            table[slot] = Int32(e)
        }
    }

    /// A 64-bit hash of a byte string and a scope: eight bytes at a time, then a finaliser.
    @inline(__always)
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>, scope: Int32) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ (UInt64(UInt32(bitPattern: scope)) &* 0xFF51_AFD7_ED55_8CCD)
        h ^= UInt64(bytes.count)
        var i = 0
        let n = bytes.count
        if let base = bytes.baseAddress {
            let raw = UnsafeRawPointer(base)
            while i + 8 <= n {
                let w = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                h = (h ^ w) &* 0x9FB2_1C65_1E98_DF25
                h ^= h >> 29
                i += 8
            }
            var tail: UInt64 = 0
            var shift: UInt64 = 0
            while i < n {
                tail |= UInt64(base[i]) << shift
                shift += 8
                i += 1
            }
            h = (h ^ tail) &* 0x9FB2_1C65_1E98_DF25
        }
        h ^= h >> 33
        h = h &* 0xC4CE_B9FE_1A85_EC53
        h ^= h >> 33
        return h
    }
}
