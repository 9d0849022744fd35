/// Quantiles of a sample, interpolated linearly between order statistics (numpy's default):
/// the per-workspace median and worst-decile edge of the reports.
public enum Quantile {
    /// The `q`-quantile (0…1) of `sorted` (ascending); nil when it is empty.
    public static func of(_ sorted: [Double], _ q: Double) -> Double? {
        guard !sorted.isEmpty else { return nil }
        let position = min(max(q, 0), 1) * Double(sorted.count - 1)
        let low = Int(position.rounded(.down)), high = Int(position.rounded(.up))
        return sorted[low] + (sorted[high] - sorted[low]) * (position - Double(low))
    }
}
