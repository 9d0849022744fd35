// cpuid and xgetbv: which instruction sets this CPU has and the OS has enabled.
#include "CPUKernels.h"
#include <cpuid.h>
#include <string.h>

static uint64_t xcr0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static void identify_brand(cr_cpu_identity *out) {
    uint32_t regs[12], top = __get_cpuid_max(0x80000000u, 0);
    if (top < 0x80000004u) return;
    for (uint32_t i = 0; i < 3; i++)
        __cpuid(0x80000002u + i, regs[4 * i], regs[4 * i + 1], regs[4 * i + 2], regs[4 * i + 3]);
    memcpy(out->brand, regs, 48);
    out->brand[48] = 0;
}

void cr_cpu_identify(cr_cpu_identity *out) {
    memset(out, 0, sizeof *out);
    uint32_t a, b, c, d, top = __get_cpuid_max(0, 0);
    if (top < 1) return;
    __cpuid(0, a, b, c, d);
    memcpy(out->vendor, &b, 4); memcpy(out->vendor + 4, &d, 4); memcpy(out->vendor + 8, &c, 4);
    __cpuid(1, a, b, c, d);
    uint32_t family = (a >> 8) & 0xf, model = (a >> 4) & 0xf;
    if (family == 0xf) family += (a >> 20) & 0xff;
    if (family == 0x6 || family >= 0xf) model |= ((a >> 16) & 0xf) << 4;
    out->family = family;
    out->model = model;
    out->sse3 = c & 1;
    out->fma = (c >> 12) & 1;
    out->avx = (c >> 28) & 1;
    if ((c >> 27) & 1) {  // OSXSAVE: xgetbv may be executed
        uint64_t xcr = xcr0();
        out->osYMM = (xcr & 0x6) == 0x6;
        out->osZMM = out->osYMM && (xcr & 0xe0) == 0xe0;
    }
    if (top >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        out->avx2 = (b >> 5) & 1;
        out->avx512f = (b >> 16) & 1;
        out->avx512dq = (b >> 17) & 1;
        out->avx512bw = (b >> 30) & 1;
        out->avx512vl = (b >> 31) & 1;
    }
    identify_brand(out);
}
