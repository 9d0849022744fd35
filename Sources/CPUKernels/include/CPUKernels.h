// Pure computational kernels of ConsentRec, dispatched on the CPU's features: no I/O, no
// allocation, no global state. Only Sources/Linalg/CPUKernels.swift calls them.
#ifndef CONSENTREC_CPU_KERNELS_H
#define CONSENTREC_CPU_KERNELS_H
#include <stdint.h>

/// What cpuid and xgetbv say about this CPU and the state the operating system saves.
typedef struct {
    char brand[49];             ///< The brand string, NUL-terminated ("" when not reported).
    char vendor[13];            ///< "GenuineIntel", "AuthenticAMD", …
    uint32_t family, model;     ///< Display family and model, extended fields folded in.
    uint8_t sse3, avx, avx2, fma, avx512f, avx512bw, avx512dq, avx512vl;
    uint8_t osYMM, osZMM;       ///< XCR0 says the OS saves the 256-bit / 512-bit state.
} cr_cpu_identity;

void cr_cpu_identify(cr_cpu_identity *out);

/// Which implementation of a kernel runs. Every level computes the same bits: the vector
/// levels keep the reference's 16 accumulator lanes, reduction tree and fused multiply-adds
/// (a NaN's sign bit aside; training rejects non-finite factors anyway).
typedef enum {
    CR_KERNEL_REFERENCE = 0,    ///< Scalar C with fmaf: any x86-64 CPU.
    CR_KERNEL_AVX2_FMA = 1,     ///< 256-bit vectors: needs avx2, fma and osYMM.
    CR_KERNEL_AVX512 = 2,       ///< 512-bit vectors: needs avx512f and osZMM.
} cr_kernel_level;

/// Floats of scratch `cr_cg_row` needs for `factors` (four vectors of the padded length).
int32_t cr_cg_row_scratch(int32_t factors);

/// Conjugate-gradient steps on one row of an implicit-feedback ALS half-sweep:
/// `(G + ridge·I + Σₖ wₖ·yₖyₖᵀ)·x = Σₖ (1 + wₖ)·yₖ` with `wₖ = alpha·values[k]` (a float
/// product), `G = YᵀY + λI` (full, row-major `factors²`; λ may be 0 when each row carries
/// its own), `ridge` the row's own penalty (0:
/// none, and the bits of a kernel without it) and `yₖ = fixed + indices[k]·factors`, starting
/// from `x` and writing the result into it.
/// Each CG product passes over the row's entries once, forming `yₖ·v` and adding
/// `wₖ·(yₖ·v)·yₖ` while `yₖ` is in registers. Stops early when `r·r < tolerance`. A row of
/// at most `capacity` entries is copied into `gathered` (`capacity × cr_cg_padded(factors)`
/// floats) on the first pass, and later passes read the copy.
void cr_cg_row(cr_kernel_level level, int32_t factors, int32_t count,
               const int32_t *indices, const float *values, float alpha, const float *fixed,
               const float *gram, float ridge, float *x, int32_t steps, float tolerance, float *scratch,
               float *gathered, int32_t capacity);

/// `factors` rounded up to the kernel's 16 lanes: the row stride of `gathered`.
int32_t cr_cg_padded(int32_t factors);

#endif
