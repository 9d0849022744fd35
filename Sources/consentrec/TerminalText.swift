/// Text from a file (a manifest, a model's metadata, a finding that quotes them) made safe for
/// a terminal: a crafted file must not write escape codes, move the cursor, reorder the line
/// (bidirectional overrides) or print a line that looks like the tool's own.
enum TerminalText {
    /// `text` with a backslash, every control and format character, and the line and paragraph
    /// separators written as `\u{…}`; anything else as it is.
    static func safe(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar.properties.generalCategory {
            case .control, .format, .lineSeparator, .paragraphSeparator:
                out += "\\u{\(String(scalar.value, radix: 16))}"
            default:
                out += scalar == "\\" ? "\\u{5c}" : String(scalar)
            }
        }
        return out
    }
}
