import Foundation
@_spi(Fuzzing) import Ingest
import Publishing
import Pipeline

/// The readers that take hostile bytes, one fuzz target each. Built with libFuzzer
/// (`make fuzz`, `CONSENTREC_FUZZ_TARGET` names the target) or, in a plain build, as a replayer
/// that runs saved inputs through the same code: `consentrec-fuzz TARGET FILE…`.
enum FuzzTarget: String, CaseIterable {
    case csv, tsv, jsonl
    case slack
    case registry
    case safetensors
    case timestamp
    case config

    func run(_ data: Data) {
        switch self {
        case .csv: IngestFuzzing.rows(data, format: .csv)
        case .tsv: IngestFuzzing.rows(data, format: .tsv)
        case .jsonl: IngestFuzzing.rows(data, format: .jsonl)
        case .slack: IngestFuzzing.slack(data)
        case .registry: IngestFuzzing.registry(data)
        case .timestamp: IngestFuzzing.timestamp(data)
        case .safetensors: Self.safetensors(data)
        case .config: _ = try? NightlyConfig.parse(String(decoding: data, as: UTF8.self), path: "/fuzz/nightly.toml")
        }
    }

    /// A model file: decoded or refused; what decodes re-encodes to bytes that decode and
    /// encode to the same bytes (compared as bytes: a NaN is not equal to itself).
    static func safetensors(_ data: Data) {
        if let file = try? SafeTensors.decode(data, path: "fuzz") {
            let bytes = SafeTensors.encode(file)
            precondition((try? SafeTensors.decode(bytes, path: "again")).map(SafeTensors.encode) == bytes, "a decoded file does not survive re-encoding")
        }
        _ = try? ModelFile.decode(data, path: "fuzz")
    }
}

#if CONSENTREC_FUZZ
let selected: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["CONSENTREC_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
        fatalError("set CONSENTREC_FUZZ_TARGET to one of \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    return target
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    selected.run(bytes.map { Data(bytes: $0, count: count) } ?? Data())
    return 0
}
#else
@main
enum Replay {
    static func main() {
        let arguments = CommandLine.arguments.dropFirst()
        guard let name = arguments.first, let target = FuzzTarget(rawValue: name) else {
            print("usage: consentrec-fuzz TARGET FILE|FOLDER…  (targets: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")))")
            exit(64)
        }
        var inputs = 0
        for path in arguments.dropFirst() {
            var isFolder: ObjCBool = false
            FileManager.default.fileExists(atPath: path, isDirectory: &isFolder)
            let files = isFolder.boolValue ? ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted().map { path + "/" + $0 } : [path]
            for file in files {
                guard let data = FileManager.default.contents(atPath: file) else { continue }
                target.run(data)
                inputs += 1
            }
        }
        print("\(target.rawValue): \(inputs) inputs replayed, no failure")
    }
}
#endif
