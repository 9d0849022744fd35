/// Lines over a shared x axis, each point marked and titled: the gate metric over the last
/// runs, training loss per iteration, a metric against ε.
public struct LineChart {
    public struct Series {
        public let name: String
        public let tone: Tone
        public let points: [(x: Double, y: Double)]

        public init(_ name: String, tone: Tone, points: [(x: Double, y: Double)]) {
            self.name = name
            self.tone = tone
            self.points = points.filter { $0.x.isFinite && $0.y.isFinite }
        }
    }

    public let series: [Series]
    public let xTitle: String
    public let yTitle: String
    /// Names for x positions (run ids, say); other positions are labelled by their value.
    public let xNames: [Double: String]
    /// Whether the y axis starts at zero (metrics) or at the lowest value (loss).
    public let fromZero: Bool

    public init(series: [Series], xTitle: String, yTitle: String, xNames: [Double: String] = [:], fromZero: Bool = true) {
        self.series = series
        self.xTitle = xTitle
        self.yTitle = yTitle
        self.xNames = xNames
        self.fromZero = fromZero
    }

    static let width = 640.0, height = 260.0, left = 64.0, right = 48.0, top = 28.0, bottom = 44.0

    public func chart(name: String, label: String) -> Chart {
        let points = series.flatMap(\.points)
        let xs = points.map(\.x), ys = points.map(\.y)
        let xAxis = xNames.isEmpty ? Axis(low: xs.min() ?? 0, high: xs.max() ?? 1, count: 6) : Axis(low: 0, high: 1)
        let yAxis = Axis(low: fromZero ? min(0, ys.min() ?? 0) : ys.min() ?? 0, high: ys.max() ?? 1, count: 4)
        let (x0, x1) = (Self.left, Self.width - Self.right), (y0, y1) = (Self.height - Self.bottom, Self.top)
        // Named positions (runs) are spread evenly in their order; numeric ones by value.
        let names = xNames.keys.sorted()
        func x(_ v: Double) -> Double {
            guard !names.isEmpty else { return xAxis.position(v, from: x0, to: x1) }
            let i = Double(names.firstIndex(of: v) ?? 0)
            return names.count == 1 ? (x0 + x1) / 2 : x0 + i / Double(names.count - 1) * (x1 - x0)
        }
        var nodes: [SVGNode] = []
        for tick in yAxis.ticks {
            let y = yAxis.position(tick, from: y0, to: y1)
            nodes.append(SVG.line(x0, y, x1, y, style: "grid"))
            nodes.append(SVG.text(format(tick), x: x0 - 6, y: y + 4, anchor: "end", style: "muted"))
        }
        let xTicks = names.isEmpty ? xAxis.ticks : Self.thinned(names, to: 8)
        for tick in xTicks {
            nodes.append(SVG.text(xNames[tick] ?? format(tick), x: x(tick), y: y0 + 16, anchor: "middle", style: "muted"))
        }
        nodes.append(SVG.line(x0, y0, x1, y0, style: "axis"))
        nodes.append(SVG.line(x0, y0, x0, y1, style: "axis"))
        nodes.append(SVG.text(xTitle, x: (x0 + x1) / 2, y: Self.height - 6, anchor: "middle", style: "muted"))
        nodes.append(SVG.text(yTitle, x: 4, y: 14, style: "muted"))
        var legendX = x0 + 150
        for s in series {
            nodes.append(SVG.rect(x: legendX, y: 6, width: 12, height: 12, tone: s.tone))
            nodes.append(SVG.text(s.name, x: legendX + 16, y: 16))
            legendX += 24 + Double(s.name.count) * 7
            let placed = s.points.map { (x: x($0.x), y: yAxis.position($0.y, from: y0, to: y1)) }
            if placed.count > 1 { nodes.append(SVG.polyline(placed, tone: s.tone)) }
            for (p, v) in zip(placed, s.points) {
                nodes.append(SVG.circle(x: p.x, y: p.y, radius: 3.5, tone: s.tone,
                                        title: "\(s.name), \(xNames[v.x] ?? format(v.x)): \(format(v.y))"))
            }
        }
        return Chart(name: name, label: label, width: Self.width, height: Self.height, nodes: nodes)
    }

    /// At most `count` of `positions`, evenly spaced, the first and last always among them.
    static func thinned(_ positions: [Double], to count: Int) -> [Double] {
        guard positions.count > count else { return positions }
        return (0..<count).map { positions[$0 * (positions.count - 1) / (count - 1)] }
    }
}
