@testable import Consent
import Foundation
@testable import Ingest
@testable import Interactions
import Linalg
import TestSupport
import XCTest

final class ConsentTests: XCTestCase {
    let fixture = EventsFixture()
    let header = "timestamp,workspace_id,user_id,channel_id,event,emoji\n"

    func testMissingOrMalformedRegistry_stopsEverything() throws {
        XCTAssertThrowsError(try ConsentRegistry.load(path: "/nonexistent/consent.csv", asOf: 0)) { error in
            XCTAssertEqual(error as? ConsentError, .registryMissing(path: "/nonexistent/consent.csv"))
            XCTAssertTrue("\(error)".contains("run stops"))
        }
        let cases: [(String, Int, String)] = [
            ("workspace_id,status\nW1,opted_out\n", 1, "header"),
            ("workspace_id,status,effective_at\nW1,maybe,2026-01-01T00:00:00Z\n", 2, "status"),
            ("workspace_id,status,effective_at\nW1,opted_out,2026-01-01T00:00:00Z\nW2,opted_in,last week\n", 3, "effective_at"),
            ("workspace_id,status,effective_at\n,opted_in,1\n", 2, "workspace_id"),
            ("", 1, "header"),
        ]
        for (text, line, field) in cases {
            let path = fixture.directory.write("r\(line)\(field).csv", text)
            XCTAssertThrowsError(try ConsentRegistry.load(path: path, asOf: EventsFixture.asOf)) { error in
                guard case .registryMalformed(let file, let l, let f, _) = error as? ConsentError else { return XCTFail("\(error)") }
                XCTAssertEqual([file, "\(l)", f], [path, "\(line)", field])
            }
        }
    }

    func testLatestRowWins_optOutRetroactive_futureOptOutCounts_futureOptInDoesNot() throws {
        let registry = try fixture.registry("""
            workspace_id,status,effective_at
            A,opted_in,2026-01-01T00:00:00Z
            A,opted_out,2026-06-01T00:00:00Z
            B,opted_out,2026-01-01T00:00:00Z
            B,opted_in,2026-06-01T00:00:00Z
            C,opted_in,2026-01-01T00:00:00Z
            C,opted_out,2027-01-01T00:00:00Z
            D,opted_in,2027-01-01T00:00:00Z
            E,opted_in,2026-03-01T00:00:00Z
            E,opted_out,2026-03-01T00:00:00Z
            """)
        XCTAssertEqual(registry.exclusion(of: "A", policy: .optIn), .optedOut)
        XCTAssertNil(registry.exclusion(of: "B", policy: .optIn))
        XCTAssertEqual(registry.exclusion(of: "C", policy: .optOut), .optedOut)
        XCTAssertEqual(registry.exclusion(of: "D", policy: .optIn), .notOptedIn)
        XCTAssertNil(registry.exclusion(of: "D", policy: .optOut))
        XCTAssertEqual(registry.exclusion(of: "E", policy: .optOut), .optedOut)
        XCTAssertEqual(registry.exclusion(of: "Z", policy: .optIn), .notOptedIn)
        XCTAssertNil(registry.exclusion(of: "Z", policy: .optOut))

        // Retroactive: A's events from before its opt-out date are excluded too.
        let csv = header + "2026-02-01T00:00:00Z,A,U1,C1,join,\n2026-07-01T00:00:00Z,A,U1,C1,post,\n2026-02-01T00:00:00Z,B,U1,C1,join,\n"
        let log = try fixture.read("a.csv", csv, registry: "workspace_id,status,effective_at\nA,opted_out,2026-06-01T00:00:00Z\n")
        XCTAssertEqual(log.count, 1)
        XCTAssertEqual(log.usage.eventsRemovedByConsent, [.optedOut: 2])
        XCTAssertEqual(log.usage.workspacesRemovedByConsent, [.optedOut: 1])
    }

