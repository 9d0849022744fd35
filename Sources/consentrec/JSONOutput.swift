import Foundation

/// The JSON the commands print or write: pretty, keys sorted, so reports diff cleanly.
enum JSONOutput {
    static func encode(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    /// Writes beside the target and renames, so a reader never sees half a report.
    static func write(_ value: some Encodable, to path: String) throws {
        try encode(value).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
