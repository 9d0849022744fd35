extension RowReader {
    /// Parses one JSON Lines record: a flat object whose keys are schema columns (or ignored
    /// columns, whose values of any type are stepped over unread).
    /// - Throws: `IngestError.unknownColumn` for a key outside the schema and the ignore list.
    func parseJSONLine(_ values: inout RowValues) throws(IngestError) -> ParseOutcome {
        let base = UnsafePointer(buffer.baseAddress!.assumingMemoryBound(to: UInt8.self))
        var lineEnd = start
        while lineEnd < end && base[lineEnd] != 0x0A { lineEnd += 1 }
        if lineEnd == end && !eof { return .incomplete }
        if lineEnd == start && lineEnd == end { return eof ? .empty : .incomplete }
        let rowLine = line
        let lineStart = start
        start = min(lineEnd + 1, end)
        line += 1
        var parser = JSONObjectParser(base: base, position: lineStart, end: lineEnd, scratch: scratch, scratchUsed: scratchUsed)
        parser.skipWhitespace()
        if parser.position == lineEnd { return .empty }  // blank line
        do throws(JSONRowError) {
            try parser.parseObject { (key: String, parser: inout JSONObjectParser) throws(JSONRowError) in
                if let slot = schema.slot(named: key) {
                    if values.slots[slot] != nil { throw JSONRowError.malformed(field: key, reason: "the key appears twice") }
                    values.slots[slot] = try parser.parseScalar(field: key)
                } else if ignored.contains(key.lowercased()) {
                    try parser.skipValue()
                } else {
                    throw JSONRowError.unknownKey(key)
                }
            }
        } catch {
            switch error {
            case .unknownKey(let key): throw .unknownColumn(file: path, line: rowLine, column: key, schema: schema.unknownColumnNote)
            case .malformed(let field, let reason):
                // A key outside the schema is data, never echoed: the fault is the row's.
                let named = schema.slot(named: field) != nil || ignored.contains(field.lowercased())
                return .malformed(line: rowLine, field: named ? field : "row", reason: reason)
            }
        }
        scratchUsed = parser.scratchUsed
        for slot in schema.required where values.slots[slot] == nil {
            return .malformed(line: rowLine, field: schema.columns[slot], reason: "missing")
        }
        return .record(line: rowLine, fields: 0)
    }
}

enum JSONRowError: Error {
    case unknownKey(String)
    case malformed(field: String, reason: String)
}

/// A small JSON parser over bytes for one flat object per line.
struct JSONObjectParser {
    let base: UnsafePointer<UInt8>
    var position: Int
    let end: Int
    let scratch: UnsafeMutablePointer<UInt8>
    var scratchUsed: Int

    mutating func skipWhitespace() {
        while position < end, base[position] == 0x20 || base[position] == 0x09 || base[position] == 0x0D || base[position] == 0x0A { position += 1 }
    }

    private func fail(_ field: String, _ reason: String) -> JSONRowError { .malformed(field: field, reason: reason) }

    mutating func parseObject(_ member: (String, inout JSONObjectParser) throws(JSONRowError) -> Void) throws(JSONRowError) {
        try parseObjectValue(member)
        skipWhitespace()
        guard position == end else { throw fail("row", "text after the object") }
    }

    /// An object at `position`, members handed to `member`; what follows is left unread.
    mutating func parseObjectValue(_ member: (String, inout JSONObjectParser) throws(JSONRowError) -> Void) throws(JSONRowError) {
        skipWhitespace()
        guard position < end, base[position] == 0x7B else { throw fail("row", "a line must be one JSON object") }
        position += 1
        skipWhitespace()
        if position < end, base[position] == 0x7D {
            position += 1
        } else {
            while true {
                skipWhitespace()
                guard let keyBytes = try parseString(field: "key") else { throw fail("row", "expected a key") }
                let key = String(decoding: keyBytes, as: UTF8.self)
                skipWhitespace()
                guard position < end, base[position] == 0x3A else { throw fail(key, "expected ':' after the key") }
                position += 1
                skipWhitespace()
                try member(key, &self)
                skipWhitespace()
                guard position < end else { throw fail("row", "the object is not closed") }
                if base[position] == 0x2C { position += 1; continue }
                if base[position] == 0x7D { position += 1; break }
                throw fail(key, "expected ',' or '}' after the value")
            }
        }
    }

    /// An array at `position`, each element handed to `element` (which must consume it).
    mutating func parseArray(_ element: (inout JSONObjectParser) throws(JSONRowError) -> Void) throws(JSONRowError) {
        skipWhitespace()
        guard position < end, base[position] == 0x5B else { throw fail("row", "expected an array") }
        position += 1
        skipWhitespace()
        if position < end, base[position] == 0x5D { position += 1; return }
        while true {
            skipWhitespace()
            try element(&self)
            skipWhitespace()
            guard position < end else { throw fail("row", "the array is not closed") }
            if base[position] == 0x2C { position += 1; continue }
            if base[position] == 0x5D { position += 1; return }
            throw fail("row", "expected ',' or ']' in an array")
        }
    }

    /// A string or number as text, or nil for anything else (which is stepped over).
    mutating func scalarText(field: String) throws(JSONRowError) -> String? {
        guard position < end else { throw fail(field, "a value is missing") }
        let b = base[position]
        if b == 0x22 || b == 0x2D || (b &- 48) < 10 {
            return try parseScalar(field: field).map { String(decoding: $0, as: UTF8.self) }
        }
        if b == 0x74 { guard matchLiteral("true") else { throw fail(field, "not a JSON value") }; return "true" }
        try skipValue()
        return nil
    }

