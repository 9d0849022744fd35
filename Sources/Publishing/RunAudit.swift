import Consent
import Foundation

/// Checks a stored run against today's consent rules (`ConsentRules`, module Consent) and
/// key: the check a nightly job runs on the run it is about to publish and on every run it
/// keeps, and `consentrec audit` runs by hand. The rules decide; this walks the run.
///
/// It fails if any workspace the rules exclude shaped any model — by the provenance each model records, in the manifest and in the
/// file itself — or appears in a model path or the manifest; under the opt-in policy, every
/// contributing workspace must be opted in now. Global models must meet their support
/// thresholds item by item. Checksums are verified on the way.
public struct RunAudit: Sendable {
    public struct Finding: Sendable, Equatable, CustomStringConvertible {
        /// The model's path in the run, or `manifest.json`.
        public let location: String
        public let problem: String
        public var description: String { "\(location): \(problem)" }
    }

    /// Today's consent rules.
    public let rules: ConsentRules
    /// The seal every run must carry under today's key.
    public let seal: ManifestSeal
    /// The lengths (in UTF-8 bytes) of the excluded pseudonyms, to find them in paths.
    private let excludedLengths: [Int]

    public init(rules: ConsentRules, seal: ManifestSeal) {
        self.rules = rules
        self.seal = seal
        excludedLengths = Set(rules.excluded.map(\.utf8.count)).sorted()
    }

    /// The rules of `registry` under `policy`, and the seal of the key behind `pseudonymiser`.
    public init(registry: ConsentRegistry, pseudonymiser: Pseudonymiser, policy: ConsentPolicy) {
        self.init(rules: ConsentRules(registry: registry, pseudonymiser: pseudonymiser, policy: policy), seal: ManifestSeal(pseudonymiser: pseudonymiser))
    }

    private func violation(_ pseudonym: String) -> String? { rules.violation(pseudonym) }

    /// Every finding; an empty list means the run passes.
    public func check(_ run: PublishedRun) -> [Finding] {
        var findings: [Finding] = []
        let m = run.manifest
        // A manifest that fails its seal cannot vouch for anything below: it may have been
        // edited to hide a workspace, so the run fails on this alone.
        if let problem = run.sealProblem(seal) { findings.append(Finding(location: Manifest.fileName, problem: problem)) }
        for name in run.unlistedFiles() { findings.append(Finding(location: name, problem: "a file the manifest does not list")) }
        for w in m.workspacesUsed { if let v = violation(w) { findings.append(Finding(location: Manifest.fileName, problem: "used \(v)")) } }
        for u in m.usage.matrices {
            if let w = u.workspace, let v = violation(w) { findings.append(Finding(location: Manifest.fileName, problem: "counts a matrix of \(v)")) }
        }
        for entry in m.models { findings += check(entry, in: run) }
        return findings
    }

    /// Every excluded pseudonym that appears in `path`, by position: each window of each
    /// pseudonym length is looked up once (a substring search per excluded workspace made
    /// 850,000 searches on a run of 1,700 models against 500 opted-out workspaces).
    func excludedNames(in path: String) -> [String] {
        let bytes = Array(path.utf8)
        var found: [String] = []
        for start in bytes.indices {
            for length in excludedLengths where start + length <= bytes.count {
                let window = String(decoding: bytes[start..<start + length], as: UTF8.self)
                if rules.excluded.contains(window), !found.contains(window) { found.append(window) }
            }
        }
        return found
    }

    /// The findings for one model: its manifest entry, then the file.
    func check(_ entry: Manifest.Model, in run: PublishedRun) -> [Finding] {
        var findings: [Finding] = []
        func add(_ problem: String) { findings.append(Finding(location: entry.path, problem: problem)) }
        if let w = entry.workspace, let v = violation(w) { add("is a model of \(v)") }
        for v in rules.violations(entry.provenance) { add("was trained on events of \(v)") }
        for v in (entry.tunedOn ?? []).compactMap(rules.violation) { add("had its hyper-parameters tuned on events of \(v)") }
        for pseudonym in excludedNames(in: entry.path) { add("names opted-out workspace \(pseudonym)") }
        let model: ModelFile
        do throws(PublishingError) {
            model = try run.model(entry)
        } catch {
            add("\(error)")
            return findings
        }
        if let w = model.workspace, let v = violation(w) { add("metadata names \(v)") }
        if model.provenance != entry.provenance { add("the provenance in the file differs from the manifest's") }
        if model.tunedOn != entry.tunedOn { add("tuned_on in the file differs from the manifest's") }
        if let w = model.workspace, model.provenance.workspaces != [w] { add("a workspace model whose contributors are not its workspace alone") }
        guard model.scope == "global" else { return findings }
        guard let support = model.support else {
            add("a global model without support counts")
            return findings
        }
        for (i, id) in model.itemIDs.enumerated()
        where support.itemWorkspaceCounts[i] < support.minWorkspaces || support.itemUserCounts[i] < support.minUsers {
            add("item '\(id)' has support \(support.itemWorkspaceCounts[i]) workspaces / \(support.itemUserCounts[i]) users, "
                + "under the thresholds \(support.minWorkspaces) / \(support.minUsers)")
        }
        return findings
    }
}
