@testable import Consent
@testable import Interactions
import Linalg
import TestSupport
import XCTest

final class MatrixBuilderTests: XCTestCase {
    let fixture = EventsFixture()
    let header = "timestamp,workspace_id,user_id,channel_id,event,emoji\n"
    lazy var p = Pseudonymiser(key: EventsFixture.key)

    func value(_ m: InteractionMatrix, user: String, item: String) -> Float? {
        guard let r = m.userIDs.firstIndex(of: user), let c = m.itemIDs.firstIndex(of: item) else { return nil }
        let row = m.matrix.row(r)
        return row.columns.firstIndex(of: Int32(c)).map { row.values[$0] }
    }

    func testChannelMatrix_perWorkspace_weightsSummed_idsSortedAndPseudonymous() throws {
        let csv = header + [
            "1,W1,U1,C1,join,", "2,W1,U1,C1,post,", "3,W1,U1,C1,post,", "4,W1,U2,C2,view,",
            "5,W1,U2,C1,react,tada", "6,W2,U1,C9,join,",
        ].joined(separator: "\n") + "\n"
        let log = try fixture.read("m.csv", csv)
        let definition = RecommenderDefinition(target: .channel, scope: .workspace, weights: [.join: 2, .post: 1, .view: 0.5, .react: 0.25])
        let (matrices, usage) = InteractionMatrixBuilder(definition: definition).build(log)
        XCTAssertEqual(matrices.count, 2)
        let w1 = try XCTUnwrap(matrices.first { $0.workspace == p.workspace("W1") })
        XCTAssertEqual(w1.userIDs, w1.userIDs.sorted())
        XCTAssertEqual(Set(w1.userIDs), [p.user("U1", workspace: "W1"), p.user("U2", workspace: "W1")])
        XCTAssertEqual(value(w1, user: p.user("U1", workspace: "W1"), item: p.channel("C1", workspace: "W1")), 4)
        XCTAssertEqual(value(w1, user: p.user("U2", workspace: "W1"), item: p.channel("C2", workspace: "W1")), 0.5)
        XCTAssertEqual(value(w1, user: p.user("U2", workspace: "W1"), item: p.channel("C1", workspace: "W1")), 0.25)
        XCTAssertEqual(w1.matrix.nonZeros, 3)
        let w2 = try XCTUnwrap(matrices.first { $0.workspace == p.workspace("W2") })
        XCTAssertEqual(w2.matrix.rows, 1)
        XCTAssertEqual(usage.count, 2)

        var logged = definition
        logged.logScaling = true
        let scaled = InteractionMatrixBuilder(definition: logged).build(log).matrices.first { $0.workspace == p.workspace("W1") }!
        XCTAssertEqual(try XCTUnwrap(value(scaled, user: p.user("U1", workspace: "W1"), item: p.channel("C1", workspace: "W1"))), Float(log1p(4.0)), accuracy: 1e-6)
    }

    func testLeave_removesTheJoinSignal_onlyWhenItIsTheLatestMembershipEvent() throws {
        let csv = header + [
            "1,W1,U1,C1,join,", "2,W1,U1,C1,post,", "3,W1,U1,C1,leave,",  // left: join dropped, post stays
            "1,W1,U2,C1,join,", "2,W1,U2,C1,leave,", "3,W1,U2,C1,join,",  // rejoined: join stays
            "5,W1,U3,C1,join,", "5,W1,U3,C1,leave,",  // same second: leave wins
        ].joined(separator: "\n") + "\n"
        let log = try fixture.read("l.csv", csv)
        let definition = RecommenderDefinition(target: .channel, scope: .workspace, weights: [.join: 2, .post: 1])
        let m = try XCTUnwrap(InteractionMatrixBuilder(definition: definition).build(log).matrices.first)
        let c1 = p.channel("C1", workspace: "W1")
        XCTAssertEqual(value(m, user: p.user("U1", workspace: "W1"), item: c1), 1)
        XCTAssertEqual(value(m, user: p.user("U2", workspace: "W1"), item: c1), 4)
        XCTAssertNil(value(m, user: p.user("U3", workspace: "W1"), item: c1))
        var keep = definition
        keep.leaveRemovesMembership = false
        let kept = try XCTUnwrap(InteractionMatrixBuilder(definition: keep).build(log).matrices.first)
        XCTAssertEqual(value(kept, user: p.user("U1", workspace: "W1"), item: c1), 3)
    }

