import Plot

/// One report page: a self-contained HTML document. Its styles are inline and its content
/// security policy forbids loading anything (no script, font, image or style from anywhere),
/// so it opens offline, from a mail attachment or an artefact store, and never calls out.
public struct Page {
    public typealias Content = Node<HTML.BodyContext>

    public let title: String
    public let content: [Content]

    public init(title: String, content: [Content]) {
        self.title = title
        self.content = content
    }

    /// The document's bytes: the same for the same report.
    public func render() -> String {
        HTML(
            .head(
                .meta(.charset(.utf8)),
                .meta(.attribute(named: "http-equiv", value: "Content-Security-Policy"), .attribute(named: "content", value: Self.policy)),
                .meta(.name("viewport"), .content("width=device-width, initial-scale=1")),
                .title(title),
                .style(Self.stylesheet + "\n" + Chart.stylesheet)
            ),
            .body(.div(.class("page"), .group(content)))
        ).render(indentedBy: .spaces(1))
    }

    static let policy = "default-src 'none'; style-src 'unsafe-inline'"

    static let stylesheet = """
        body { font: 14px/1.45 sans-serif; color: #1b1b1b; background: #fff; margin: 0; }
        .page { max-width: 1040px; margin: 0 auto; padding: 1em 1.5em 3em; }
        h1 { font-size: 1.6em; margin-bottom: 0.2em; }
        h2 { font-size: 1.25em; margin-top: 1.8em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
        h3 { font-size: 1.05em; margin-top: 1.4em; }
        table { border-collapse: collapse; margin: 0.5em 0 1em; }
        th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
        td.number, th.number { text-align: right; font-variant-numeric: tabular-nums; }
        th { background: #f4f4f4; }
        .verdict { display: inline-block; padding: 0.1em 0.6em; border-radius: 0.8em; font-weight: 600; }
        .verdict.good { background: #d3f9d8; color: #1b5e20; }
        .verdict.warn { background: #fff3bf; color: #7a5a00; }
        .verdict.bad { background: #ffe3e3; color: #a61e1e; }
        .caption, .muted { color: #666; }
        code { font-size: 0.95em; }
        """

    /// A table with a header row; columns named in `numeric` are right-aligned.
    public static func table(_ header: [String], _ rows: [[String]], numeric: Set<Int> = []) -> Content {
        .table(
            .tr(.group(header.enumerated().map { i, h in .th(.if(numeric.contains(i), .class("number")), .text(h)) })),
            .group(rows.map { row in .tr(.group(row.enumerated().map { i, v in .td(.if(numeric.contains(i), .class("number")), .text(v)) })) })
        )
    }

    /// A chart with its caption under it.
    public static func figure(_ chart: Chart, caption: String) -> Content {
        .div(.class("figure"), chart.node, .p(.class("caption"), .text(caption)))
    }

    /// A verdict badge: good, warn or bad.
    public static func verdict(_ text: String, _ tone: String) -> Content {
        .span(.class("verdict \(tone)"), .text(text))
    }
}
