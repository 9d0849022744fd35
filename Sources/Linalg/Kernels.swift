import CPUKernels

/// Which implementation of the CG row products runs. The fused levels (`reference`, `avx2`,
/// `avx512`) compute the same bits (see `Sources/CPUKernels/README.md`) and differ in speed
/// only; `blas` is the path for CPUs without FMA.
public enum KernelLevel: String, CaseIterable, Sendable, CustomStringConvertible {
    /// Not a fused kernel: each CG product is an `sgemv` over gathered rows, in whatever
    /// kernels OpenBLAS chose; its bits differ from the fused levels'. The choice on CPUs
    /// without AVX2 and FMA.
    case blas
    /// Scalar C with fused multiply-adds: the reference the vector levels are tested against.
    /// Any x86-64 CPU runs it, but without FMA hardware each `fmaf` is a library call, so it
    /// is never chosen automatically.
    case reference
    /// 256-bit vectors.
    case avx2 = "avx2+fma"
    /// 512-bit vectors.
    case avx512 = "avx512"

    public var description: String { rawValue }

    /// The fastest level this CPU and its operating system run.
    public static let best: KernelLevel = CPU.current.bestKernelLevel

    /// Whether this machine can run the level.
    public var isSupported: Bool { self <= Self.best || self == .reference }

    fileprivate var c: cr_kernel_level {
        switch self {
        case .blas, .reference: CR_KERNEL_REFERENCE
        case .avx2: CR_KERNEL_AVX2_FMA
        case .avx512: CR_KERNEL_AVX512
        }
    }
}

extension KernelLevel: Comparable {
    public static func < (a: KernelLevel, b: KernelLevel) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// Typed Swift wrappers over the `CPUKernels` C target; the only Swift that calls it.
public enum Kernels {
    /// Floats of scratch `conjugateGradientRow` needs for `factors`.
    public static func scratchCount(factors: Int) -> Int { Int(cr_cg_row_scratch(Int32(factors))) }

    /// The row stride of `conjugateGradientRow`'s gathered rows: `factors` rounded up to 16.
    public static func paddedFactors(_ factors: Int) -> Int { Int(cr_cg_padded(Int32(factors))) }

    /// Conjugate-gradient steps on one row of an implicit-ALS half-sweep, solving
    /// `(G + ridge·I + Σₖ wₖ·yₖyₖᵀ)·x = Σₖ (1 + wₖ)·yₖ`, `wₖ = α·values[k]`, from the `x`
    /// given, in place; `ridge` is the row's own penalty (0 for none); `G = YᵀY + λI` is
    /// full and row-major, `yₖ` is row `indices[k]` of `fixed`. Both products of a step come
    /// from one pass over the entries (`cr_cg_row`). A row of at most `capacity` entries is
    /// copied into `gathered` (`capacity × paddedFactors(factors)` floats) on the first pass
    /// and read from there by the others.
    /// - Precondition: `level.isSupported` (an unsupported level would fault on its first
    ///   vector instruction).
    @inline(__always)
    public static func conjugateGradientRow(
        level: KernelLevel, factors: Int, count: Int, indices: UnsafePointer<Int32>,
        values: UnsafePointer<Float>, alpha: Float, fixed: UnsafePointer<Float>, gram: UnsafePointer<Float>,
        ridge: Float = 0, x: UnsafeMutablePointer<Float>, steps: Int, tolerance: Float,
        scratch: UnsafeMutablePointer<Float>, gathered: UnsafeMutablePointer<Float>, capacity: Int
    ) {
        precondition(level.isSupported && level != .blas, "kernel level \(level) is not a fused kernel here")
        cr_cg_row(
            level.c, Int32(factors), Int32(count), indices, values, alpha, fixed, gram, ridge, x, Int32(steps),
            tolerance, scratch, gathered, Int32(capacity))
    }

    /// What cpuid and xgetbv report (`cr_cpu_identify`).
    static func identifyCPU() -> CPU {
        var id = cr_cpu_identity()
        cr_cpu_identify(&id)
        let brand = withUnsafeBytes(of: id.brand) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let vendor = withUnsafeBytes(of: id.vendor) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        var features: CPU.Features = []
        let flags: [(UInt8, CPU.Features)] = [
            (id.sse3, .sse3), (id.avx, .avx), (id.avx2, .avx2), (id.fma, .fma), (id.avx512f, .avx512f),
            (id.avx512bw, .avx512bw), (id.avx512dq, .avx512dq), (id.avx512vl, .avx512vl),
            (id.osYMM, .osYMM), (id.osZMM, .osZMM),
        ]
        for (bit, feature) in flags where bit != 0 { features.insert(feature) }
        return CPU(
            brand: brand.trimmingSpaces, vendor: vendor, family: Int(id.family), model: Int(id.model),
            features: features)
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
