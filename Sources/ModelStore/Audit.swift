import Events
import Foundation

/// Checks a published run against the consent registry and key of *today*: the check a
/// nightly job runs after an opt-out arrives.
///
/// It recomputes the pseudonym of every workspace the registry excludes and fails if any of
/// them appears in any model, model path or the manifest; under the opt-in policy, every
/// workspace in the run must be opted in now. Global models must meet their support
/// thresholds item by item. Checksums are verified on the way.
public struct Audit: Sendable {
    public struct Finding: Sendable, Equatable, CustomStringConvertible {
        /// The model's path in the run, or `manifest.json`.
        public let location: String
        public let problem: String
        public var description: String { "\(location): \(problem)" }
    }

    public let registry: ConsentRegistry
    public let pseudonymiser: Pseudonymiser
    public let policy: ConsentPolicy

    public init(registry: ConsentRegistry, pseudonymiser: Pseudonymiser, policy: ConsentPolicy) {
        self.registry = registry
        self.pseudonymiser = pseudonymiser
        self.policy = policy
    }

    /// Every finding; an empty list means the run passes.
    public func check(_ run: PublishedRun) -> [Finding] {
        let excluded = Set(registry.optedOutWorkspaces.map(pseudonymiser.workspace))
        let allowed: Set<String>? = policy == .optIn ? Set(registry.optedInWorkspaces.map(pseudonymiser.workspace)) : nil
        func violation(_ pseudonym: String) -> String? {
            if excluded.contains(pseudonym) { return "workspace \(pseudonym) has opted out" }
            if let allowed, !allowed.contains(pseudonym) { return "workspace \(pseudonym) is not opted in (policy opt-in)" }
            return nil
        }
        var findings: [Finding] = []
        let m = run.manifest
        for w in m.workspacesUsed { if let v = violation(w) { findings.append(Finding(location: Manifest.fileName, problem: "used \(v)")) } }
        for u in m.usage.matrices {
            if let w = u.workspace, let v = violation(w) { findings.append(Finding(location: Manifest.fileName, problem: "counts a matrix of \(v)")) }
        }
        for entry in m.models {
            if let w = entry.workspace, let v = violation(w) { findings.append(Finding(location: entry.path, problem: "is a model of \(v)")) }
            for pseudonym in excluded where entry.path.contains(pseudonym) {
                findings.append(Finding(location: entry.path, problem: "names opted-out workspace \(pseudonym)"))
            }
            let model: ModelFile
            do throws(ModelStoreError) {
                model = try run.model(entry)
            } catch {
                findings.append(Finding(location: entry.path, problem: "\(error)"))
                continue
            }
            if let w = model.workspace, let v = violation(w) { findings.append(Finding(location: entry.path, problem: "metadata names \(v)")) }
            if model.scope == "global" {
                guard let support = model.support else {
                    findings.append(Finding(location: entry.path, problem: "a global model without support counts"))
                    continue
                }
                for (i, id) in model.itemIDs.enumerated()
                where support.itemWorkspaceCounts[i] < support.minWorkspaces || support.itemUserCounts[i] < support.minUsers {
                    findings.append(Finding(
                        location: entry.path,
                        problem: "item '\(id)' has support \(support.itemWorkspaceCounts[i]) workspaces / \(support.itemUserCounts[i]) users, "
                            + "under the thresholds \(support.minWorkspaces) / \(support.minUsers)"))
                }
            }
        }
        return findings
    }
}
