/// Errors about the consent registry. Each one stops the run: consent fails closed.
public enum ConsentError: Error, Equatable, CustomStringConvertible {
    case registryMissing(path: String)
    case registryUnreadable(path: String, reason: String)
    case registryMalformed(file: String, line: Int, field: String, reason: String)
    /// A bad row of a registry read from a database: its place in the query's result.
    case registryBadRow(source: String, row: Int, field: String, reason: String)

    public var description: String {
        switch self {
        case .registryMissing(let path):
            "\(path): the consent registry does not exist; without it no data may be used, so the run stops"
        case .registryUnreadable(let path, let reason):
            "\(path): the consent registry cannot be read (\(reason)); the run stops"
        case .registryMalformed(let file, let line, let field, let reason):
            "\(file):\(line): \(field): \(reason); a consent registry with a bad row is not used, so the run stops"
        case .registryBadRow(let source, let row, let field, let reason):
            "\(source): row \(row) of the result: \(field): \(reason); a consent registry with a bad row is not used, so the run stops"
        }
    }
}

/// Errors about the pseudonymisation key. Without a key nothing may be written.
public enum KeyError: Error, Equatable, CustomStringConvertible {
    case missing(source: String)
    case unreadable(path: String, reason: String)
    case tooShort(source: String, bytes: Int)

    public var description: String {
        switch self {
        case .missing(let source):
            "no pseudonymisation key: \(source); the run stops because ids could not be pseudonymised"
        case .unreadable(let path, let reason):
            "\(path): the pseudonymisation key cannot be read (\(reason))"
        case .tooShort(let source, let bytes):
            "\(source): the pseudonymisation key has \(bytes) bytes; at least \(PseudonymKey.minimumBytes) are required"
        }
    }
}
