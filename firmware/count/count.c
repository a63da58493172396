/*
 * Counts the instructions a guest executes between two addresses, for firmware/check.sh: a QEMU
 * TCG plugin (API version 1, which Debian's QEMU 7.2 loads).
 *
 *   qemu-system-arm ... -plugin ./count.so,start=0x1234,end=0x1240,out=counts.txt
 *
 * Every time the guest executes the instruction at `end`, a line goes to `out`: the number of
 * guest instructions executed since it last executed the one at `start`. The firmware calls
 * `demo::inference_start` and `demo::inference_end` around each inference; check.sh passes their
 * addresses (from `nm`). The count is deterministic: TCG executes the guest's instructions one
 * translation block at a time, and the plugin adds each block's instruction count as it enters
 * the block, so the figure depends only on the program and its inputs, never on the host.
 *
 * QEMU 7.2's Debian package ships no `qemu-plugin.h`; the few declarations needed are written
 * out below, as that header (include/qemu/qemu-plugin.h, QEMU 7.2) declares them.
 *
 * Build: gcc -shared -fPIC -O2 -o count.so count.c
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- from qemu-plugin.h (QEMU 7.2, QEMU_PLUGIN_VERSION 1) --- */
typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t qemu_info_t; /* only ever passed by pointer here */
struct qemu_plugin_tb;
struct qemu_plugin_insn;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS };
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb, enum qemu_plugin_op op,
                                              void *ptr, uint64_t imm);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn, qemu_plugin_vcpu_udata_cb_t cb,
                                            enum qemu_plugin_cb_flags flags, void *userdata);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
#define QEMU_PLUGIN_EXPORT __attribute__((visibility("default")))
/* --- end of the declarations --- */

QEMU_PLUGIN_EXPORT int qemu_plugin_version = 1;

/* Guest instructions executed so far (one vCPU: the Cortex-M machines have one). */
static uint64_t executed;
/* `executed` when the guest last reached `start`. */
static uint64_t started;
static uint64_t start_addr, end_addr;
static FILE *out;

static void at_start(unsigned int vcpu, void *data) { started = executed; }

static void at_end(unsigned int vcpu, void *data) {
    fprintf(out, "%" PRIu64 "\n", executed - started);
    fflush(out);
}

static void translated(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
    size_t n = qemu_plugin_tb_n_insns(tb);
    qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &executed, n);
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        uint64_t addr = qemu_plugin_insn_vaddr(insn);
        if (addr == start_addr)
            qemu_plugin_register_vcpu_insn_exec_cb(insn, at_start, QEMU_PLUGIN_CB_NO_REGS, NULL);
        if (addr == end_addr)
            qemu_plugin_register_vcpu_insn_exec_cb(insn, at_end, QEMU_PLUGIN_CB_NO_REGS, NULL);
    }
}

static void finished(qemu_plugin_id_t id, void *data) { fclose(out); }

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
                                           char **argv) {
    const char *path = NULL;
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "start=", 6) == 0)
            start_addr = strtoull(argv[i] + 6, NULL, 0) & ~1ull; /* a Thumb symbol's bit 0 set */
        else if (strncmp(argv[i], "end=", 4) == 0)
            end_addr = strtoull(argv[i] + 4, NULL, 0) & ~1ull;
        else if (strncmp(argv[i], "out=", 4) == 0)
            path = argv[i] + 4;
    }
    if (!start_addr || !end_addr || !path) {
        fprintf(stderr, "count.so needs start=<address>,end=<address>,out=<file>\n");
        return -1;
    }
    out = fopen(path, "w");
    if (!out) {
        perror(path);
        return -1;
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, translated);
    qemu_plugin_register_atexit_cb(id, finished, NULL);
    return 0;
}
