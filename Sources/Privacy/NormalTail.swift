import Foundation

/// The standard normal's upper tail `Q(x) = P(Z > x)` and its inverse, for the partition
/// selection's threshold.
public enum NormalTail {
    /// `P(Z > x)` for a standard normal Z.
    public static func probability(above x: Double) -> Double { erfc(x / 2.0.squareRoot()) / 2 }

    /// The x with `P(Z > x) = p`, for `0 < p < 1/2` (bisection on `erfc`: exact to the last bits
    /// that matter here).
    public static func quantile(upperTail p: Double) -> Double {
        precondition(p > 0 && p < 0.5)
        var lo = 0.0, hi = 1.0
        while probability(above: hi) > p { lo = hi; hi *= 2 }
        for _ in 0..<200 {
            let mid = (lo + hi) / 2
            if probability(above: mid) > p { lo = mid } else { hi = mid }
        }
        return hi
    }
}
