/// The log's metadata keys, declared once: every module logs under these names, so a log
/// pipeline can rely on one spelling (`rows`, never `row_count` in one place and `rows` in
/// another).
public enum LogKey {
    // A run and its stages.
    public static let run = "run", stage = "stage", seconds = "seconds", status = "status"
    public static let recommender = "recommender", models = "models", passed = "passed", failed = "failed", ungated = "ungated"
    public static let bucket = "bucket", trials = "trials", score = "score"
    // The output root: runs kept, withdrawn or pruned, and the current one.
    public static let runs = "runs", current = "current", pruned = "pruned"
    // What went wrong with a side file (a metrics file that cannot be written).
    public static let reason = "reason"
    // Reading.
    public static let file = "file", format = "format", gzip = "gzip", rows = "rows", kept = "kept"
    public static let policy = "policy", registrySHA256 = "registry_sha256"
    // Training.
    public static let iteration = "iteration", loss = "loss", blasThreads = "blas_threads"
    public static let variable = "variable", value = "value"
    // The machine: CPU, BLAS kernels, ConsentRec's kernel level.
    public static let cpu = "cpu", blasCore = "blas_core", blasBuild = "blas_build", kernel = "kernel"
    // Progress.
    public static let done = "done", total = "total", perSecond = "per_second"
}
