import Platform

/// What a user did, as written in the `event` column.
public enum EventKind: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case join = 0, view, post, reply, react, leave

    public var name: String {
        switch self {
        case .join: "join"
        case .view: "view"
        case .post: "post"
        case .reply: "reply"
        case .react: "react"
        case .leave: "leave"
        }
    }

    public var description: String { name }

    public init?(name: String) {
        guard let kind = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = kind
    }

    /// Parses the ASCII name from raw bytes without making a `String`.
    @inline(__always)
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> EventKind? {
        switch bytes.count {
        case 4:
            if bytes[0] == 0x6A, bytes[1] == 0x6F, bytes[2] == 0x69, bytes[3] == 0x6E { return .join }
            if bytes[0] == 0x76, bytes[1] == 0x69, bytes[2] == 0x65, bytes[3] == 0x77 { return .view }
            if bytes[0] == 0x70, bytes[1] == 0x6F, bytes[2] == 0x73, bytes[3] == 0x74 { return .post }
        case 5:
            let word = Array(bytes)
            if word == Array("reply".utf8) { return .reply }
            if word == Array("react".utf8) { return .react }
            if word == Array("leave".utf8) { return .leave }
        default: break
        }
        return nil
    }
}

// Written by name (`"react"`), not by number, in JSON and as dictionary keys.
extension EventKind: SpelledCodable, CodingKeyRepresentable {
    public init?(spelling: String) { self.init(name: spelling) }
    public var spelling: String { name }
    // Stated here: the UInt8 raw value's coding would otherwise apply.
    public init(from decoder: any Decoder) throws { self = try Self.spelled(from: decoder) }
    public func encode(to encoder: any Encoder) throws { try encodeSpelling(to: encoder) }

    private struct Key: CodingKey {
        let stringValue: String
        init(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }

    public var codingKey: any CodingKey { Key(stringValue: name) }

    public init?<T: CodingKey>(codingKey: T) { self.init(name: codingKey.stringValue) }
}
