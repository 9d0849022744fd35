/// The processor this process runs on, as cpuid describes it.
public struct CPU: Sendable, Equatable, CustomStringConvertible {
    /// Instruction sets the CPU has, and vector state the operating system saves.
    public struct Features: OptionSet, Sendable, Hashable {
        public let rawValue: UInt16
        public init(rawValue: UInt16) { self.rawValue = rawValue }

        public static let sse3 = Features(rawValue: 1 << 0)
        public static let avx = Features(rawValue: 1 << 1)
        public static let avx2 = Features(rawValue: 1 << 2)
        public static let fma = Features(rawValue: 1 << 3)
        public static let avx512f = Features(rawValue: 1 << 4)
        public static let avx512bw = Features(rawValue: 1 << 5)
        public static let avx512dq = Features(rawValue: 1 << 6)
        public static let avx512vl = Features(rawValue: 1 << 7)
        /// The OS saves the 256-bit registers (XCR0), so AVX instructions may run.
        public static let osYMM = Features(rawValue: 1 << 8)
        /// The OS saves the 512-bit registers and mask registers.
        public static let osZMM = Features(rawValue: 1 << 9)
    }

    public let brand: String
    public let vendor: String
    public let family: Int
    public let model: Int
    public let features: Features

    /// This machine's CPU, identified once.
    public static let current = Kernels.identifyCPU()

    /// The widest vector instructions usable here, as the BLAS kernel families need them.
    public var vectorTier: VectorTier {
        let f = features
        if f.isSuperset(of: [.avx512f, .avx512bw, .avx512dq, .avx512vl, .osZMM]) { return .avx512 }
        if f.isSuperset(of: [.avx2, .fma, .osYMM]) { return .avx2 }
        if f.isSuperset(of: [.avx, .osYMM]) { return .avx }
        return .sse
    }

    /// The fastest level of ConsentRec's own kernels that runs here.
    public var bestKernelLevel: KernelLevel {
        let f = features
        // The AVX-512 level is compiled as a superset of AVX2+FMA: a VM that shows AVX512F but
        // hides FMA gets the AVX2 level's check.
        guard f.isSuperset(of: [.avx2, .fma, .osYMM]) else { return .blas }
        return f.isSuperset(of: [.avx512f, .osZMM]) ? .avx512 : .avx2
    }

    /// Names of the vector features present, widest first: "avx512 avx2 fma".
    public var featureNames: String {
        let names: [(Features, String)] = [
            (.avx512f, "avx512f"), (.avx2, "avx2"), (.fma, "fma"), (.avx, "avx"), (.sse3, "sse3"),
        ]
        return names.filter { features.contains($0.0) }.map(\.1).joined(separator: " ")
    }

    public var description: String {
        let name = brand.isEmpty ? vendor : brand
        return "\(name) (family \(family) model \(model); \(featureNames))"
    }
}

/// The widest x86-64 vector instructions a CPU (or a BLAS kernel family) uses.
public enum VectorTier: Int, Comparable, Sendable, CustomStringConvertible {
    case sse, avx, avx2, avx512

    public static func < (a: VectorTier, b: VectorTier) -> Bool { a.rawValue < b.rawValue }

    public var description: String {
        switch self {
        case .sse: "SSE"
        case .avx: "AVX"
        case .avx2: "AVX2+FMA"
        case .avx512: "AVX-512"
        }
    }
}