    /// A string's bytes (unescaped), a number's text, or nil for `null`.
    mutating func parseScalar(field: String) throws(JSONRowError) -> UnsafeBufferPointer<UInt8>? {
        guard position < end else { throw fail(field, "a value is missing") }
        let b = base[position]
        if b == 0x22 { return try parseString(field: field) }
        if b == 0x6E {
            guard matchLiteral("null") else { throw fail(field, "not a JSON value") }
            return nil
        }
        if b == 0x2D || (b &- 48) < 10 {
            let s = position
            position += 1
            while position < end, base[position] == 0x2E || base[position] == 0x65 || base[position] == 0x45
                || base[position] == 0x2B || base[position] == 0x2D || (base[position] &- 48) < 10 { position += 1 }
            return UnsafeBufferPointer(start: base + s, count: position - s)
        }
        throw fail(field, "must be a string or a number")
    }

    mutating func matchLiteral(_ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        guard end - position >= n else { return false }
        for i in 0..<n where base[position + i] != word.utf8Start[i] { return false }
        position += n
        return true
    }

    /// Parses a string at `position`; nil if there is none there.
    mutating func parseString(field: String) throws(JSONRowError) -> UnsafeBufferPointer<UInt8>? {
        guard position < end, base[position] == 0x22 else { return nil }
        position += 1
        let s = position
        while position < end {
            let b = base[position]
            if b == 0x22 {
                let value = UnsafeBufferPointer(start: base + s, count: position - s)
                position += 1
                return value
            }
            if b == 0x5C { return try parseEscapedString(from: s, field: field) }
            if b < 0x20 { throw fail(field, "a control character inside a string") }
            position += 1
        }
        throw fail(field, "a string is not closed")
    }

    private mutating func parseEscapedString(from s: Int, field: String) throws(JSONRowError) -> UnsafeBufferPointer<UInt8> {
        // The unescaped string is never longer than its escaped form, and the scratch holds a
        // whole buffer, so it fits.
        let outStart = scratchUsed
        var out = outStart
        var i = s
        while i < end {
            let b = base[i]
            if b == 0x22 {
                position = i + 1
                scratchUsed = out
                return UnsafeBufferPointer(start: scratch + outStart, count: out - outStart)
            }
            if b == 0x5C {
                guard i + 1 < end else { break }
                let e = base[i + 1]
                i += 2
                switch e {
                case 0x22, 0x5C, 0x2F: scratch[out] = e; out += 1
                case 0x62: scratch[out] = 0x08; out += 1
                case 0x66: scratch[out] = 0x0C; out += 1
                case 0x6E: scratch[out] = 0x0A; out += 1
                case 0x72: scratch[out] = 0x0D; out += 1
                case 0x74: scratch[out] = 0x09; out += 1
                case 0x75:
                    guard var code = hex4(at: i) else { throw fail(field, "a bad \\u escape") }
                    i += 4
                    if (0xD800..<0xDC00).contains(code) {
                        guard i + 6 <= end, base[i] == 0x5C, base[i + 1] == 0x75, let low = hex4(at: i + 2),
                            (0xDC00..<0xE000).contains(low)
                        else { throw fail(field, "an unpaired surrogate in a \\u escape") }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        i += 6
                    } else if (0xDC00..<0xE000).contains(code) {
                        throw fail(field, "an unpaired surrogate in a \\u escape")
                    }
                    for byte in String(Character(Unicode.Scalar(code)!)).utf8 { scratch[out] = byte; out += 1 }
                default:
                    throw fail(field, "an unknown escape")
                }
                continue
            }
            if b < 0x20 { throw fail(field, "a control character inside a string") }
            scratch[out] = b
            out += 1
            i += 1
        }
        throw fail(field, "a string is not closed")
    }

    private func hex4(at i: Int) -> UInt32? {
        guard i + 4 <= end else { return nil }
        var v: UInt32 = 0
        for k in 0..<4 {
            let c = base[i + k]
            let d: UInt8
            switch c {
            case 0x30...0x39: d = c - 0x30
            case 0x41...0x46: d = c - 0x41 + 10
            case 0x61...0x66: d = c - 0x61 + 10
            default: return nil
            }
            v = v << 4 | UInt32(d)
        }
        return v
    }

    /// Steps over any value (an ignored column), nested objects and arrays included.
    mutating func skipValue() throws(JSONRowError) {
        guard position < end else { throw fail("row", "a value is missing") }
        switch base[position] {
        case 0x22:
            _ = try parseString(field: "ignored")
        case 0x7B, 0x5B:
            var depth = 0
            while position < end {
                let b = base[position]
                if b == 0x22 { _ = try parseString(field: "ignored"); continue }
                if b == 0x7B || b == 0x5B { depth += 1 }
                if b == 0x7D || b == 0x5D {
                    depth -= 1
                    if depth == 0 { position += 1; return }
                }
                position += 1
            }
            throw fail("row", "an ignored value is not closed")
        case 0x74:
            guard matchLiteral("true") else { throw fail("row", "not a JSON value") }
        case 0x66:
            guard matchLiteral("false") else { throw fail("row", "not a JSON value") }
        default:
            _ = try parseScalar(field: "ignored")
        }
    }
}
