import Platform

/// Makes OpenBLAS use the kernels this CPU supports, and says which ones run.
///
/// OpenBLAS (`DYNAMIC_ARCH`) picks its kernel family when the library loads, from a table of
/// CPU models; a model newer than the table gets an old family. Debian's 0.3.21 gives an Intel
/// Xeon of family 6 model 207 (AVX-512) its Prescott (SSE3) kernels, and ALS then runs 2–3×
/// slower. The choice cannot be changed inside the process, so `prepareProcess` starts the
/// program once more with `OPENBLAS_CORETYPE` set, before any work. A user who sets
/// `OPENBLAS_CORETYPE` keeps that choice (to pin kernels, and so model bytes, across machines)
/// and gets a warning if it is older than the CPU.
public enum BLASCore {
    /// Set in a re-executed process to the core OpenBLAS chose the first time.
    public static let reexecMarker = "CONSENTREC_BLAS_REEXEC"
    public static let coreTypeVariable = "OPENBLAS_CORETYPE"

    /// The vector instructions of OpenBLAS's x86-64 kernel families (`driver/others/dynamic.c`);
    /// nil for a name not in the table, which is then left alone.
    public static func tier(ofCore name: String) -> VectorTier? {
        switch name.lowercased() {
        case "skylakex", "cooperlake", "sapphirerapids": .avx512
        case "haswell", "zen": .avx2
        case "sandybridge", "bulldozer", "piledriver", "steamroller", "excavator": .avx
        case "katmai", "coppermine", "northwood", "prescott", "banias", "atom", "core2", "penryn",
            "dunnington", "nehalem", "athlon", "opteron", "opteron_sse3", "barcelona", "nano",
            "bobcat": .sse
        default: nil
        }
    }

    /// The family to ask for on a CPU of the given tier; nil when no newer one exists.
    public static func core(for tier: VectorTier) -> String? {
        switch tier {
        case .avx512: "SkylakeX"
        case .avx2: "Haswell"
        case .avx: "Sandybridge"
        case .sse: nil
        }
    }

    /// What to do about the core OpenBLAS chose.
    public enum Decision: Equatable, Sendable {
        /// Use it; `note` says what an operator should know, if anything.
        case keep(Note?)
        /// Start again with `OPENBLAS_CORETYPE` set to this family.
        case reexecute(core: String)
    }

    /// Something about the kernels an operator should know.
    public enum Note: Equatable, Sendable, CustomStringConvertible {
        /// Re-executed: OpenBLAS chose `from`, and now runs `to`.
        case switched(from: String, to: String)
        /// Re-executed with `requested`, but OpenBLAS still runs `core`.
        case ignored(requested: String, core: String)
        /// The user set `OPENBLAS_CORETYPE` to a family older than the CPU supports.
        case userChoseOlder(core: String, better: String)
        /// The restart itself failed (`execv`); the process goes on with `core`.
        case restartFailed(core: String, reason: String)

        public var isWarning: Bool {
            if case .switched = self { return false }
            return true
        }

        public var description: String {
            switch self {
            case .switched(let from, let to):
                "OpenBLAS chose its \(from) kernels for this CPU; restarted with OPENBLAS_CORETYPE=\(to)"
            case .ignored(let requested, let core):
                "OpenBLAS ignored OPENBLAS_CORETYPE=\(requested) and runs its \(core) kernels; BLAS calls run below this CPU's speed"
            case .userChoseOlder(let core, let better):
                "OPENBLAS_CORETYPE=\(core) is set: OpenBLAS runs older kernels than this CPU supports (\(better)); unset it to let ConsentRec choose"
            case .restartFailed(let core, let reason):
                "OpenBLAS chose its \(core) kernels for this CPU and the restart onto better ones failed (\(reason)); BLAS calls run below this CPU's speed"
            }
        }
    }

    /// The decision for a CPU of `cpu` tier on which OpenBLAS chose `core`, given the process's
    /// environment. Pure, so every branch is tested without the CPU it describes.
    public static func decide(cpu: VectorTier, core: String, environment: [String: String]) -> Decision {
        let coreTier = tier(ofCore: core)
        let behind = coreTier.map { $0 < cpu } ?? false
        if let original = environment[reexecMarker] {
            if behind { return .keep(.ignored(requested: environment[coreTypeVariable] ?? "?", core: core)) }
            return .keep(.switched(from: original, to: core))
        }
        if environment[coreTypeVariable] != nil {
            return .keep(behind ? .userChoseOlder(core: core, better: Self.core(for: cpu) ?? "\(cpu)") : nil)
        }
        if behind, let better = Self.core(for: cpu) { return .reexecute(core: better) }
        return .keep(nil)
    }

    /// The note for this process, set by `prepareProcess`.
    nonisolated(unsafe) public private(set) static var note: Note?

    /// Call first in `main`, before any work: re-executes the program with better kernels when
    /// OpenBLAS fell back to older ones, and otherwise records what an operator should know.
    /// If the re-execution itself fails, the process goes on with the kernels it has.
    public static func prepareProcess(environment: [String: String]) {
        let chosen = BLASThreads.coreName
        switch decide(cpu: CPU.current.vectorTier, core: chosen, environment: environment) {
        case .keep(let found):
            note = found
            if environment[reexecMarker] != nil {
                // OpenBLAS has read it; programs this one starts choose for themselves.
                ProcessImage.setEnvironment(coreTypeVariable, nil)
                ProcessImage.setEnvironment(reexecMarker, nil)
            }
        case .reexecute(let core):
            ProcessImage.setEnvironment(coreTypeVariable, core)
            ProcessImage.setEnvironment(reexecMarker, chosen)
            let error = ProcessImage.reexecute()
            ProcessImage.setEnvironment(coreTypeVariable, nil)
            ProcessImage.setEnvironment(reexecMarker, nil)
            note = .restartFailed(core: chosen, reason: "\(error)")
        }
    }

    /// One line for logs and reports: CPU, BLAS build and core, ConsentRec's kernel level.
    public static var summary: String {
        "cpu \(CPU.current); BLAS \(BLASThreads.coreName) kernels (\(BLASThreads.build)); CG row kernel \(KernelLevel.best)"
    }
}
