/* The arithmetic peak of this x86-64 core for single-precision sums of products in 512-bit
 * registers: multiply-adds a nanosecond, done as a product and a separate sum (what tfgraph's
 * default build does, `Elem::add_product`) and as one fused multiply-add (what its `fma` feature,
 * TFLite's XNNPACK and XLA do). Twelve independent accumulators, enough to hide either latency;
 * written in assembly so that no compiler can hoist, fuse or drop the products. Best of five rounds.
 *
 *     gcc -O2 -mavx512f tools/peak_mac.c -o /tmp/peak_mac && /tmp/peak_mac
 *
 * docs/internals/speed.md divides each model's multiply-adds by its time and compares the rate
 * with these two. Needs AVX-512 (`grep avx512f /proc/cpuinfo`).
 */
#include <stdio.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(void) {
    const long rounds = 200000000;
    double separate = 1e9, fused = 1e9;
    for (int r = 0; r < 5; r++) {
        long left = rounds;
        double t0 = now();
        __asm__ volatile(
        "1:\n\t"
        "vmulps %%zmm30, %%zmm31, %%zmm12\n\t" "vaddps %%zmm12, %%zmm0, %%zmm0\n\t"
        "vmulps %%zmm30, %%zmm31, %%zmm13\n\t" "vaddps %%zmm13, %%zmm1, %%zmm1\n\t"
        "vmulps %%zmm30, %%zmm31, %%zmm14\n\t" "vaddps %%zmm14, %%zmm2, %%zmm2\n\t"
        "vmulps %%zmm30, %%zmm31, %%zmm15\n\t" "vaddps %%zmm15, %%zmm3, %%zmm3\n\t"
        "vmulps %%zmm30, %%zmm31, %%zmm16\n\t" "vaddps %%zmm16, %%zmm4, %%zmm4\n\t"
        "vmulps %%zmm30, %%zmm31, %%zmm17\n\t" "vaddps %%zmm17, %%zmm5, %%zmm5\n\t"
        "vmulps %%zmm30, %%zmm31, %%zmm18\n\t" "vaddps %%zmm18, %%zmm6, %%zmm6\n\t"
        "vmulps %%zmm30, %%zmm31, %%zmm19\n\t" "vaddps %%zmm19, %%zmm7, %%zmm7\n\t"
        "vmulps %%zmm30, %%zmm31, %%zmm20\n\t" "vaddps %%zmm20, %%zmm8, %%zmm8\n\t"
        "vmulps %%zmm30, %%zmm31, %%zmm21\n\t" "vaddps %%zmm21, %%zmm9, %%zmm9\n\t"
        "vmulps %%zmm30, %%zmm31, %%zmm22\n\t" "vaddps %%zmm22, %%zmm10, %%zmm10\n\t"
        "vmulps %%zmm30, %%zmm31, %%zmm23\n\t" "vaddps %%zmm23, %%zmm11, %%zmm11\n\t"
        "dec %0\n\t"
        "jnz 1b\n\t"
        : "+r"(left) : : "zmm0", "zmm1", "zmm2", "zmm3", "zmm4", "zmm5", "zmm6", "zmm7", "zmm8", "zmm9", "zmm10", "zmm11", "zmm12", "zmm13", "zmm14", "zmm15", "zmm16", "zmm17", "zmm18", "zmm19", "zmm20", "zmm21", "zmm22", "zmm23", "cc");
        double t1 = now();
        left = rounds;
        __asm__ volatile(
        "1:\n\t"
        "vfmadd231ps %%zmm30, %%zmm31, %%zmm0\n\t"
        "vfmadd231ps %%zmm30, %%zmm31, %%zmm1\n\t"
        "vfmadd231ps %%zmm30, %%zmm31, %%zmm2\n\t"
        "vfmadd231ps %%zmm30, %%zmm31, %%zmm3\n\t"
        "vfmadd231ps %%zmm30, %%zmm31, %%zmm4\n\t"
        "vfmadd231ps %%zmm30, %%zmm31, %%zmm5\n\t"
        "vfmadd231ps %%zmm30, %%zmm31, %%zmm6\n\t"
        "vfmadd231ps %%zmm30, %%zmm31, %%zmm7\n\t"
        "vfmadd231ps %%zmm30, %%zmm31, %%zmm8\n\t"
        "vfmadd231ps %%zmm30, %%zmm31, %%zmm9\n\t"
        "vfmadd231ps %%zmm30, %%zmm31, %%zmm10\n\t"
        "vfmadd231ps %%zmm30, %%zmm31, %%zmm11\n\t"
        "dec %0\n\t"
        "jnz 1b\n\t"
        : "+r"(left) : : "zmm0", "zmm1", "zmm2", "zmm3", "zmm4", "zmm5", "zmm6", "zmm7", "zmm8", "zmm9", "zmm10", "zmm11", "zmm12", "zmm13", "zmm14", "zmm15", "zmm16", "zmm17", "zmm18", "zmm19", "zmm20", "zmm21", "zmm22", "zmm23", "cc");
        double t2 = now();
        if (t1 - t0 < separate) separate = t1 - t0;
        if (t2 - t1 < fused) fused = t2 - t1;
    }
    double macs = (double)rounds * 12 * 16;
    printf("512-bit product, then sum: %.1f multiply-adds a nanosecond\n", macs / separate * 1e-9);
    printf("512-bit fused multiply-add: %.1f multiply-adds a nanosecond\n", macs / fused * 1e-9);
    return 0;
}
