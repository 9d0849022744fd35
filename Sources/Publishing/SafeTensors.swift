import Foundation

/// The safetensors format, for `F32` tensors: an 8-byte little-endian header length, a JSON
/// header (`dtype`, `shape`, `data_offsets` per tensor, and `__metadata__` of string values),
/// then the tensor bytes. Readable with Python's `safetensors` or numpy in a few lines.
///
/// The writer is deterministic: tensors in name order, header keys sorted, no whitespace, the
/// header padded with spaces so the data starts 8-byte aligned. Same tensors and metadata →
/// same bytes.
public enum SafeTensors {
    public struct Tensor: Sendable, Equatable {
        public let shape: [Int]
        /// Row-major elements.
        public let values: [Float]

        public init(shape: [Int], values: [Float]) {
            precondition(shape.reduce(1, *) == values.count, "shape \(shape) does not hold \(values.count) values")
            self.shape = shape
            self.values = values
        }
    }

    public struct File: Sendable, Equatable {
        public var tensors: [String: Tensor]
        public var metadata: [String: String]

        public init(tensors: [String: Tensor], metadata: [String: String] = [:]) {
            self.tensors = tensors
            self.metadata = metadata
        }
    }

    /// The file's bytes.
    public static func encode(_ file: File) -> Data {
        var header = "{"
        var offset = 0
        var entries: [String] = []
        if !file.metadata.isEmpty {
            let pairs = file.metadata.keys.sorted().map { "\(JSONText.string($0)):\(JSONText.string(file.metadata[$0]!))" }
            entries.append("\"__metadata__\":{" + pairs.joined(separator: ",") + "}")
        }
        let names = file.tensors.keys.sorted()
        for name in names {
            let t = file.tensors[name]!
            let size = t.values.count * 4
            entries.append("\(JSONText.string(name)):{\"data_offsets\":[\(offset),\(offset + size)],\"dtype\":\"F32\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))]}")
            offset += size
        }
        header += entries.joined(separator: ",") + "}"
        var headerBytes = Array(header.utf8)
        while (8 + headerBytes.count) % 8 != 0 { headerBytes.append(0x20) }
        var data = Data(capacity: 8 + headerBytes.count + offset)
        withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: headerBytes)
        for name in names {
            // Float storage is little-endian on every platform Swift runs this on (x86-64, arm64).
            file.tensors[name]!.values.withUnsafeBytes { data.append(contentsOf: $0) }
        }
        return data
    }

    /// Parses and checks a safetensors file.
    /// - Throws: `PublishingError.corruptModel` naming what is wrong (truncated, bad header,
    ///   offsets out of range or overlapping, a dtype other than F32).
    public static func decode(_ data: Data, path: String) throws(PublishingError) -> File {
        func fail(_ reason: String) -> PublishingError { .corruptModel(path: path, reason: reason) }
        guard data.count >= 8 else { throw fail("shorter than the 8-byte header length (truncated?)") }
        let headerLength = data.prefix(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard headerLength <= maxHeaderBytes else {
            throw fail("the header length \(headerLength) is over the format's cap of \(maxHeaderBytes) bytes")
        }
        guard headerLength <= UInt64(data.count - 8) else {
            throw fail("the header length \(headerLength) runs past the end of the file (truncated?)")
        }
        let headerData = data.subdata(in: 8..<(8 + Int(headerLength)))
        guard let object = try? JSONSerialization.jsonObject(with: headerData) as? [String: Any] else {
            throw fail("the header is not a JSON object")
        }
        let dataStart = 8 + Int(headerLength)
        let payload = data.count - dataStart
        var file = File(tensors: [:])
        var ranges: [(Int, Int)] = []
        for (name, value) in object {
            if name == "__metadata__" {
                guard let metadata = value as? [String: String] else { throw fail("__metadata__ must map strings to strings") }
                file.metadata = metadata
                continue
            }
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                let shape = info["shape"] as? [Int], let offsets = info["data_offsets"] as? [Int], offsets.count == 2
            else { throw fail("tensor '\(name)' has no valid dtype, shape and data_offsets") }
            guard dtype == "F32" else { throw fail("tensor '\(name)' is \(dtype); only F32 is read") }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, begin <= end, end <= payload else {
                throw fail("tensor '\(name)' lies outside the data (\(begin)..<\(end) of \(payload) bytes; truncated?)")
            }
            guard let count = elementCount(shape), count == (end - begin) / 4, (end - begin) % 4 == 0 else {
                throw fail("tensor '\(name)' has shape \(shape) but \(end - begin) bytes")
            }
            var values = [Float](repeating: 0, count: count)
            values.withUnsafeMutableBytes { out in
                data.copyBytes(to: out.bindMemory(to: UInt8.self), from: (dataStart + begin)..<(dataStart + end))
            }
            file.tensors[name] = Tensor(shape: shape, values: values)
            ranges.append((begin, end))
        }
        try checkContiguous(ranges, payload: payload, fail: fail)
        return file
    }

    /// The format's own cap on the header (as the reference implementation enforces it).
    public static let maxHeaderBytes: UInt64 = 100_000_000

    /// The number of elements of a shape, or nil for a negative dimension or one that
    /// overflows.
    static func elementCount(_ shape: [Int]) -> Int? {
        var count = 1
        for dimension in shape {
            guard dimension >= 0 else { return nil }
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow else { return nil }
            count = product
        }
        return count
    }

    /// The tensors must tile the data exactly: from 0, without holes or overlaps, to the end.
    private static func checkContiguous(_ ranges: [(Int, Int)], payload: Int, fail: (String) -> PublishingError) throws(PublishingError) {
        var next = 0
        for (begin, end) in ranges.sorted(by: { $0 < $1 }) {
            if begin < next { throw fail("tensor data overlaps") }
            if begin > next { throw fail("\(begin - next) bytes between tensors (a hole the format forbids)") }
            next = end
        }
        if next != payload { throw fail("\(payload - next) bytes after the last tensor") }
    }
}

/// JSON string literals written by hand, so header bytes never depend on a JSON library's
/// spacing or key order.
enum JSONText {
    static func string(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
