import Foundation

/// The raw workspace, user and channel ids of an event log in the CSV form the generator
/// writes: what privacy tests search every output for.
public enum RawIDs {
    public static func inGeneratedCSV(_ path: String) throws -> Set<String> {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var ids = Set<String>()
        for line in text.split(separator: "\n").dropFirst() {
            let f = line.split(separator: ",", omittingEmptySubsequences: false)
            ids.formUnion([String(f[1]), String(f[2]), String(f[3])])
        }
        return ids
    }
}
