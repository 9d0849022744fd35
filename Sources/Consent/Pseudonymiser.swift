import Crypto
import Foundation
import Platform

/// The operator's secret key for pseudonyms.
///
/// `@unchecked Sendable`: swift-crypto's `SymmetricKey` is an immutable value that its
/// version 3 does not mark `Sendable`.
public struct PseudonymKey: @unchecked Sendable {
    public static let minimumBytes = 32
    /// The environment variable the key may be given in.
    public static let environmentVariable = "CONSENTREC_PSEUDONYM_KEY"

    let key: SymmetricKey

    /// A key from raw bytes.
    /// - Throws: `KeyError.tooShort` under 32 bytes.
    public init(bytes: [UInt8], source: String) throws(KeyError) {
        guard bytes.count >= Self.minimumBytes else { throw .tooShort(source: source, bytes: bytes.count) }
        key = SymmetricKey(data: bytes)
    }

    /// Reads the key from a file (its bytes, a trailing newline removed) or, with no file,
    /// from `CONSENTREC_PSEUDONYM_KEY`.
    /// - Throws: `KeyError` when neither gives a key of at least 32 bytes.
    public static func load(file: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws(KeyError) -> PseudonymKey {
        if let file {
            var bytes: [UInt8]
            do throws(SmallFileError) {
                bytes = try POSIX.readSmallFile(file, maxBytes: 4096)
            } catch {
                if error == .system(.noSuchFile) { throw .missing(source: "the key file \(file) does not exist") }
                throw .unreadable(path: file, reason: "\(error)")
            }
            while let last = bytes.last, last == 0x0A || last == 0x0D { bytes.removeLast() }
            return try PseudonymKey(bytes: bytes, source: file)
        }
        guard let value = environment[environmentVariable], !value.isEmpty else {
            throw .missing(source: "give --key-file or set \(environmentVariable)")
        }
        // A trailing newline is dropped as it is from a file: `export K="$(cat key)"` and a
        // Kubernetes secret made from the file must give the same key as the file itself.
        var bytes = Array(value.utf8)
        while let last = bytes.last, last == 0x0A || last == 0x0D { bytes.removeLast() }
        return try PseudonymKey(bytes: bytes, source: environmentVariable)
    }

    /// A key for another purpose (HKDF-SHA-256 with the purpose as its info), so one operator
    /// secret serves pseudonyms and manifest seals without one use revealing the other's key.
    public func derived(purpose: String) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: key, info: Data(purpose.utf8), outputByteCount: 32)
    }
}

/// Replaces customer ids by keyed hashes: HMAC-SHA-256 under the operator's key, truncated to
/// 128 bits and written as 32 hex digits.
///
/// Domain separation (scheme 2): the message is `kind`, the scope and the id, each preceded by
/// its length as a 4-byte big-endian integer. The kind is `workspace`, `user` or `channel`; the
/// scope is the raw workspace id for users and channels (empty for workspaces). Length prefixes
/// make the message an unambiguous encoding of the triple, whatever bytes the ids hold: the same
/// user id in two workspaces, a user and a channel with the same id, or two (workspace, user)
/// pairs that concatenate alike never share a pseudonym.
///
/// Scheme 1 (before ConsentRec 0.2) joined the fields with NUL bytes, which ids may contain.
/// Runs record the scheme in their manifest; see docs/privacy.md for the migration.
public struct Pseudonymiser: @unchecked Sendable {
    public enum Kind: String, Sendable { case workspace, user, channel }

    /// The version of the pseudonym scheme, recorded in every manifest.
    public static let scheme = 2

    private let key: SymmetricKey

    private let operatorKey: PseudonymKey

    public init(key: PseudonymKey) {
        self.key = key.key
        operatorKey = key
    }

    /// A key derived from the operator's key for another purpose (see `PseudonymKey.derived`).
    public func derivedKey(purpose: String) -> SymmetricKey { operatorKey.derived(purpose: purpose) }

    public func pseudonym(_ kind: Kind, _ id: some Collection<UInt8>, workspace: some Collection<UInt8>) -> String {
        var message = [UInt8]()
        message.reserveCapacity(kind.rawValue.utf8.count + workspace.count + id.count + 12)
        Self.appendField(kind.rawValue.utf8, to: &message)
        if kind == .workspace { Self.appendField(EmptyCollection(), to: &message) } else { Self.appendField(workspace, to: &message) }
        Self.appendField(id, to: &message)
        let mac = HMAC<SHA256>.authenticationCode(for: message, using: key)
        return Digest.hex(mac.prefix(16))
    }

    @inline(__always)
    static func appendField(_ field: some Collection<UInt8>, to message: inout [UInt8]) {
        let n = UInt32(field.count)
        message.append(contentsOf: [UInt8(n >> 24), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)])
        message.append(contentsOf: field)
    }

    /// The pseudonym of a workspace.
    public func workspace(_ id: String) -> String { pseudonym(.workspace, Array(id.utf8), workspace: [UInt8]()) }
    /// The pseudonym of a user of a workspace.
    public func user(_ id: String, workspace: String) -> String { pseudonym(.user, Array(id.utf8), workspace: Array(workspace.utf8)) }
    /// The pseudonym of a channel of a workspace.
    public func channel(_ id: String, workspace: String) -> String { pseudonym(.channel, Array(id.utf8), workspace: Array(workspace.utf8)) }
}
