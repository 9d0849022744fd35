/// Horizontal bars, one per labelled value, each with its figure written after it: a funnel,
/// stage times, gate outcomes, an evaluation's models.
public struct BarChart {
    public struct Bar {
        public let label: String
        public let value: Double
        /// The figure written after the bar (default: the value).
        public let text: String?
        public let tone: Tone

        public init(_ label: String, _ value: Double, text: String? = nil, tone: Tone = .primary) {
            self.label = label
            self.value = value
            self.text = text
            self.tone = tone
        }
    }

    public let bars: [Bar]
    /// The unit under the bars ("events", "seconds").
    public let unit: String

    public init(bars: [Bar], unit: String) {
        self.bars = bars
        self.unit = unit
    }

    static let labelWidth = 260.0, barWidth = 400.0, textWidth = 150.0, rowHeight = 24.0

    public func chart(name: String, label: String) -> Chart {
        let top = 6.0, left = Self.labelWidth
        let axis = Axis(low: 0, high: bars.map(\.value).max() ?? 1, count: 4)
        var nodes: [SVGNode] = []
        let bottom = top + Double(bars.count) * Self.rowHeight
        for tick in axis.ticks {
            let x = axis.position(tick, from: left, to: left + Self.barWidth)
            nodes.append(SVG.line(x, top, x, bottom, style: "grid"))
            nodes.append(SVG.text(format(tick), x: x, y: bottom + 14, anchor: "middle", style: "muted"))
        }
        for (i, bar) in bars.enumerated() {
            let y = top + Double(i) * Self.rowHeight
            let width = axis.position(bar.value, from: 0, to: Self.barWidth)
            let text = bar.text ?? (bar.value == bar.value.rounded() && abs(bar.value) < 1e15 ? grouped(Int(bar.value)) : format(bar.value))
            nodes.append(SVG.text(bar.label, x: left - 8, y: y + 16, anchor: "end"))
            nodes.append(SVG.rect(x: left, y: y + 4, width: width, height: Self.rowHeight - 8, tone: bar.tone, title: "\(bar.label): \(text)"))
            nodes.append(SVG.text(text, x: left + width + 6, y: y + 16, style: "value"))
        }
        nodes.append(SVG.line(left, top, left, bottom, style: "axis"))
        nodes.append(SVG.text(unit, x: left + Self.barWidth / 2, y: bottom + 30, anchor: "middle", style: "muted"))
        return Chart(name: name, label: label, width: left + Self.barWidth + Self.textWidth, height: bottom + 38, nodes: nodes)
    }
}
