// The fused conjugate-gradient row kernel of the ALS half-sweep, at three levels: a scalar
// reference and two vector levels compiled from one body with per-function target
// attributes. All three give the same bits (see CPUKernels.h): a dot product keeps 16
// accumulator lanes (lane j sums elements j, j+16, …, in order) and folds them by halves,
// 8+8, 4+4, 2+2, 1+1; every multiply-add is one fused multiply-add; a vector's padding lanes
// hold zeros and take part like any other lane.
#include "CPUKernels.h"
#include <math.h>
#include <string.h>

#pragma clang fp contract(off)
// The bodies below are always inlined into their target-attributed callers, so no 512-bit
// vector ever crosses a call boundary compiled without AVX-512.
#pragma clang diagnostic ignored "-Wpsabi"

enum { LANES = 16, PREFETCH_AHEAD = 16 };

static inline int32_t padded(int32_t f) { return (f + LANES - 1) & ~(LANES - 1); }

int32_t cr_cg_row_scratch(int32_t factors) { return 4 * padded(factors); }

int32_t cr_cg_padded(int32_t factors) { return padded(factors); }

// MARK: - Reference: scalar, any x86-64 CPU

// Element i of a row of f floats read as a padded vector.
static inline float ref_at(const float *row, int32_t f, int32_t i) { return i < f ? row[i] : 0.0f; }

static float ref_fold(float acc[LANES]) {
    for (int width = LANES / 2; width >= 1; width /= 2)
        for (int j = 0; j < width; j++) acc[j] = acc[j] + acc[j + width];
    return acc[0];
}

// a · v, with a a row of f floats and v padded.
static float ref_dot(const float *a, int32_t f, const float *v) {
    float acc[LANES] = {0};
    for (int32_t i = 0; i < padded(f); i++) acc[i % LANES] = fmaf(ref_at(a, f, i), v[i], acc[i % LANES]);
    return ref_fold(acc);
}

// out ← s·a + out over the padded length.
static void ref_axpy(float s, const float *a, int32_t f, float *out) {
    for (int32_t i = 0; i < padded(f); i++) out[i] = fmaf(s, ref_at(a, f, i), out[i]);
}

// out ← sign·G·v = Σⱼ (sign·vⱼ)·Gⱼ, row by row of the symmetric G.
static void ref_gram(const float *gram, int32_t f, const float *v, float sign, float *out) {
    memset(out, 0, sizeof(float) * (size_t)padded(f));
    for (int32_t j = 0; j < f; j++) ref_axpy(sign * v[j], gram + (size_t)j * f, f, out);
}

// out += Σₖ φₖ·yₖ with φₖ = (1 + wₖ) − wₖ·(yₖ·v) (residual) or wₖ·(yₖ·v) (product),
// wₖ = α·valₖ.
static void ref_entries(int32_t f, int32_t count, const int32_t *idx, const float *val, float alpha,
                        const float *fixed, const float *v, int residual, float *out) {
    for (int32_t k = 0; k < count; k++) {
        const float *y = fixed + (size_t)idx[k] * f;
        float t = ref_dot(y, f, v);
        float wk = alpha * val[k];
        float phi = residual ? fmaf(-wk, t, 1.0f + wk) : wk * t;
        ref_axpy(phi, y, f, out);
    }
}

// out ← sign·(G + ridge·I)·v: the row's own ridge, when it has one, after the Gram product.
static void ref_gram_ridge(const float *gram, int32_t f, float ridge, const float *v, float sign, float *out) {
    ref_gram(gram, f, v, sign, out);
    if (ridge != 0.0f) ref_axpy(sign * ridge, v, f, out);
}

