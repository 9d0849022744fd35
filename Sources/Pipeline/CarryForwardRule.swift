import Consent
import Platform
import Publishing

/// Which of the last run's models may be carried into a new run when the new model fails its
/// gate: only one whose every contributing workspace is still allowed by the run's registry
/// and policy, and whose oldest event is still inside the retention window. Anything else is
/// dropped, and the report says why: a carried model is published again, so it must meet
/// tonight's rules, not the night it was trained under.
public struct CarryForwardRule: Sendable {
    public let rules: ConsentRules
    /// Unix seconds of the retention window's start, if there is a window.
    public let oldestAllowed: Int64?
    /// The run's as-of: a model holding later events (trained by a run as of a later time)
    /// is not published again, or started from, by a run that may not read those events.
    public let newestAllowed: Int64?

    public init(rules: ConsentRules, oldestAllowed: Int64?, newestAllowed: Int64? = nil) {
        self.rules = rules
        self.oldestAllowed = oldestAllowed
        self.newestAllowed = newestAllowed
    }

    /// Why `entry` may not be carried forward, or nil if it may.
    public func refusal(_ entry: Manifest.Model) -> String? {
        let violations = rules.violations(entry.provenance)
        if !violations.isEmpty {
            return "trained on events of a workspace no longer allowed (" + violations.joined(separator: "; ") + ")"
        }
        let tuning = (entry.tunedOn ?? []).compactMap(rules.violation)
        if !tuning.isEmpty {
            return "hyper-parameters tuned on events of a workspace no longer allowed (" + tuning.joined(separator: "; ") + ")"
        }
        if let newestAllowed, entry.provenance.newestEvent > newestAllowed {
            return "trained on events up to \(Timestamp.format(entry.provenance.newestEvent)), after this run's as-of "
                + "(\(Timestamp.format(newestAllowed)))"
        }
        if let oldestAllowed, entry.provenance.oldestEvent < oldestAllowed {
            return "trained on events from \(Timestamp.format(entry.provenance.oldestEvent)), before the retention window "
                + "(which starts \(Timestamp.format(oldestAllowed)))"
        }
        return nil
    }
}
