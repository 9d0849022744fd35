import Consent
import Ingest
import Interactions

/// The readable form of the data-usage counts.
public enum UsageSummary {
    public static func text(_ u: RunUsage) -> String {
        var lines: [String] = []
        lines.append("files: " + u.files.map { "\($0.path) (\($0.format.rawValue)\($0.gzip ? ", gzip" : ""), \($0.rows) rows)" }.joined(separator: "; "))
        lines.append("rows read: \(u.rowsRead)")
        lines.append("bad rows: \(u.badRows.summary)")
        for example in u.badRows.examples { lines.append("  \(example)") }
        let consentEvents = ConsentExclusion.allCases.map { "\(u.eventsRemovedByConsent[$0, default: 0]) \($0.rawValue)" }.joined(separator: ", ")
        let consentWorkspaces = ConsentExclusion.allCases.map { "\(u.workspacesRemovedByConsent[$0, default: 0]) \($0.rawValue)" }.joined(separator: ", ")
        lines.append("consent (policy \(u.policy.rawValue)): events removed \(consentEvents); workspaces removed \(consentWorkspaces)")
        lines.append("retention: \(u.eventsRemovedByRetention) events older than the window, \(u.eventsRemovedAsFuture) after --as-of")
        lines.append("kept: \(u.eventsKept) events, \(u.workspacesKept) workspaces, \(u.usersKept) users, \(u.channelsKept) channels, \(u.emojiKept) emoji")
        for target in RecommenderDefinition.Target.allCases {
            let ms = u.matrices.filter { $0.recommender == target }
            guard !ms.isEmpty else { continue }
            let trained = ms.filter { $0.nonZeros > 0 }
            lines.append("\(target.rawValue) matrices: \(trained.count) (\(ms.first!.scope.rawValue) scope), "
                + "\(trained.reduce(0) { $0 + $1.users }) users, \(trained.reduce(0) { $0 + $1.nonZeros }) non-zeros; "
                + "thresholds removed \(ms.reduce(0) { $0 + $1.usersRemovedByThresholds }) users, "
                + "\(ms.reduce(0) { $0 + $1.itemsRemovedByThresholds }) items"
                + (ms.first!.scope == .global ? ", support removed \(ms.reduce(0) { $0 + $1.itemsRemovedBySupport }) emoji" : ""))
        }
        return lines.joined(separator: "\n")
    }
}
