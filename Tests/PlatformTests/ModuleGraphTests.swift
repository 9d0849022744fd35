import Foundation
import XCTest

/// The import graph in docs/architecture.md is the code's: every module imports exactly the
/// project modules its line lists, and each only from lines above it (data flows one way).
final class ModuleGraphTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Module → the project modules it may import, in the order the document lists them.
    func documentedGraph() throws -> [(module: String, imports: Set<String>)] {
        let text = try String(contentsOf: Self.repository.appendingPathComponent("docs/architecture.md"), encoding: .utf8)
        let marker = try XCTUnwrap(text.range(of: "<!-- import-graph -->"), "the graph's marker")
        let block = text[marker.upperBound...].split(separator: "```", omittingEmptySubsequences: false)[1]
        return block.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: "→", maxSplits: 1, omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2 else { return nil }
            let imports = parts[1].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            return (parts[0], Set(imports))
        }
    }

    /// The project modules a module's sources import (`@testable` and `@_spi` included).
    func actualImports(of module: String, among modules: Set<String>) throws -> Set<String> {
        let folder = Self.repository.appendingPathComponent("Sources/" + module)
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".swift") }
        var found = Set<String>()
        for file in files {
            let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            for line in text.split(separator: "\n") {
                let words = line.split(separator: " ")
                guard let i = words.firstIndex(of: "import"), words[..<i].allSatisfy({ $0.hasPrefix("@") }), i + 1 < words.count else { continue }
                let name = String(words[i + 1])
                if modules.contains(name) { found.insert(name) }
            }
        }
        return found
    }

    /// The C targets, each called from exactly one Swift file.
    static let cTargets = ["CBLAS": "Sources/Linalg/BLAS.swift", "CPUKernels": "Sources/Linalg/Kernels.swift", "CMPI": "Sources/ClusterMPI/Communicator.swift"]

    func testEachCTargetIsCalledFromOneSwiftFile() throws {
        let sources = Self.repository.appendingPathComponent("Sources")
        let enumerator = try XCTUnwrap(FileManager.default.enumerator(atPath: sources.path))
        var importers: [String: [String]] = [:]
        for case let path as String in enumerator where path.hasSuffix(".swift") {
            let text = try String(contentsOf: sources.appendingPathComponent(path), encoding: .utf8)
            for line in text.split(separator: "\n") {
                let words = line.split(separator: " ")
                if let i = words.firstIndex(of: "import"), i + 1 < words.count, Self.cTargets[String(words[i + 1])] != nil {
                    importers[String(words[i + 1]), default: []].append("Sources/" + path)
                }
            }
        }
        for (target, file) in Self.cTargets { XCTAssertEqual(importers[target], [file], target) }
    }

    func testEveryModuleImportsWhatTheArchitectureDocumentSays() throws {
        let graph = try documentedGraph()
        XCTAssertGreaterThanOrEqual(graph.count, 9, "the document lists every library module")
        let modules = Set(graph.map(\.module))
        let sourceModules = try FileManager.default.contentsOfDirectory(atPath: Self.repository.appendingPathComponent("Sources").path)
            .filter { !$0.hasPrefix("consentrec") && Self.cTargets[$0] == nil && !$0.hasPrefix(".") }
        XCTAssertEqual(Set(sourceModules), modules, "every library module has a line, and every line a module")
        for (position, entry) in graph.enumerated() {
            XCTAssertEqual(try actualImports(of: entry.module, among: modules), entry.imports, entry.module)
            let above = Set(graph.prefix(position).map(\.module))
            XCTAssertTrue(entry.imports.isSubset(of: above), "\(entry.module) imports a module listed below it")
        }
    }
}