    func testThresholds_areAppliedUntilBothHold_andCounted() throws {
        // U3 has one channel; dropping U3 leaves C3 with one user, which then goes too.
        let csv = header + ["1,W,U1,C1,join,", "1,W,U1,C2,join,", "1,W,U2,C1,join,", "1,W,U2,C2,join,",
                            "1,W,U3,C3,join,", "1,W,U4,C3,join,", "1,W,U4,C1,join,"].joined(separator: "\n") + "\n"
        let log = try fixture.read("t.csv", csv)
        let definition = RecommenderDefinition(target: .channel, scope: .workspace, weights: [.join: 1], minUserItems: 2, minItemUsers: 2)
        let (matrices, usage) = InteractionMatrixBuilder(definition: definition).build(log)
        let m = try XCTUnwrap(matrices.first)
        XCTAssertEqual(Set(m.userIDs), Set(["U1", "U2"].map { p.user($0, workspace: "W") }))
        XCTAssertEqual(Set(m.itemIDs), Set(["C1", "C2"].map { p.channel($0, workspace: "W") }))
        XCTAssertEqual(usage[0].usersRemovedByThresholds, 2)
        XCTAssertEqual(usage[0].itemsRemovedByThresholds, 1)
        XCTAssertEqual(usage[0].interactionsRemovedByThresholds, 3)
    }

    func testGlobalEmoji_admitsOnlyEmojiWithEnoughWorkspacesAndUsers() throws {
        var rows: [String] = []
        for w in 0..<4 {
            for u in 0..<3 { rows.append("1,W\(w),U\(u),C,react,tada") }
            rows.append("1,W\(w),U0,C,react,w\(w)-custom")  // custom: one workspace each
        }
        rows.append("1,W0,U1,C,react,rare")
        rows.append("1,W1,U1,C,react,rare")
        let log = try fixture.read("g.csv", header + rows.joined(separator: "\n") + "\n")
        let definition = RecommenderDefinition(target: .emoji, scope: .global, weights: [.react: 1], minEmojiWorkspaces: 2, minEmojiUsers: 5)
        let (matrices, usage) = InteractionMatrixBuilder(definition: definition).build(log)
        let m = try XCTUnwrap(matrices.first)
        XCTAssertEqual(m.itemIDs, ["tada"])  // rare: 2 workspaces but 2 users
        XCTAssertEqual(m.itemWorkspaceCounts, [4])
        XCTAssertEqual(m.itemUserCounts, [12])
        XCTAssertEqual(m.matrix.rows, 12)
        XCTAssertEqual(usage[0].itemsRemovedBySupport, 5)
        XCTAssertNil(m.workspace)
    }

    func testEmojiPerWorkspace_keepsEachWorkspacesOwnEmoji_inItsOwnMatrix() throws {
        let csv = header + ["1,W1,U1,C,react,tada", "1,W1,U2,C,react,w1-logo", "1,W2,U1,C,react,tada",
                            "1,W2,U1,C,post,", "1,W2,U3,C,post,fire"].joined(separator: "\n") + "\n"
        let log = try fixture.read("e.csv", csv)
        let definition = RecommenderDefinition(target: .emoji, scope: .workspace, weights: [.react: 1, .post: 0.5])
        let (matrices, _) = InteractionMatrixBuilder(definition: definition).build(log)
        XCTAssertEqual(matrices.count, 2)
        let w1 = try XCTUnwrap(matrices.first { $0.workspace == p.workspace("W1") })
        let w2 = try XCTUnwrap(matrices.first { $0.workspace == p.workspace("W2") })
        XCTAssertEqual(w1.itemIDs, ["tada", "w1-logo"])
        XCTAssertEqual(w2.itemIDs, ["fire", "tada"])
        XCTAssertEqual(value(w2, user: p.user("U3", workspace: "W2"), item: "fire"), 0.5)
        XCTAssertEqual(w2.matrix.nonZeros, 2)  // the post without an emoji carries nothing
    }
}
