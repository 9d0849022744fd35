import Foundation

/// The one grammar every customer id (workspace, user, channel) must follow, wherever it comes
/// from: event logs, the consent registry, Slack exports, the command line.
///
/// An id is compared byte for byte and is case-sensitive. It is valid when it is non-empty,
/// valid UTF-8 in Unicode normalization form C, and holds none of:
/// - leading or trailing white space (`"T01 "`, a tab, a no-break space);
/// - a control character (C0, DEL, C1: NUL, tab, line feed, …), a line or paragraph separator;
/// - an invisible character: any format character or default-ignorable code point (zero-width
///   space and joiners, the byte-order mark, soft hyphen, bidirectional controls, variation
///   selectors, Hangul fillers);
/// - a double quote, which in an id is always debris of broken CSV quoting.
///
/// Such a variant could otherwise look like a registered id and slip past the consent filter; an
/// invalid id is never used: events with one are bad rows (`invalid_id`), a registry with one is
/// refused.
public enum IDGrammar {
    /// What is wrong with an id; the text never quotes the id.
    public enum Problem: String, Sendable, Equatable {
        case empty = "empty"
        case invalidUTF8 = "not valid UTF-8"
        case surroundingWhitespace = "leading or trailing white space"
        case controlCharacter = "a control character"
        case invisibleCharacter = "an invisible (zero-width, format or byte-order-mark) character"
        case quote = "a double quote"
        case notNFC = "not in Unicode normalization form C"
    }

    /// The problem with `bytes` as an id, or nil when it is a valid id.
    @inline(__always)
    public static func problem(_ bytes: UnsafeBufferPointer<UInt8>) -> Problem? {
        guard let first = bytes.first, let last = bytes.last else { return .empty }
        if first == 0x20 || last == 0x20 { return .surroundingWhitespace }
        // ASCII fast path; any other byte decides on the full checks, UTF-8 validity first.
        var control = false, quote = false
        for byte in bytes {
            if byte >= 0x80 { return unicodeProblem(bytes) }
            if byte < 0x20 || byte == 0x7F { control = true } else if byte == 0x22 { quote = true }
        }
        return control ? .controlCharacter : quote ? .quote : nil
    }

    /// The problem with `id` as an id, or nil when it is valid.
    public static func problem(_ id: String) -> Problem? {
        var copy = id
        return copy.withUTF8 { problem($0) }
    }

    /// The slow path, for ids with non-ASCII bytes.
    static func unicodeProblem(_ bytes: UnsafeBufferPointer<UInt8>) -> Problem? {
        var scalars: [Unicode.Scalar] = []
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        decoding: while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let s): scalars.append(s)
            case .emptyInput: break decoding
            case .error: return .invalidUTF8
            }
        }
        if scalars.first!.properties.isWhitespace || scalars.last!.properties.isWhitespace { return .surroundingWhitespace }
        for s in scalars {
            switch s.properties.generalCategory {
            case .control, .lineSeparator, .paragraphSeparator, .surrogate: return .controlCharacter
            case .format: return .invisibleCharacter
            default: break
            }
            if s.properties.isDefaultIgnorableCodePoint { return .invisibleCharacter }
            if s == "\"" { return .quote }
        }
        let text = String(decoding: bytes, as: UTF8.self)
        guard text.precomposedStringWithCanonicalMapping.utf8.elementsEqual(bytes) else { return .notNFC }
        return nil
    }
}
