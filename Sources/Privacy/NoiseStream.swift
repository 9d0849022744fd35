import Crypto
import Foundation

/// The randomness of every private release: a keyed stream, ChaCha20 under a key that only the
/// operator can derive (`NoiseSource`), so no one who reads a model can regenerate its noise and
/// subtract it, while the operator's rerun on the same inputs gives the same bytes.
///
/// Each release reads its own stream, named by a label (`"iteration 3 item_grams"`): the
/// streams are independent, and adding a release never shifts another's draws.
public struct NoiseStream {
    private let key: SymmetricKey
    private var buffer: [UInt8] = []
    private var offset = 0
    private var block: UInt64 = 0
    private var spare: Double?

    /// - Parameters:
    ///   - key: the release's noise key (`NoiseSource`).
    ///   - label: names the draw; equal labels give equal streams.
    init(key: SymmetricKey, label: String) {
        self.key = SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Data(label.utf8), using: key))
    }

    /// 64 uniformly random bits.
    public mutating func nextBits() -> UInt64 {
        if offset + 8 > buffer.count { refill() }
        var value: UInt64 = 0
        for i in 0..<8 { value |= UInt64(buffer[offset + i]) << (8 * UInt64(i)) }
        offset += 8
        return value
    }

    /// A uniform double in (0, 1]: 53 random bits, never 0 (so its logarithm is finite).
    public mutating func nextUnit() -> Double { Double((nextBits() >> 11) + 1) * 0x1p-53 }

    /// A standard normal draw (Box–Muller in Double; the second of each pair is kept for the
    /// next call).
    public mutating func gaussian() -> Double {
        if let s = spare { spare = nil; return s }
        let radius = (-2 * log(nextUnit())).squareRoot()
        let angle = 2 * Double.pi * nextUnit()
        spare = radius * sin(angle)
        return radius * cos(angle)
    }

    /// ChaCha20's keystream, 4 KiB at a time: the ciphertext of zeros (the tag is dropped).
    private mutating func refill() {
        var nonce = [UInt8](repeating: 0, count: 12)
        for i in 0..<8 { nonce[i] = UInt8(truncatingIfNeeded: block >> (8 * UInt64(i))) }
        block += 1
        let sealed = try! ChaChaPoly.seal(Data(count: 4096), using: key, nonce: ChaChaPoly.Nonce(data: nonce))
        buffer = Array(sealed.ciphertext)
        offset = 0
    }
}

/// The noise of one private release: keyed by HMAC-SHA-256, under a key derived from the
/// operator's secret, of the configured seed, a digest of everything the release is made from
/// (`dataDigest`: the pipeline's `PrivateGlobalModel.noiseContext` — inputs, registry, options,
/// configuration) and the release's name. The same inputs, seed and configuration give the same
/// noise (and so the same model bytes); any change to them gives unrelated noise, so two
/// releases never share draws that their difference would cancel. Without the secret no one can predict it:
/// the guarantee is computational, and holds while the key stays secret.
public struct NoiseSource: Sendable {
    private let key: [UInt8]

    /// - Parameter secret: the operator's key for this purpose (`PseudonymKey.derived(purpose:)`).
    public init(secret: SymmetricKey, seed: UInt64, dataDigest: String, release: String) {
        let message = "consentrec dp noise\u{0}\(seed)\u{0}\(dataDigest)\u{0}\(release)"
        key = Array(HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: secret))
    }

    /// A key of 32 raw bytes, for tests and tools that hold no operator secret.
    public init(rawKey: [UInt8]) {
        precondition(rawKey.count == 32)
        key = rawKey
    }

    /// 64 bits fixed by `label` and the key alone (the first 8 bytes of an HMAC): for choices
    /// that must be random-looking but need only one draw, such as a person's group.
    public func bits(_ label: String) -> UInt64 {
        let mac = Array(HMAC<SHA256>.authenticationCode(for: Data(label.utf8), using: SymmetricKey(data: key)))
        return (0..<8).reduce(UInt64(0)) { $0 | UInt64(mac[$1]) << (8 * UInt64($1)) }
    }

    /// The stream named `label`: independent of every other label's.
    public func stream(_ label: String) -> NoiseStream { NoiseStream(key: SymmetricKey(data: key), label: label) }
}
