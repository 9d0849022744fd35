/// A value written in JSON (and as a dictionary key) by its spelling — `"react"`,
/// `"blend:0.3"` — and read back from it, refusing any other text.
public protocol SpelledCodable: Codable {
    /// The value a spelling names, or nil.
    init?(spelling: String)
    var spelling: String { get }
}

extension SpelledCodable {
    public init(from decoder: any Decoder) throws { self = try Self.spelled(from: decoder) }

    public func encode(to encoder: any Encoder) throws { try encodeSpelling(to: encoder) }

    /// The value a decoder's string spells. A `RawRepresentable` type calls this from its own
    /// `init(from:)`, so that its raw value's coding does not win.
    public static func spelled(from decoder: any Decoder) throws -> Self {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = Self(spelling: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a \(Self.self): '\(text)'"))
        }
        return value
    }

    public func encodeSpelling(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(spelling)
    }
}
