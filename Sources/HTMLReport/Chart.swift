import Foundation
import Plot

/// One chart, ready to place in a page: an inline `<svg>` with a name (`data-chart`) and a
/// text alternative (`aria-label`), drawn by `BarChart`, `LineChart` or `Histogram`.
public struct Chart {
    /// Names the chart in the page (`data-chart`): stable across runs.
    public let name: String
    /// What the chart shows, in words, for a reader that cannot see it.
    public let label: String
    let width: Double
    let height: Double
    let nodes: [SVGNode]

    /// The `<svg>` element.
    public var node: Node<HTML.BodyContext> {
        let attributes: [SVGNode] = [
            .attribute(named: "xmlns", value: "http://www.w3.org/2000/svg"),
            .attribute(named: "class", value: "chart"),
            .attribute(named: "data-chart", value: name),
            .attribute(named: "role", value: "img"),
            .attribute(named: "aria-label", value: label.replacingOccurrences(of: "\"", with: "'")),
            .attribute(named: "viewBox", value: "0 0 \(SVG.n(width)) \(SVG.n(height))"),
            .attribute(named: "width", value: SVG.n(width)),
            .attribute(named: "height", value: SVG.n(height)),
        ]
        return .element(named: "svg", nodes: attributes + nodes)
    }

    /// The charts' styles: colours per `Tone`, axes, labels. Put once in the page's `<style>`.
    public static let stylesheet = """
        svg.chart { font: 12px sans-serif; display: block; margin: 0.5em 0 1em; }
        svg.chart .label { fill: #333; }
        svg.chart .value { fill: #333; font-weight: 600; }
        svg.chart .title { fill: #111; font-weight: 600; }
        svg.chart .muted { fill: #777; }
        svg.chart .axis { stroke: #999; stroke-width: 1; }
        svg.chart .grid { stroke: #e3e3e3; stroke-width: 1; }
        svg.chart .marker { stroke: #333; stroke-width: 1.5; stroke-dasharray: 4 3; }
        svg.chart .series { fill: none; stroke-width: 2.5; }
        svg.chart .t-primary { fill: #1f6fb4; stroke: #1f6fb4; }
        svg.chart .t-baseline { fill: #ef8a17; stroke: #ef8a17; }
        svg.chart .t-history { fill: #8a55c7; stroke: #8a55c7; }
        svg.chart .t-good { fill: #2f9e44; stroke: #2f9e44; }
        svg.chart .t-bad { fill: #d6336c; stroke: #d6336c; }
        svg.chart .t-neutral { fill: #868e96; stroke: #868e96; }
        svg.chart .series.t-primary, svg.chart .series.t-baseline, svg.chart .series.t-history,
        svg.chart .series.t-good, svg.chart .series.t-bad, svg.chart .series.t-neutral { fill: none; }
        """
}

/// Ticks at 1, 2 or 5 times a power of ten covering `low...high`, and the range they span.
struct Axis {
    let low: Double
    let high: Double
    let ticks: [Double]

    init(low: Double, high: Double, count: Int = 5) {
        var low = low, high = high
        if !(high > low) { high = low == 0 ? 1 : low + abs(low) * 0.1 + 1e-9; if low > 0 && low < 1 { low = 0 } }
        let raw = (high - low) / Double(count)
        let magnitude = pow(10, (log10(raw)).rounded(.down))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw * (1 - 1e-9) } ?? raw
        let first = (low / step).rounded(.down) * step, last = (high / step).rounded(.up) * step
        self.low = first
        self.high = last > first ? last : first + step
        ticks = stride(from: 0, through: Int(((self.high - first) / step).rounded()), by: 1).map { first + Double($0) * step }
    }

    /// Where `value` falls between `start` (at `low`) and `end` (at `high`).
    func position(_ value: Double, from start: Double, to end: Double) -> Double {
        start + (value - low) / (high - low) * (end - start)
    }
}

