/// How values are spread: counts in equal bins over `domain`, with marked values (the median,
/// the worst decile) drawn as dashed lines.
public struct Histogram {
    public struct Marker {
        public let name: String
        public let value: Double

        public init(_ name: String, _ value: Double) {
            self.name = name
            self.value = value
        }
    }

    public let values: [Double]
    public let domain: ClosedRange<Double>
    public let bins: Int
    public let markers: [Marker]
    public let xTitle: String

    public init(values: [Double], domain: ClosedRange<Double>, bins: Int = 20, markers: [Marker], xTitle: String) {
        self.values = values.filter(\.isFinite)
        self.domain = domain
        self.bins = max(1, bins)
        self.markers = markers
        self.xTitle = xTitle
    }

    /// The count of values in each bin; the last bin holds its upper edge.
    public var counts: [Int] {
        var counts = [Int](repeating: 0, count: bins)
        let span = domain.upperBound - domain.lowerBound
        for v in values {
            let bin = span > 0 ? Int(((v - domain.lowerBound) / span * Double(bins)).rounded(.down)) : 0
            counts[min(max(bin, 0), bins - 1)] += 1
        }
        return counts
    }

    static let width = 640.0, height = 240.0, left = 48.0, right = 16.0, top = 28.0, bottom = 44.0

    public func chart(name: String, label: String) -> Chart {
        let counts = counts
        let (x0, x1) = (Self.left, Self.width - Self.right), (y0, y1) = (Self.height - Self.bottom, Self.top)
        let yAxis = Axis(low: 0, high: Double(counts.max() ?? 1), count: 4)
        let binWidth = (x1 - x0) / Double(bins)
        func x(_ v: Double) -> Double { x0 + (v - domain.lowerBound) / (domain.upperBound - domain.lowerBound) * (x1 - x0) }
        var nodes: [SVGNode] = []
        for tick in yAxis.ticks where tick == tick.rounded() {
            let y = yAxis.position(tick, from: y0, to: y1)
            nodes.append(SVG.line(x0, y, x1, y, style: "grid"))
            nodes.append(SVG.text(format(tick), x: x0 - 6, y: y + 4, anchor: "end", style: "muted"))
        }
        let step = (domain.upperBound - domain.lowerBound) / Double(bins)
        for (i, count) in counts.enumerated() where count > 0 {
            let top = yAxis.position(Double(count), from: y0, to: y1)
            let lower = domain.lowerBound + Double(i) * step
            nodes.append(SVG.rect(x: x0 + Double(i) * binWidth + 1, y: top, width: binWidth - 2, height: y0 - top, tone: .primary,
                                  title: "\(format(lower))–\(format(lower + step)): \(count)"))
        }
        for tick in Axis(low: domain.lowerBound, high: domain.upperBound, count: 5).ticks where domain.contains(tick) {
            nodes.append(SVG.text(format(tick), x: x(tick), y: y0 + 16, anchor: "middle", style: "muted"))
        }
        nodes.append(SVG.line(x0, y0, x1, y0, style: "axis"))
        nodes.append(SVG.text(xTitle, x: (x0 + x1) / 2, y: Self.height - 6, anchor: "middle", style: "muted"))
        nodes.append(SVG.text("workspaces", x: 4, y: 14, style: "muted"))
        for (i, m) in markers.enumerated() where domain.contains(m.value) {
            nodes.append(SVG.line(x(m.value), y0, x(m.value), y1, style: "marker"))
            // A label right of its line, or left of it in the right third, so it stays inside.
            let leftOfLine = x(m.value) > x0 + (x1 - x0) * 2 / 3
            nodes.append(SVG.text("\(m.name) \(format(m.value))", x: x(m.value) + (leftOfLine ? -4 : 4), y: y1 + 12 + Double(i) * 14,
                                  anchor: leftOfLine ? "end" : "start", style: "value"))
        }
        return Chart(name: name, label: label, width: Self.width, height: Self.height, nodes: nodes)
    }
}
