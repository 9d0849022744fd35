import Foundation
import SyntheticData

extension SyntheticEventLog {
    /// The directory of a generated log of `events` events over `workspaces` workspaces under
    /// `cache`, generated on first use and reused by later runs (its key file marks it complete).
    static func cached(in cache: String, events: Int, workspaces: Int) throws -> String {
        let directory = "\(cache)/\(events)-\(workspaces)"
        if !FileManager.default.fileExists(atPath: "\(directory)/pseudonym.key") {
            var options = Options()
            options.events = events
            options.workspaces = workspaces
            try SyntheticEventLog(options: options).write(to: directory)
        }
        return directory
    }
}
