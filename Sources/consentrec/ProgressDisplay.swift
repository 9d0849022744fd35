import Foundation
import Logging
import Pipeline
import Platform

/// Shows run progress: a redrawn bar per stage on a terminal, plain log lines otherwise (so a
/// scheduler's log gets one line per stage and step, not carriage returns).
final class ProgressDisplay: @unchecked Sendable {
    private let terminal = POSIX.standardErrorIsTerminal
    private let logger: Logger
    private let start = Date()
    private var stage: RunStage?
    private var stageStart = Date()
    private var lastLogged = Date.distantPast

    init(logger: Logger) { self.logger = logger }

    func update(_ p: RunProgress) {
        if stage != p.stage {
            if stage != nil && terminal { FileHandle.standardError.write(Data("\n".utf8)) }
            stage = p.stage
            stageStart = Date()
            lastLogged = .distantPast
        }
        let elapsed = Date().timeIntervalSince(stageStart)
        // A stage that ends within milliseconds has no meaningful rate.
        let rate = elapsed >= 0.05 ? Double(p.done) / elapsed : 0
        if terminal {
            var line = "\r\(p.stage.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0))"
            if let total = p.total, total > 0 {
                let filled = Int(Double(p.done) / Double(total) * 30)
                line += " [" + String(repeating: "#", count: filled) + String(repeating: ".", count: 30 - filled) + "] \(p.done)/\(total)"
            } else {
                line += " \(p.done)"
            }
            line += String(format: "  %.0f/s  %.1fs", rate, Date().timeIntervalSince(start))
            FileHandle.standardError.write(Data(line.utf8))
        } else if Date().timeIntervalSince(lastLogged) >= 5 || p.done == p.total {
            lastLogged = Date()
            logger.info("progress", metadata: [
                LogKey.stage: "\(p.stage.rawValue)", LogKey.done: "\(p.done)", LogKey.total: "\(p.total.map(String.init) ?? "-")",
                LogKey.perSecond: "\(Int(rate))",
            ])
        }
    }

    func finish() { if terminal && stage != nil { FileHandle.standardError.write(Data("\n".utf8)) } }
}
