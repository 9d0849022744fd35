import Foundation

/// Checks a config's text for what the TOML library (toml++ inside TOMLKit) does not report
/// but asserts on, aborting the process: each was found by fuzzing (docs/reliability.md). Each
/// check returns the line and column of the first offending place, or nil; the config reader
/// turns it into a syntax error before the library sees the text.
enum TOMLPrecheck {
    /// The line and column of a table header whose name starts with a character no key may
    /// start with (`[%x]`), or nil. The TOML library (toml++ in TOMLKit) asserts on such a
    /// header instead of reporting it, which would abort the process; found by fuzzing.
    static func badTableHeader(_ text: String) -> (Int, Int)? {
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let scalars = Array(line.unicodeScalars)
            var i = 0
            func skipBlanks() {
                while i < scalars.count, (scalars[i].properties.isWhitespace && !"\r\u{0B}\u{0C}\u{85}\u{2028}\u{2029}".unicodeScalars.contains(scalars[i]))
                    || scalars[i] == "\u{FEFF}" { i += 1 }
            }
            skipBlanks()  // a byte-order mark or any Unicode space, which the library may step over too
            guard i < scalars.count, scalars[i] == "[" else { continue }
            i += 1
            skipBlanks()
            if i < scalars.count, scalars[i] == "[" { i += 1; skipBlanks() }
            guard i < scalars.count else { return (index + 1, i + 1) }  // a line that ends after `[`
            let c = scalars[i]
            let allowed = (c.isASCII && (c.properties.isAlphabetic || ("0"..."9").contains(c))) || "_-\"']".unicodeScalars.contains(c)
            if !allowed { return (index + 1, i + 1) }
        }
        return nil
    }

    /// The line and column of a TOML date or time value (`2026-11-20`, `07:32:00`) outside
    /// strings and comments, or nil. No key of the config takes one, and the TOML library
    /// asserts (aborts) on some malformed ones instead of reporting them; found by fuzzing.
    static func dateTimeValue(_ text: String) -> (Int, Int)? {
        let b = Array(text.utf8)
        var i = 0, line = 1, lineStart = 0
        func digit(_ k: Int) -> Bool { k < b.count && b[k] >= 0x30 && b[k] <= 0x39 }
        while i < b.count {
            switch b[i] {
            case 0x0A: line += 1; lineStart = i + 1; i += 1
            case 0x23: while i < b.count && b[i] != 0x0A { i += 1 }  // a comment
            case 0x22, 0x27: skipString(b, &i, &line, &lineStart)
            default:
                // `DD:` or `DDDD-` after a non-word character: a time or a date.
                let starts = i == 0 || !(b[i - 1] == 0x5F || (b[i - 1] | 0x20) >= 0x61 && (b[i - 1] | 0x20) <= 0x7A || digit(i - 1))
                if starts && digit(i) && digit(i + 1) && ((i + 2 < b.count && b[i + 2] == 0x3A) || (digit(i + 2) && digit(i + 3) && i + 4 < b.count && b[i + 4] == 0x2D)) {
                    return (line, i - lineStart + 1)
                }
                i += 1
            }
        }
        return nil
    }

    /// The line and column of an array element or inline-table entry that starts with `,` or
    /// `}` (`[}`, `[1,,2]`, `{,`), or of an inline-table entry that does not start with a key,
    /// outside strings and comments; or nil. The TOML library asserts on these too.
    static func misplacedSeparator(_ text: String) -> (Int, Int)? {
        let b = Array(text.utf8)
        var i = 0, line = 1, lineStart = 0
        var open: [UInt8] = []  // `[` or `{`
        var expectingEntry: UInt8? = nil  // the bracket whose next entry must start here
        var justOpened = false  // no entry yet since the bracket opened: `{ }` is an empty table
        while i < b.count {
            let c = b[i]
            if c == 0x0A { line += 1; lineStart = i + 1; i += 1; continue }
            if c == 0x20 || c == 0x09 || c == 0x0D { i += 1; continue }
            if c == 0x23 { while i < b.count && b[i] != 0x0A { i += 1 }; continue }
            if let context = expectingEntry {
                expectingEntry = nil
                let keyStart = c == 0x22 || c == 0x27 || c == 0x5F || c == 0x2D || (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7A || (c >= 0x30 && c <= 0x39)
                let bad = context == 0x5B ? (c == 0x2C || c == 0x7D) : !(keyStart || (c == 0x7D && justOpened))
                if bad { return (line, i - lineStart + 1) }
            }
            switch c {
            case 0x22, 0x27:
                skipString(b, &i, &line, &lineStart)
                continue
            case 0x5B, 0x7B: open.append(c); expectingEntry = c
            case 0x5D, 0x7D: _ = open.popLast()
            case 0x2C: if let context = open.last { expectingEntry = context }
            default: break
            }
            justOpened = c == 0x5B || c == 0x7B
            i += 1
        }
        return nil
    }

    /// Steps over a string at `i` — basic (with escapes) or literal, single- or triple-quoted —
    /// counting the lines it spans.
    static func skipString(_ b: [UInt8], _ i: inout Int, _ line: inout Int, _ lineStart: inout Int) {
        let quote = b[i]
        let triple = i + 2 < b.count && b[i + 1] == quote && b[i + 2] == quote
        i += triple ? 3 : 1
        while i < b.count {
            if quote == 0x22 && b[i] == 0x5C { i += 2; continue }
            if b[i] == 0x0A { line += 1; lineStart = i + 1; if !triple { break } }
            if b[i] == quote && (!triple || (i + 2 < b.count && b[i + 1] == quote && b[i + 2] == quote)) { i += triple ? 3 : 1; break }
            i += 1
        }
    }
}
