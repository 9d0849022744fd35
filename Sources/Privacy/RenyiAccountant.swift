import Foundation

/// Rényi-DP accounting of a list of Gaussian mechanisms (Mironov 2017): their Rényi
/// divergences add at every order, and the total converts to (ε, δ)-DP by the conversion of
/// Canonne, Kamath & Steinke 2020 (Prop. 12) / Asoodeh et al. 2020:
/// `ε = min over α > 1 of  ρα + log(1 − 1/α) − (log δ + log α)/(α − 1)`.
///
/// The minimum is taken over α continuously (a log-spaced scan, then a golden-section
/// refinement), not over a fixed list of orders, so the ε here is never above what an
/// accountant restricted to a list of orders reports for the same mechanisms.
public enum RenyiAccountant {
    /// (ε, the order that attains it) for the composition of `mechanisms` at `delta`.
    public static func epsilon(_ mechanisms: [GaussianMechanism], delta: Double) -> (epsilon: Double, order: Double) {
        epsilon(rho: mechanisms.reduce(0) { $0 + $1.rho }, delta: delta)
    }

    /// (ε, order) for a composition whose Rényi divergence is `rho·α` at every order α.
    public static func epsilon(rho: Double, delta: Double) -> (epsilon: Double, order: Double) {
        precondition(delta > 0 && delta < 1 && rho >= 0 && rho.isFinite)
        if rho == 0 { return (0, .infinity) }
        // Pinsker-type shortcut: δ ≥ √(1 − e^(−KL)) with KL = ρ (the order-1 divergence).
        if delta * delta + expm1(-rho) > 0 { return (0, 1) }
        func eps(_ logOrderMinusOne: Double) -> Double {
            let a = 1 + exp(logOrderMinusOne)
            return rho * a + log1p(-1 / a) - (log(delta) + log(a)) / (a - 1)
        }
        // Scan α − 1 from 10⁻³ to 10⁶ on a log scale, then refine around the best point.
        let lo = log(1e-3), hi = log(1e6), steps = 400
        var best = lo, bestValue = Double.infinity
        for i in 0...steps {
            let x = lo + (hi - lo) * Double(i) / Double(steps)
            let v = eps(x)
            if v < bestValue { bestValue = v; best = x }
        }
        let width = (hi - lo) / Double(steps)
        var a = best - width, b = best + width
        let ratio = (sqrt(5.0) - 1) / 2
        for _ in 0..<100 {
            let c = b - ratio * (b - a), d = a + ratio * (b - a)
            if eps(c) < eps(d) { b = d } else { a = c }
        }
        let x = (a + b) / 2
        let value = min(eps(x), bestValue)
        return (max(0, value), 1 + exp(value == bestValue ? best : x))
    }

    /// The largest ρ whose ε at `delta` is at most `target`: the privacy budget in Rényi terms,
    /// which `PrivacyPlan` spends across its mechanisms. Bisection; ε grows with ρ.
    public static func rho(forEpsilon target: Double, delta: Double) -> Double {
        precondition(target > 0 && target.isFinite)
        var lo = 0.0, hi = 1.0
        while epsilon(rho: hi, delta: delta).epsilon <= target { lo = hi; hi *= 2 }
        for _ in 0..<200 {
            let mid = (lo + hi) / 2
            if epsilon(rho: mid, delta: delta).epsilon <= target { lo = mid } else { hi = mid }
            if hi - lo <= lo * 1e-13 { break }
        }
        return lo
    }
}
