import Consent
import Crypto
import Foundation
import Platform

/// The seal that makes a run's manifest tamper-evident: HMAC-SHA-256 over the exact bytes of
/// `manifest.json`, under a key derived from the operator's pseudonymisation key, written
/// beside it as `manifest.seal`. The manifest records every model's SHA-256, so the seal
/// covers the models too; an edit to the run id, a count or a checksum, a swapped model or a
/// run written under another key all break it. Without the key nothing can be sealed, and a
/// seal cannot be forged.
///
/// `@unchecked Sendable`: swift-crypto's `SymmetricKey` is immutable but not marked `Sendable`.
public struct ManifestSeal: @unchecked Sendable {
    public static let fileName = "manifest.seal"
    static let purpose = "consentrec manifest seal v1"
    static let algorithm = "HMAC-SHA-256"

    private let key: SymmetricKey
    /// Names the key without revealing it, so a seal made under another key says so.
    public let keyID: String

    public init(pseudonymiser: Pseudonymiser) {
        key = pseudonymiser.derivedKey(purpose: Self.purpose)
        keyID = Digest.hex(Array(HMAC<SHA256>.authenticationCode(for: Data("key id".utf8), using: key)).prefix(8))
    }

    /// The seal file's bytes for a manifest's bytes.
    public func seal(_ manifest: Data) -> Data {
        let mac = Digest.hex(Array(HMAC<SHA256>.authenticationCode(for: manifest, using: key)))
        return Data("{\"algorithm\":\"\(Self.algorithm)\",\"key_id\":\"\(keyID)\",\"mac\":\"\(mac)\"}\n".utf8)
    }

    /// Why the seal does not hold for these manifest bytes, or nil when it does.
    public func problem(manifest: Data, seal: Data?) -> String? {
        guard let seal else { return "the run has no \(Self.fileName): its manifest cannot be checked" }
        struct Fields: Decodable { let algorithm: String; let key_id: String; let mac: String }
        guard let fields = try? JSONDecoder().decode(Fields.self, from: seal), fields.algorithm == Self.algorithm else {
            return "\(Self.fileName) is not a seal this version reads"
        }
        guard fields.key_id == keyID else {
            return "sealed under another key (key id \(fields.key_id); this key's id is \(keyID))"
        }
        guard let given = Digest.bytes(hex: fields.mac), given.count == 32,
            HMAC<SHA256>.isValidAuthenticationCode(given, authenticating: manifest, using: key)
        else { return "manifest.json does not match its seal: it was modified after the run was written" }
        return nil
    }
}
