import Foundation

/// Paths of the files under Tests/Fixtures.
public enum Fixtures {
    public static var directory: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures").path
    }

    /// The hand-made Slack export, unpacked.
    public static var slackExport: String { directory + "/slack-export" }
}
