import ArgumentParser
import Consent
import Foundation
import Platform
import Privacy
import Publishing

extension ConsentRec {
    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Summarise a run or a model file and verify its checksums and seal.",
            discussion: """
                Checks every model against the manifest, that the run holds no file the manifest does not \
                list, and, with the key (--key-file or CONSENTREC_PSEUDONYM_KEY), the manifest's seal. A \
                model file is checked against the manifest of the run it lies in. Exit 0: sound. Exit 7: \
                a model is missing, truncated, corrupted, unlisted or does not match, or the seal fails.
                """)

        @Argument(help: "An output root (its current run), a run directory, or one .safetensors model file.")
        var path: String

        @Option(help: "The pseudonymisation key file, to check the manifest's seal (default: CONSENTREC_PSEUDONYM_KEY when set).")
        var keyFile: String?

        func run() throws {
            try ExitCodes.mapped {
                let seal = try sealKey()
                let problems = path.hasSuffix(".safetensors") ? try inspectModel(seal: seal) : try inspectRun(seal: seal)
                if seal == nil { print("seal not checked: give --key-file (or set \(PseudonymKey.environmentVariable)) to check it") }
                guard problems.isEmpty else {
                    for p in problems { FileHandle.standardError.write(Data("error: \(TerminalText.safe("\(p)"))\n".utf8)) }
                    throw ExitCode(ExitCodes.verificationFailed)
                }
            }
        }

        /// The seal key, when a key is at hand.
        func sealKey() throws -> ManifestSeal? {
            guard keyFile != nil || ProcessInfo.processInfo.environment[PseudonymKey.environmentVariable] != nil else { return nil }
            return ManifestSeal(pseudonymiser: Pseudonymiser(key: try PseudonymKey.load(file: keyFile)))
        }

        func inspectRun(seal: ManifestSeal?) throws -> [PublishingError] {
            let run = try PublishedRun.open(path)
            let m = run.manifest
            // The manifest's strings are the file's: shown escaped (TerminalText).
            let shown = TerminalText.safe
            print("run \(shown(m.runID)) (\(shown(run.directory)))")
            print("  created \(shown(m.createdAt)), as of \(shown(m.asOf)), tool \(shown(m.toolVersion)), config \(shown(String(m.configDigest.prefix(12))))")
            print("  consent: policy \(m.consent.policy.rawValue), registry sha256 \(shown(String(m.consent.registrySHA256.prefix(12))))")
            for input in m.inputs { print("  input \(shown(input.path)): \(input.rows) rows, sha256 \(shown(String(input.sha256.prefix(12))))") }
            print("  events kept \(m.usage.eventsKept) of \(m.usage.rowsRead) rows; \(m.workspacesUsed.count) workspaces used")
            for (name, models) in Dictionary(grouping: m.models, by: \.recommender).sorted(by: { $0.key < $1.key }) {
                let rankers = Dictionary(grouping: models, by: { ($0.ranker ?? "als").split(separator: ":").first.map(String.init) ?? "?" })
                    .sorted { $0.key < $1.key }.map { "\($0.value.count) \(shown(String($0.key)))" }.joined(separator: ", ")
                print("  \(shown(name)): \(models.count) models, \(models.reduce(0) { $0 + $1.items }) items, \(models.reduce(0) { $0 + $1.bytes } / 1024) KiB; ranked by \(rankers)"
                    + (models.compactMap(\.privacy).first.map { String(format: "; differentially private, ε = %.4g, δ = %.3g", $0.epsilon, $0.parameters.delta) } ?? ""))
            }
            let problems = run.verify(seal: seal)
            if problems.isEmpty {
                print("all \(m.models.count) model checksums verified, no unlisted file" + (seal == nil ? "" : ", seal verified"))
            }
            return problems
        }

        /// One model file: decoded, then checked against the manifest of the run it lies in.
        func inspectModel(seal: ManifestSeal?) throws -> [PublishingError] {
            guard let data = FileManager.default.contents(atPath: path) else { throw PublishingError.missingFile(path: path) }
            let model = try ModelFile.decode(data, path: path)
            let h = model.hyperparameters
            // The file's strings are the file's: shown with control characters escaped, so a
            // crafted file cannot write escape codes or a fake line to the terminal.
            let shown = TerminalText.safe
            print("model \(shown(path)): \(shown(model.recommender)) (\(shown(model.scope))\(model.workspace.map { ", workspace \(shown($0))" } ?? ""))")
            print("  items \(model.itemFactors.rows) × factors \(model.itemFactors.columns)\(model.userFactors.map { ", users \($0.rows)" } ?? ", no user factors")")
            let fit = h.warmStartIterations.map { warm in
                h.warmStartModel.map { "\(warm) iterations from the last run's model (sha256 \(shown(String($0.prefix(12)))))" }
                    ?? "\(warm) iterations from its held-out model (which ran \(h.iterations) from random factors; split \(shown(h.warmStartSplit ?? "?")))"
            } ?? "\(h.iterations) iterations"
            let iALS = (h.unobservedWeight.map { ", α₀ \($0)" } ?? "") + (h.regularizationExponent.map { ", ν \($0)" } ?? "")
            print("  hyper-parameters: factors \(h.factors), λ \(h.regularization), α \(h.alpha)\(iALS), \(fit), \(shown(h.solver))")
            print("  ranked by \(model.ranker)" + (model.itemPopularity == nil ? " (a file from before rankers)"
                : model.privacy == nil ? ", with the users per item of its training data" : ", with the noisy users per item of its vocabulary"))
            if let plan = model.privacy { Self.printPrivacy(plan) }
            guard let (run, relative) = try Self.enclosingRun(of: path) else {
                print("  not inside a run directory: checked as a file only")
                return []
            }
            var problems: [PublishingError] = []
            if let seal, let problem = run.sealProblem(seal) { problems.append(.tampered(path: run.directory, reason: problem)) }
            guard let entry = run.manifest.models.first(where: { $0.path == relative }) else {
                return problems + [.unlistedFile(path: path)]
            }
            do throws(PublishingError) { _ = try run.model(entry) } catch { problems.append(error) }
            if problems.isEmpty { print("  matches its entry in the manifest of run \(shown(run.manifest.runID))" + (seal == nil ? "" : ", seal verified")) }
            return problems
        }

        /// A private model's guarantee, with ε recomputed from the mechanisms the file lists
        /// (not taken from the file), its bounds and every mechanism.
        static func printPrivacy(_ plan: PrivacyPlan) {
            let p = plan.parameters
            let training = RenyiAccountant.epsilon(plan.training.mechanisms, delta: plan.training.delta).epsilon
            let heldOut = RenyiAccountant.epsilon(plan.heldOut.mechanisms, delta: plan.heldOut.delta).epsilon
            print(String(format: "  differentially private: ε = %.4g at δ = %.3g (recomputed: training group %.4g at δ %.3g, held-out group %.4g); target ε %.4g",
                         max(training, heldOut), p.delta, training, plan.training.delta, heldOut, p.epsilon))
            print(String(format: "  bounds: max_items_per_user %d (%@), max_weight %g, max_norm %g; vocabulary margin τ %.1f",
                         p.maxItemsPerUser, p.bounding.rawValue, p.maxWeight, p.maxNorm, plan.selectionMargin))
            for m in plan.training.mechanisms + plan.heldOut.mechanisms {
                print(String(format: "    %@: %d × Gaussian, noise multiplier %.4g, sensitivity %.4g (σ %.4g)",
                             m.name, m.count, m.noiseMultiplier, m.sensitivity, m.noiseScale))
            }
        }

        /// The run whose directory holds `path` (the nearest folder above it with a
        /// manifest.json, symbolic links resolved first), and the file's path relative to it.
        static func enclosingRun(of path: String) throws -> (PublishedRun, String)? {
            var components = URL(fileURLWithPath: path).resolvingSymlinksInPath().standardizedFileURL.pathComponents
            var relative: [String] = []
            while true {
                guard components.count > 1 else { return nil }
                relative.insert(components.removeLast(), at: 0)
                let directory = NSString.path(withComponents: components)
                if FileManager.default.fileExists(atPath: directory + "/" + Manifest.fileName) {
                    return (try PublishedRun.open(directory), relative.joined(separator: "/"))
                }
            }
            return nil
        }
    }
}