    /// Property: over many random logs and registries, for both policies, nothing of an
    /// excluded workspace reaches the log, its vocabulary or any matrix; the kept events are
    /// exactly the consenting ones; and removing a workspace's rows equals opting it out.
    func testNoEventOfAnExcludedWorkspace_reachesAnyMatrix_randomised() throws {
        var rng = SeededGenerator(seed: 77)
        let p = Pseudonymiser(key: EventsFixture.key)
        for trial in 0..<25 {
            let workspaces = (0..<6).map { "W\(trial)-\($0)" }
            var registry = "workspace_id,status,effective_at\n"
            // The expected status, worked out independently: latest date wins, opted_out on a tie.
            var status: [String: String] = [:]
            var latest: [String: String] = [:]
            for w in workspaces {
                for _ in 0..<rng.nextIndex(below: 4) {
                    let s = rng.nextIndex(below: 2) == 0 ? "opted_in" : "opted_out"
                    let day = 1 + rng.nextIndex(below: 3)
                    let date = "2026-0\(1 + rng.nextIndex(below: 2))-0\(day)T00:00:00Z"
                    registry += "\(w),\(s),\(date)\n"
                    if latest[w] == nil || date > latest[w]! || (date == latest[w]! && s == "opted_out") {
                        latest[w] = date
                        status[w] = s
                    }
                }
            }
            var rows: [(String, String)] = []
            for i in 0..<300 {
                let w = workspaces[rng.nextIndex(below: workspaces.count)]
                let kind = ["join", "post", "react", "view", "leave"][rng.nextIndex(below: 5)]
                rows.append((w, "\(1_760_000_000 + i),\(w),U\(rng.nextIndex(below: 20)),C\(rng.nextIndex(below: 8)),\(kind),\(kind == "react" ? "e\(rng.nextIndex(below: 6))" : "")"))
            }
            for policy in ConsentPolicy.allCases {
                let allowed = Set(workspaces.filter { w in
                    status[w] == "opted_in" || (status[w] == nil && policy == .optOut)
                })
                let log = try fixture.read("t\(trial)\(policy).csv", header + rows.map(\.1).joined(separator: "\n") + "\n", registry: registry, policy: policy)
                let keptWorkspaces = Set(log.vocabulary.workspaces)
                XCTAssertEqual(keptWorkspaces, Set(allowed.filter { w in rows.contains { $0.0 == w } }.map(p.workspace)))
                XCTAssertEqual(log.count, rows.filter { allowed.contains($0.0) }.count)
                XCTAssertEqual(log.usage.eventsRemovedByConsent.values.reduce(0, +), rows.filter { !allowed.contains($0.0) }.count)
                let excludedUsers = Set(workspaces.filter { !allowed.contains($0) }.flatMap { w in (0..<20).map { p.user("U\($0)", workspace: w) } })
                XCTAssertTrue(excludedUsers.isDisjoint(with: log.vocabulary.users))
                let definitions = [RecommenderDefinition.channelDefault, RecommenderDefinition(target: .emoji, scope: .global, weights: [.react: 1], minEmojiWorkspaces: 1, minEmojiUsers: 1)]
                for definition in definitions {
                    let (matrices, usage) = InteractionMatrixBuilder(definition: definition).build(log)
                    for m in matrices {
                        XCTAssertTrue(m.workspace.map(keptWorkspaces.contains) ?? true)
                        XCTAssertTrue(excludedUsers.isDisjoint(with: m.userIDs))
                    }
                    XCTAssertTrue(usage.allSatisfy { $0.workspace.map(keptWorkspaces.contains) ?? true })
                }

                // Removing the excluded workspaces' rows from the input gives identical matrices.
                let filtered = rows.filter { allowed.contains($0.0) }.map(\.1)
                let without = try fixture.read("w\(trial)\(policy).csv", header + filtered.joined(separator: "\n") + "\n", registry: registry, policy: policy)
                for definition in definitions {
                    XCTAssertEqual(InteractionMatrixBuilder(definition: definition).build(log).matrices,
                                   InteractionMatrixBuilder(definition: definition).build(without).matrices)
                }
            }
        }
    }

    func testRetention_dropsOldAndFutureEvents_andCountsThem() throws {
        let csv = header + [
            "2026-11-19T00:00:00Z,W,U,C,join,",  // kept
            "2026-11-12T00:00:00Z,W,U,C,post,",  // 8 days old: kept with 10-day window
            "2026-11-01T00:00:00Z,W,U,C,post,",  // 19 days: dropped
            "2026-11-21T00:00:00Z,W,U,C,post,",  // after as-of: future
        ].joined(separator: "\n") + "\n"
        let log = try fixture.read("r.csv", csv, retentionDays: 10)
        XCTAssertEqual(log.count, 2)
        XCTAssertEqual(log.usage.eventsRemovedByRetention, 1)
        XCTAssertEqual(log.usage.eventsRemovedAsFuture, 1)
    }
}
