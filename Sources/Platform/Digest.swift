import Crypto
import Foundation

/// SHA-256 in lower-case hexadecimal: the one way ConsentRec writes a checksum (input files,
/// the consent registry, model files, the manifest's seal).
public enum Digest {
    /// SHA-256 of `bytes`, in hex.
    public static func sha256(_ bytes: some DataProtocol) -> String { hex(SHA256.hash(data: bytes)) }

    /// Lower-case hexadecimal of any bytes.
    public static func hex(_ bytes: some Sequence<UInt8>) -> String {
        var out = [UInt8]()
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes of an even-length string of hexadecimal digits (either case), or nil.
    public static func bytes(hex text: some StringProtocol) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(utf8.count / 2)
        for i in stride(from: 0, to: utf8.count, by: 2) {
            guard let high = value(utf8[i]), let low = value(utf8[i + 1]) else { return nil }
            out.append(high << 4 | low)
        }
        return out
    }

    private static let digits = Array("0123456789abcdef".utf8)

    private static func value(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x61...0x66: c - 0x61 + 10
        case 0x41...0x46: c - 0x41 + 10
        default: nil
        }
    }
}

/// SHA-256 of bytes that arrive in pieces (a file as it is read).
public struct StreamingDigest {
    private var hasher = SHA256()

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) { hasher.update(bufferPointer: bytes) }

    /// The hex digest of everything so far (the stream may go on).
    public func hex() -> String { Digest.hex(hasher.finalize()) }
}