static void ref_cg(int32_t f, int32_t count, const int32_t *idx, const float *val, float alpha,
                   const float *fixed, const float *gram, float ridge, float *x, int32_t steps, float tol,
                   float *scratch) {
    int32_t n = padded(f);
    float *xs = scratch, *r = scratch + n, *p = scratch + 2 * n, *ap = scratch + 3 * n;
    memset(xs, 0, sizeof(float) * (size_t)n);
    memcpy(xs, x, sizeof(float) * (size_t)f);
    ref_gram_ridge(gram, f, ridge, xs, -1.0f, r);
    ref_entries(f, count, idx, val, alpha, fixed, xs, 1, r);
    memcpy(p, r, sizeof(float) * (size_t)n);
    float rs = ref_dot(r, n, r);
    if (rs < tol) return;
    for (int32_t s = 0; s < steps; s++) {
        ref_gram_ridge(gram, f, ridge, p, 1.0f, ap);
        ref_entries(f, count, idx, val, alpha, fixed, p, 0, ap);
        float step = rs / ref_dot(p, n, ap);
        for (int32_t i = 0; i < n; i++) {
            xs[i] = fmaf(step, p[i], xs[i]);
            r[i] = fmaf(-step, ap[i], r[i]);
        }
        float rsNew = ref_dot(r, n, r);
        if (rsNew < tol) break;
        float beta = rsNew / rs;
        for (int32_t i = 0; i < n; i++) p[i] = fmaf(beta, p[i], r[i]);
        rs = rsNew;
    }
    memcpy(x, xs, sizeof(float) * (size_t)f);
}

// MARK: - Vector levels: one body, compiled inside each target-attributed entry point

typedef float v16 __attribute__((ext_vector_type(16)));
typedef float v8 __attribute__((ext_vector_type(8)));
typedef float v4 __attribute__((ext_vector_type(4)));
typedef float v2 __attribute__((ext_vector_type(2)));

#define BODY static inline __attribute__((always_inline))

BODY v16 vload(const float *p) { v16 v; memcpy(&v, p, sizeof v); return v; }
BODY void vstore(float *p, v16 v) { memcpy(p, &v, sizeof v); }
BODY v16 vfma(v16 a, v16 b, v16 c) { return __builtin_elementwise_fma(a, b, c); }

// Block b of a row of f floats, zero beyond f.
BODY v16 vblock(const float *row, int32_t f, int32_t b) {
    int32_t start = b * LANES;
    if (f - start >= LANES) return vload(row + start);
    v16 v = 0;
    memcpy(&v, row + start, sizeof(float) * (size_t)(f - start));
    return v;
}

BODY float vfold(v16 a) {
    v8 h = a.lo + a.hi;
    v4 q = h.lo + h.hi;
    v2 d = q.lo + q.hi;
    return d.x + d.y;
}

BODY float vdot(const float *a, const float *b, int32_t nb) {
    v16 acc = 0;
    for (int32_t i = 0; i < nb; i++) acc = vfma(vload(a + i * LANES), vload(b + i * LANES), acc);
    return vfold(acc);
}

BODY void vgram(const float *gram, int32_t f, int32_t nb, const float *v, float sign, float *out) {
    v16 o[nb];
    for (int32_t i = 0; i < nb; i++) o[i] = 0;
    for (int32_t j = 0; j < f; j++) {
        v16 s = sign * v[j];
        for (int32_t i = 0; i < nb; i++) o[i] = vfma(s, vblock(gram + (size_t)j * f, f, i), o[i]);
    }
    for (int32_t i = 0; i < nb; i++) vstore(out + i * LANES, o[i]);
}

// out ← sign·(G + ridge·I)·v, the ridge added lane by lane after the Gram product (as the
// reference does).
BODY void vgram_ridge(const float *gram, int32_t f, int32_t nb, float ridge, const float *v, float sign, float *out) {
    vgram(gram, f, nb, v, sign, out);
    if (ridge == 0.0f) return;
    v16 s = sign * ridge;
    for (int32_t i = 0; i < nb; i++) vstore(out + i * LANES, vfma(s, vload(v + i * LANES), vload(out + i * LANES)));
}

