import Platform

/// Which workspaces' events shaped a model, and when those events happened: what consent and
/// retention are checked against for as long as the model exists (published, retained for
/// rollback, or carried forward into later runs).
///
/// Conservative by construction: every workspace with an event selected for the matrix counts,
/// even when thresholds later dropped its rows, because its events still moved the support
/// counts and thresholds that decided what the model holds.
public struct Provenance: Sendable, Equatable, Codable {
    /// Pseudonyms of the contributing workspaces, sorted.
    public var workspaces: [String]
    /// Unix seconds of the oldest and the newest contributing event.
    public var oldestEvent: Int64
    public var newestEvent: Int64

    public init(workspaces: [String], oldestEvent: Int64, newestEvent: Int64) {
        self.workspaces = workspaces
        self.oldestEvent = oldestEvent
        self.newestEvent = newestEvent
    }

    /// Both together: every workspace of either, and the span covering both — the provenance of
    /// a model that started from another model's factors.
    public func union(_ other: Provenance) -> Provenance {
        Provenance(workspaces: Array(Set(workspaces + other.workspaces)).sorted(), oldestEvent: min(oldestEvent, other.oldestEvent),
                   newestEvent: max(newestEvent, other.newestEvent))
    }

    enum CodingKeys: String, CodingKey {
        case workspaces
        case oldestEvent = "events_from"
        case newestEvent = "events_to"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        workspaces = try c.decode([String].self, forKey: .workspaces)
        func time(_ key: CodingKeys) throws -> Int64 {
            let text = try c.decode(String.self, forKey: key)
            guard let t = Timestamp.parse(text) else {
                throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "not an RFC 3339 time")
            }
            return t
        }
        oldestEvent = try time(.oldestEvent)
        newestEvent = try time(.newestEvent)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(workspaces, forKey: .workspaces)
        try c.encode(Timestamp.format(oldestEvent), forKey: .oldestEvent)
        try c.encode(Timestamp.format(newestEvent), forKey: .newestEvent)
    }
}
