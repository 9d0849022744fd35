import Foundation
import Plot

/// The context of a chart's SVG nodes. Charts are built from Plot's generic elements and
/// attributes, so the page and its charts come out of one renderer: text is escaped, and an
/// attribute holds only numbers or fixed names, never data.
public enum SVGContext {}
public typealias SVGNode = Node<SVGContext>

/// The few SVG shapes the charts draw, sized in user units (1 unit = 1 CSS pixel at 100%).
enum SVG {
    static func element(_ name: String, _ attributes: KeyValuePairs<String, String>, _ children: [SVGNode] = []) -> SVGNode {
        .element(named: name, nodes: attributes.map { SVGNode.attribute(named: $0.key, value: $0.value) } + children)
    }

    static func rect(x: Double, y: Double, width: Double, height: Double, tone: Tone, title: String? = nil) -> SVGNode {
        element("rect", ["x": n(x), "y": n(y), "width": n(max(width, 0)), "height": n(max(height, 0)), "class": "bar \(tone.rawValue)"],
                title.map { [self.title($0)] } ?? [])
    }

    static func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, style: String) -> SVGNode {
        element("line", ["x1": n(x1), "y1": n(y1), "x2": n(x2), "y2": n(y2), "class": style])
    }

    /// Text at a point; `anchor` is start, middle or end.
    static func text(_ string: String, x: Double, y: Double, anchor: String = "start", style: String = "label") -> SVGNode {
        element("text", ["x": n(x), "y": n(y), "text-anchor": anchor, "class": style], [.text(string)])
    }

    static func polyline(_ points: [(x: Double, y: Double)], tone: Tone) -> SVGNode {
        element("polyline", ["points": points.map { "\(n($0.x)),\(n($0.y))" }.joined(separator: " "), "class": "series \(tone.rawValue)"])
    }

    static func circle(x: Double, y: Double, radius: Double, tone: Tone, title: String) -> SVGNode {
        element("circle", ["cx": n(x), "cy": n(y), "r": n(radius), "class": "point \(tone.rawValue)"], [self.title(title)])
    }

    /// A tooltip: the browser shows it when the pointer rests on the shape.
    static func title(_ string: String) -> SVGNode { .element(named: "title", nodes: [.text(string)]) }

    /// A coordinate with one decimal: enough at screen resolution, and the same bytes every run.
    static func n(_ value: Double) -> String { String(format: "%.1f", value.isFinite ? value : 0) }
}

/// A mark's colour, by role; the page's stylesheet (`Chart.stylesheet`) gives each its colour.
public enum Tone: String, Sendable, CaseIterable {
    /// The model; the run's own figure.
    case primary = "t-primary"
    /// The baseline it is compared with (popularity).
    case baseline = "t-baseline"
    /// The last runs, history.
    case history = "t-history"
    case good = "t-good"
    case bad = "t-bad"
    case neutral = "t-neutral"
}

/// A value for an axis or a label: four significant digits, thousands as k and millions as M.
func format(_ value: Double) -> String {
    let size = abs(value)
    if size == 0 { return "0" }
    if size >= 1e9 { return String(format: "%.4gG", value / 1e9) }
    if size >= 1e6 { return String(format: "%.4gM", value / 1e6) }
    if size >= 1e4 { return String(format: "%.4gk", value / 1e3) }
    if size < 0.001 { return String(format: "%.3g", value) }
    return String(format: "%.4g", value)
}

/// A count with thousands separated by commas: 59,200.
public func grouped(_ count: Int) -> String {
    let digits = String(count.magnitude)
    var out = ""
    for (i, c) in digits.enumerated() {
        if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
        out.append(c)
    }
    return (count < 0 ? "-" : "") + out
}