// Where a pass reads the row's factor rows: in place through the indices (and, on the first
// pass, copying them into `gathered`, stride n), or from that contiguous copy.
enum { IN_PLACE = 0, IN_PLACE_GATHERING = 1, GATHERED = 2 };

// Loads entry k's factor row into y (copying it into `gathered` when asked) and returns its
// lane-wise products with v, not yet folded.
BODY v16 vrow(int32_t f, int32_t nb, int32_t k, int32_t count, const int32_t *idx,
              const float *fixed, float *gathered, int source, const v16 *vb, v16 *y) {
    int32_t n = nb * LANES;
    v16 acc = 0;
    if (source == GATHERED) {
        const float *row = gathered + (size_t)k * n;
        for (int32_t i = 0; i < nb; i++) { y[i] = vload(row + i * LANES); acc = vfma(y[i], vb[i], acc); }
        return acc;
    }
    if (k + PREFETCH_AHEAD < count) {
        const char *next = (const char *)(fixed + (size_t)idx[k + PREFETCH_AHEAD] * f);
        for (int32_t line = 0; line < f * 4; line += 64) __builtin_prefetch(next + line);
    }
    const float *row = fixed + (size_t)idx[k] * f;
    for (int32_t i = 0; i < nb; i++) { y[i] = vblock(row, f, i); acc = vfma(y[i], vb[i], acc); }
    if (source == IN_PLACE_GATHERING)
        for (int32_t i = 0; i < nb; i++) vstore(gathered + (size_t)k * n + i * LANES, y[i]);
    return acc;
}

// φₖ from tₖ = yₖ·v.
BODY float vphi(float t, float wk, int residual) { return residual ? fmaf(-wk, t, 1.0f + wk) : wk * t; }

// The fused pass: each yₖ is loaded once, dotted with v and added to out while in registers.
// Entries go two at a time, so one's reduction overlaps the other's loads.
BODY void ventries(int32_t f, int32_t nb, int32_t count, const int32_t *idx, const float *val,
                   float alpha, const float *fixed, float *gathered, int source, const float *v,
                   int residual, float *out) {
    v16 vb[nb], o[nb], y0[nb], y1[nb];
    for (int32_t i = 0; i < nb; i++) { vb[i] = vload(v + i * LANES); o[i] = vload(out + i * LANES); }
    int32_t k = 0;
    for (; k + 1 < count; k += 2) {
        v16 a0 = vrow(f, nb, k, count, idx, fixed, gathered, source, vb, y0);
        v16 a1 = vrow(f, nb, k + 1, count, idx, fixed, gathered, source, vb, y1);
        v16 phi0 = vphi(vfold(a0), alpha * val[k], residual);
        v16 phi1 = vphi(vfold(a1), alpha * val[k + 1], residual);
        for (int32_t i = 0; i < nb; i++) o[i] = vfma(phi1, y1[i], vfma(phi0, y0[i], o[i]));
    }
    if (k < count) {
        v16 a0 = vrow(f, nb, k, count, idx, fixed, gathered, source, vb, y0);
        v16 phi0 = vphi(vfold(a0), alpha * val[k], residual);
        for (int32_t i = 0; i < nb; i++) o[i] = vfma(phi0, y0[i], o[i]);
    }
    for (int32_t i = 0; i < nb; i++) vstore(out + i * LANES, o[i]);
}

BODY void vupdate(int32_t nb, float step, float *xs, float *r, const float *p, const float *ap) {
    for (int32_t i = 0; i < nb; i++) {
        vstore(xs + i * LANES, vfma(step, vload(p + i * LANES), vload(xs + i * LANES)));
        vstore(r + i * LANES, vfma(-step, vload(ap + i * LANES), vload(r + i * LANES)));
    }
}

BODY void vdirection(int32_t nb, float beta, float *p, const float *r) {
    for (int32_t i = 0; i < nb; i++)
        vstore(p + i * LANES, vfma(beta, vload(p + i * LANES), vload(r + i * LANES)));
}

