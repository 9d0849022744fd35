import Linalg
import Logging
import Platform

/// The line every run logs first: which CPU, which BLAS kernels and which level of
/// ConsentRec's own kernels do the work (model bytes depend on the BLAS kernels), and what
/// an operator should know about them (`BLASCore.note`).
enum MachineLog {
    static func announce(_ logger: Logger) {
        logger.info(
            "kernels",
            metadata: [
                LogKey.cpu: "\(CPU.current)", LogKey.blasCore: "\(BLASThreads.coreName)",
                LogKey.blasBuild: "\(BLASThreads.build)", LogKey.kernel: "\(KernelLevel.best)",
            ])
        guard let note = BLASCore.note else { return }
        if note.isWarning {
            logger.warning("\(note)", metadata: [LogKey.blasCore: "\(BLASThreads.coreName)"])
        } else {
            logger.info("\(note)", metadata: [LogKey.blasCore: "\(BLASThreads.coreName)"])
        }
    }
}
