import CBLAS

/// Which way a row-major matrix enters a BLAS product.
public enum Transpose: Sendable {
    case none
    case transposed

    fileprivate var cblas: CBLAS_TRANSPOSE { self == .none ? CblasNoTrans : CblasTrans }
}

/// Typed Swift wrappers over the BLAS routines ConsentRec uses.
///
/// This file and `BLASThreads` are the only Swift code that calls C. Every wrapper is a thin
/// shell: it converts `Int` to the C integer type, fixes the storage order the callers use, and
/// names the routine it calls, so everything above `Linalg` speaks Swift. Sizes are checked with
/// `precondition` only where a wrong size would corrupt memory silently inside BLAS.
public enum BLAS {
    /// `y ← α·op(A)·x + β·y` for a row-major `rows × columns` matrix `A` (`cblas_sgemv`).
    ///
    /// With `.transposed`, `x` has `rows` elements and `y` has `columns`; otherwise the reverse.
    @inline(__always)
    public static func gemv(
        _ transpose: Transpose, rows: Int, columns: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, x: UnsafePointer<Float>, beta: Float,
        y: UnsafeMutablePointer<Float>
    ) {
        cblas_sgemv(
            CblasRowMajor, transpose.cblas, blasint(rows), blasint(columns), alpha, a,
            blasint(lda), x, 1, beta, y, 1)
    }

    /// `C ← α·op(A)·op(B) + β·C` for row-major matrices (`cblas_sgemm`); `C` is `m × n`.
    public static func gemm(
        _ transposeA: Transpose, _ transposeB: Transpose, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_sgemm(
            CblasRowMajor, transposeA.cblas, transposeB.cblas, blasint(m), blasint(n), blasint(k),
            alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
    }

    /// Adds `α·AᵀA` to the lower triangle of the `order × order` matrix `C`, where `A` is a
    /// row-major `count × order` block of rows (`cblas_ssyrk`).
    ///
    /// A row-major `count × order` block is the column-major `order × count` matrix `M`, and
    /// `AᵀA = M·Mᵀ`, so this is `ssyrk` in column-major order, lower triangle, no transpose: no
    /// copy of `A` is made. The lower triangle of a column-major symmetric matrix is the upper
    /// triangle of the same bytes read row-major; callers that need the full matrix mirror it.
    @inline(__always)
    public static func syrkLower(
        order: Int, count: Int, alpha: Float, a: UnsafePointer<Float>, beta: Float,
        c: UnsafeMutablePointer<Float>
    ) {
        cblas_ssyrk(
            CblasColMajor, CblasLower, CblasNoTrans, blasint(order), blasint(count), alpha, a,
            blasint(order), beta, c, blasint(order))
    }

    /// `x · y` over `count` contiguous elements (`cblas_sdot`).
    @inline(__always)
    public static func dot(count: Int, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>)
        -> Float
    {
        cblas_sdot(blasint(count), x, 1, y, 1)
    }

    /// `y ← α·x + y` over `count` contiguous elements (`cblas_saxpy`).
    @inline(__always)
    public static func axpy(
        count: Int, alpha: Float, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>
    ) {
        cblas_saxpy(blasint(count), alpha, x, 1, y, 1)
    }
}

/// Typed Swift wrappers over the LAPACK routines ConsentRec uses, through LAPACKE.
public enum LAPACK {
    /// Solves `A·x = b` in place for a symmetric positive-definite `order × order` matrix by
    /// Cholesky factorisation (`LAPACKE_sposv_work`, column-major, lower triangle).
    ///
    /// Column-major with the lower triangle is LAPACK's native layout, so LAPACKE makes no
    /// transposed copy (a row-major call copies the matrix on every solve, about 5 µs at
    /// order 64). `a` is overwritten by the factor and `b` by the solution.
    /// - Throws: `LinalgError.notPositiveDefinite` when a leading minor is not positive.
    @inline(__always)
    public static func solvePositiveDefinite(
        order: Int, a: UnsafeMutablePointer<Float>, b: UnsafeMutablePointer<Float>
    ) throws(LinalgError) {
        let info = LAPACKE_sposv_work(
            LAPACK_COL_MAJOR, CChar(UInt8(ascii: "L")), Int32(order), 1, a,
            Int32(order), b, Int32(order))
        try check(info, routine: "sposv")
    }

    /// Solves `A·x = b` in place for a symmetric positive-definite `order × order` matrix in
    /// Double (`LAPACKE_dposv_work`, column-major, lower triangle): the private item solves,
    /// whose perturbed statistics are formed in Double.
    public static func solvePositiveDefinite(
        order: Int, a: UnsafeMutablePointer<Double>, b: UnsafeMutablePointer<Double>
    ) throws(LinalgError) {
        let info = LAPACKE_dposv_work(
            LAPACK_COL_MAJOR, CChar(UInt8(ascii: "L")), Int32(order), 1, a, Int32(order), b, Int32(order))
        try check(info, routine: "dposv")
    }

    /// The eigenvalues (ascending, into `values`) and eigenvectors (the columns of `a`,
    /// column-major, overwriting it) of a symmetric `order × order` matrix given by its lower
    /// triangle (`LAPACKE_dsyev`).
    public static func symmetricEigen(
        order: Int, a: UnsafeMutablePointer<Double>, values: UnsafeMutablePointer<Double>
    ) throws(LinalgError) {
        let info = LAPACKE_dsyev(
            LAPACK_COL_MAJOR, CChar(UInt8(ascii: "V")), CChar(UInt8(ascii: "L")), Int32(order), a, Int32(order), values)
        try check(info, routine: "dsyev")
    }

    /// Turns a LAPACK `info` code into a Swift error; the one place that reads return codes.
    private static func check(_ info: Int32, routine: String) throws(LinalgError) {
        if info == 0 { return }
        if info > 0 { throw .notPositiveDefinite(routine: routine, minor: Int(info)) }
        throw .invalidArgument(routine: routine, position: Int(-info))
    }
}

/// Control of OpenBLAS's own thread pool (`openblas_set_num_threads` and friends).
public enum BLASThreads {
    /// The number of threads OpenBLAS uses for one call (`openblas_get_num_threads`).
    public static var current: Int { Int(openblas_get_num_threads()) }

    /// Sets the number of threads OpenBLAS uses for one call (`openblas_set_num_threads`).
    public static func set(_ count: Int) { openblas_set_num_threads(Int32(count)) }

    /// The build of OpenBLAS (`openblas_get_config`): version, build options, core.
    public static var build: String {
        openblas_get_config().map { String(cString: $0) } ?? "unknown"
    }

    /// The kernel family OpenBLAS selected when it loaded (`openblas_get_corename`):
    /// "Haswell", "SkylakeX", "Prescott", …
    public static var coreName: String {
        openblas_get_corename().map { String(cString: $0) } ?? "unknown"
    }

    /// The build and the core, for benchmark reports.
    public static var configuration: String { "\(build) (core \(coreName))" }
}