// A row of at most `capacity` entries is gathered during the first pass and read from the
// copy by the others: one random access per entry instead of one per pass.
BODY void vcg(int32_t nb, int32_t f, int32_t count, const int32_t *idx, const float *val, float alpha,
              const float *fixed, const float *gram, float ridge, float *x, int32_t steps, float tol,
              float *scratch, float *gathered, int32_t capacity) {
    int32_t n = nb * LANES;
    int fits = count <= capacity;
    float *xs = scratch, *r = scratch + n, *p = scratch + 2 * n, *ap = scratch + 3 * n;
    memset(xs, 0, sizeof(float) * (size_t)n);
    memcpy(xs, x, sizeof(float) * (size_t)f);
    vgram_ridge(gram, f, nb, ridge, xs, -1.0f, r);
    ventries(f, nb, count, idx, val, alpha, fixed, gathered, fits ? IN_PLACE_GATHERING : IN_PLACE, xs, 1, r);
    memcpy(p, r, sizeof(float) * (size_t)n);
    float rs = vdot(r, r, nb);
    if (rs < tol) return;
    for (int32_t s = 0; s < steps; s++) {
        vgram_ridge(gram, f, nb, ridge, p, 1.0f, ap);
        ventries(f, nb, count, idx, val, alpha, fixed, gathered, fits ? GATHERED : IN_PLACE, p, 0, ap);
        float step = rs / vdot(p, ap, nb);
        vupdate(nb, step, xs, r, p, ap);
        float rsNew = vdot(r, r, nb);
        if (rsNew < tol) break;
        vdirection(nb, rsNew / rs, p, r);
        rs = rsNew;
    }
    memcpy(x, xs, sizeof(float) * (size_t)f);
}

// Common factor counts get a body with f fixed at compile time, so the row stays in registers
// and no block needs the partial-load path.
#define DISPATCH_ON_FACTORS(f, ...) \
    switch (f) { \
    case 16: vcg(1, 16, __VA_ARGS__); break; \
    case 32: vcg(2, 32, __VA_ARGS__); break; \
    case 64: vcg(4, 64, __VA_ARGS__); break; \
    case 128: vcg(8, 128, __VA_ARGS__); break; \
    default: vcg(padded(f) / LANES, f, __VA_ARGS__); break; \
    }

// One entry point per vector level: the same body under the level's target attribute.
#define VECTOR_LEVEL(name, features) \
    __attribute__((target(features))) \
    static void name(int32_t f, int32_t count, const int32_t *idx, const float *val, float alpha, \
                     const float *fixed, const float *gram, float ridge, float *x, int32_t steps, float tol, \
                     float *scratch, float *gathered, int32_t capacity) { \
        DISPATCH_ON_FACTORS(f, count, idx, val, alpha, fixed, gram, ridge, x, steps, tol, scratch, \
                            gathered, capacity) \
    }

VECTOR_LEVEL(avx2_cg, "avx2,fma")
VECTOR_LEVEL(avx512_cg, "avx512f")

void cr_cg_row(cr_kernel_level level, int32_t f, int32_t count, const int32_t *idx,
               const float *val, float alpha, const float *fixed, const float *gram, float ridge, float *x,
               int32_t steps, float tol, float *scratch, float *gathered, int32_t capacity) {
    switch (level) {
    case CR_KERNEL_AVX512:
        avx512_cg(f, count, idx, val, alpha, fixed, gram, ridge, x, steps, tol, scratch, gathered, capacity);
        break;
    case CR_KERNEL_AVX2_FMA:
        avx2_cg(f, count, idx, val, alpha, fixed, gram, ridge, x, steps, tol, scratch, gathered, capacity);
        break;
    default: ref_cg(f, count, idx, val, alpha, fixed, gram, ridge, x, steps, tol, scratch); break;  // in place
    }
}
