import ArgumentParser
import Foundation
import ModelStore

extension ConsentRec {
    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Summarise a run or a model file and verify every checksum.",
            discussion: "Exits non-zero if any model is missing, truncated, corrupted or does not match the manifest.")

        @Argument(help: "An output root (its current run), a run directory, or one .safetensors model file.")
        var path: String

        func run() throws {
            try ExitCodes.mapped {
                if path.hasSuffix(".safetensors") {
                    guard let data = FileManager.default.contents(atPath: path) else { throw ModelStoreError.missingFile(path: path) }
                    let model = try ModelFile.decode(data, path: path)
                    print("model \(path): \(model.recommender) (\(model.scope)\(model.workspace.map { ", workspace \($0)" } ?? ""))")
                    print("  items \(model.itemFactors.rows) × factors \(model.itemFactors.columns)\(model.userFactors.map { ", users \($0.rows)" } ?? ", no user factors")")
                    print("  hyper-parameters: factors \(model.hyperparameters.factors), λ \(model.hyperparameters.regularization), α \(model.hyperparameters.alpha), \(model.hyperparameters.iterations) iterations, \(model.hyperparameters.solver)")
                    return
                }
                let run = try PublishedRun.open(path)
                let m = run.manifest
                print("run \(m.runID) (\(run.directory))")
                print("  created \(m.createdAt), as of \(m.asOf), tool \(m.toolVersion), config \(m.configDigest.prefix(12))")
                print("  consent: policy \(m.consent.policy.rawValue), registry sha256 \(m.consent.registrySHA256.prefix(12))")
                for input in m.inputs { print("  input \(input.path): \(input.rows) rows, sha256 \(input.sha256.prefix(12))") }
                print("  events kept \(m.usage.eventsKept) of \(m.usage.rowsRead) rows; \(m.workspacesUsed.count) workspaces used")
                let byRecommender = Dictionary(grouping: m.models, by: \.recommender)
                for (name, models) in byRecommender.sorted(by: { $0.key < $1.key }) {
                    print("  \(name): \(models.count) models, \(models.reduce(0) { $0 + $1.items }) items, \(models.reduce(0) { $0 + $1.bytes } / 1024) KiB")
                }
                let problems = run.verify()
                if problems.isEmpty {
                    print("all \(m.models.count) model checksums verified")
                } else {
                    for p in problems { FileHandle.standardError.write(Data("error: \(p)\n".utf8)) }
                    throw ExitCode(ExitCodes.verificationFailed)
                }
            }
        }
    }
}

