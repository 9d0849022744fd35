/// Bytes one rank of a distributed run sends another: fixed-width little-endian numbers,
/// arrays with their counts first, strings as UTF-8 with their lengths. Nothing self-describing:
/// both sides run the same build, and a message that ends early or runs long is an error, never
/// a partial value.
public struct WireWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public mutating func int(_ v: Int) { int64(Int64(v)) }
    public mutating func int64(_ v: Int64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    public mutating func uint64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    public mutating func double(_ v: Double) { uint64(v.bitPattern) }
    public mutating func bool(_ v: Bool) { bytes.append(v ? 1 : 0) }

    public mutating func string(_ s: String) {
        var s = s
        s.withUTF8 { utf8 in
            int(utf8.count)
            bytes.append(contentsOf: utf8)
        }
    }

    public mutating func strings(_ list: [String]) {
        int(list.count)
        for s in list { string(s) }
    }

    public mutating func blob(_ b: [UInt8]) {
        int(b.count)
        bytes.append(contentsOf: b)
    }

    /// A column of fixed-width numbers, stored as they are in memory (little-endian on every
    /// machine this runs on: x86-64).
    public mutating func column<T: FixedWidthInteger>(_ values: [T]) {
        int(values.count)
        values.withUnsafeBytes { bytes.append(contentsOf: $0) }
    }

    public mutating func floats(_ values: [Float]) {
        int(values.count)
        values.withUnsafeBytes { bytes.append(contentsOf: $0) }
    }

    public mutating func doubles(_ values: [Double]) {
        int(values.count)
        values.withUnsafeBytes { bytes.append(contentsOf: $0) }
    }
}

/// Reads what a `WireWriter` wrote, in the same order.
public struct WireReader: Sendable {
    public struct Malformed: Error, CustomStringConvertible {
        public let offset: Int
        public let reason: String
        public var description: String { "a message between ranks is malformed at byte \(offset): \(reason)" }
        public init(offset: Int, reason: String) {
            self.offset = offset
            self.reason = reason
        }
    }

    private let bytes: [UInt8]
    public private(set) var offset = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var isAtEnd: Bool { offset == bytes.count }

    /// Fails unless every byte was read.
    public func finish() throws(Malformed) {
        guard isAtEnd else { throw Malformed(offset: offset, reason: "\(bytes.count - offset) bytes left over") }
    }

    private mutating func take(_ n: Int) throws(Malformed) -> ArraySlice<UInt8> {
        guard n >= 0, n <= bytes.count - offset else { throw Malformed(offset: offset, reason: "needs \(n) bytes, \(bytes.count - offset) left") }
        defer { offset += n }
        return bytes[offset..<offset + n]
    }

    public mutating func uint64() throws(Malformed) -> UInt64 {
        let slice = try take(8)
        var v: UInt64 = 0
        for (i, b) in slice.enumerated() { v |= UInt64(b) << (8 * UInt64(i)) }
        return v
    }

    public mutating func int64() throws(Malformed) -> Int64 { Int64(bitPattern: try uint64()) }
    public mutating func double() throws(Malformed) -> Double { Double(bitPattern: try uint64()) }

    public mutating func int() throws(Malformed) -> Int {
        let v = try int64()
        guard let n = Int(exactly: v) else { throw Malformed(offset: offset, reason: "\(v) out of range") }
        return n
    }

    /// A count: non-negative and no larger than the bytes left could hold at `width` each.
    private mutating func count(width: Int) throws(Malformed) -> Int {
        let n = try int()
        guard n >= 0, n <= (bytes.count - offset) / max(width, 1) else { throw Malformed(offset: offset, reason: "count \(n) exceeds the message") }
        return n
    }

    public mutating func bool() throws(Malformed) -> Bool {
        switch try take(1).first! {
        case 0: false
        case 1: true
        case let b: throw Malformed(offset: offset - 1, reason: "\(b) is not a Boolean")
        }
    }

    public mutating func string() throws(Malformed) -> String {
        let n = try count(width: 1)
        let slice = try take(n)
        guard let s = String(validating: slice, as: UTF8.self) else { throw Malformed(offset: offset - n, reason: "not UTF-8") }
        return s
    }

    public mutating func strings() throws(Malformed) -> [String] {
        let n = try count(width: 8)
        var out: [String] = []
        out.reserveCapacity(n)
        for _ in 0..<n { out.append(try string()) }
        return out
    }

    public mutating func blob() throws(Malformed) -> [UInt8] { Array(try take(try count(width: 1))) }

    public mutating func column<T: FixedWidthInteger>(_: T.Type = T.self) throws(Malformed) -> [T] {
        let n = try count(width: MemoryLayout<T>.size)
        let slice = try take(n * MemoryLayout<T>.size)
        return [T](unsafeUninitializedCapacity: n) { buffer, initialised in
            slice.withUnsafeBytes { raw in UnsafeMutableRawBufferPointer(buffer).copyMemory(from: raw) }
            initialised = n
        }
    }

    public mutating func floats() throws(Malformed) -> [Float] { try column(UInt32.self).map(Float.init(bitPattern:)) }
    public mutating func doubles() throws(Malformed) -> [Double] { try column(UInt64.self).map(Double.init(bitPattern:)) }
}
