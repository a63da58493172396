#!/usr/bin/env bash
# The firmware, checked end to end:
#  1. builds it for the Cortex-M4F (thumbv7em-none-eabihf), with and without each model, and for
#     the Cortex-M0 (thumbv6m-none-eabi) with and without each int8 model;
#  2. runs it under QEMU (mps2-an386 for the M4F; for the M0, the micro:bit with its memory
#     enlarged) with a time limit, counting the instructions of every inference with a TCG plugin
#     (count/count.c);
#  3. runs the same demo source on the host (examples/firmware_host.rs) and fails loudly unless
#     each device printed exactly what the host computed, and every int8 model printed TensorFlow
#     Lite Micro's outputs (expected_int8.npy);
#  4. reports flash, RAM and peak stack, and each model's own cost (each build minus the build
#     without the model, and minus the test data it runs on), and instructions per inference.
# Needs the two targets, qemu-system-arm, gcc and binutils' `size` and `nm` (.ci/run installs them).
set -euo pipefail
cd "$(dirname "$0")"

M4=thumbv7em-none-eabihf
M0=thumbv6m-none-eabi
OUT=target/check
mkdir -p "$OUT"

# build <core> <name> <cargo arguments...>: target/check/<name>.elf
build() {
    local target=$1 name=$2
    shift 2
    echo "== building the firmware: $name"
    cargo build --release --quiet --target "$target" "$@"
    cp "target/$target/release/tfgraph-firmware" "$OUT/$name.elf"
}
build $M4 baseline --no-default-features
build $M4 inference --no-default-features --features inference
build $M4 inference+training --no-default-features --features inference,training
for model in kws kws_onnx resnet8 autoencoder kws_int8 resnet8_int8 autoencoder_int8; do
    build $M4 "$model" --no-default-features --features "$model"
done
build $M4 full
build $M0 m0-baseline --no-default-features
for model in kws_int8 resnet8_int8 autoencoder_int8; do
    build $M0 "m0-$model" --no-default-features --features "$model"
done
build $M0 m0-int8 --no-default-features --features int8

echo "== building the instruction counter (count/count.c, a QEMU TCG plugin)"
gcc -shared -fPIC -O2 -Wall -Wextra -Wno-unused-parameter -o "$OUT/count.so" count/count.c

# The address of a function of demo.rs in an ELF file.
address() { nm -C "$1" | awk -v f="tfgraph_firmware::demo::$2" '$3 == f { print "0x" $1 }'; }

# run <name> <machine arguments...>: runs target/check/<name>.elf, its output in <name>.txt and the
# instructions of each inference (demo::inference_start to demo::inference_end) in <name>.counts.
run() {
    local name=$1 elf="$OUT/$1.elf"
    shift
    local plugin="$OUT/count.so,start=$(address "$elf" inference_start),end=$(address "$elf" inference_end),out=$OUT/$name.counts"
    if ! timeout 300 qemu-system-arm "$@" -semihosting-config enable=on,target=native -nographic \
        -plugin "$plugin" -kernel "$elf" > "$OUT/$name.txt"; then
        cat "$OUT/$name.txt"
        echo "FAILED: the firmware ($name) did not exit successfully within 300 s" >&2
        exit 1
    fi
    cat "$OUT/$name.txt"
}

echo "== running the firmware under QEMU (mps2-an386, Cortex-M4F)"
run full -M mps2-an386 -cpu cortex-m4
cp "$OUT/full.txt" "$OUT/device.txt"
echo "== running the int8 models under QEMU (microbit, Cortex-M0, flash and SRAM enlarged)"
run m0-int8 -M microbit -global nrf51-soc.flash-size=1048576 -global nrf51-soc.sram-size=262144

echo "== running the same demo on the host"
(cd .. && cargo run --release --quiet --example firmware_host) > "$OUT/host.txt"
if ! diff -u "$OUT/host.txt" <(grep -v '^#' "$OUT/device.txt"); then
    echo "FAILED: the Cortex-M4F printed something other than what the host computed (diff above: - host, + device)" >&2
    exit 1
fi
echo "== the Cortex-M4F printed exactly what the host computed, bit for bit ($(wc -l < "$OUT/host.txt") lines)"
if ! diff -u <(sed -n '/^kws_int8:/,$p' "$OUT/host.txt") <(grep -v '^#' "$OUT/m0-int8.txt"); then
    echo "FAILED: the Cortex-M0 printed something other than what the host computed (diff above: - host, + device)" >&2
    exit 1
fi
echo "== the Cortex-M0 printed exactly what the host computed for the int8 models, bit for bit"

# Every int8 inference printed TensorFlow Lite Micro's output (demo.rs compares it with
# expected_int8.npy, element for element, on the device).
for name in device m0-int8; do
    tflm=$(sed -n '/^kws_int8:/,$p' "$OUT/$name.txt" | grep -c "^  input .*; TFLite Micro's, bit for bit$" || true)
    if [ "$tflm" -ne 24 ]; then
        echo "FAILED: $tflm of the 24 int8 inferences in $name.txt printed TFLite Micro's outputs" >&2
        exit 1
    fi
done
echo "== the 24 int8 inferences on each core printed TensorFlow Lite Micro's outputs (expected_int8.npy), bit for bit"

# Keyword spotting imported from ONNX must answer what the hand-written graph answers, bit for bit.
answers() { sed -n "/^$1:/,/^[a-z_0-9]*:/p" "$OUT/host.txt" | grep '^  input'; }
if ! diff -u <(answers kws) <(answers kws_onnx); then
    echo "FAILED: keyword spotting imported from ONNX differs from the hand-written graph (diff above)" >&2
    exit 1
fi
echo "== keyword spotting imported from ONNX printed what the hand-written graph printed, bit for bit"

# stack <device output> <part>: the peak stack it printed for that part of the demo.
stack() { sed -n "s/^# stack: $2 used \([0-9]*\) bytes$/\1/p" "$OUT/$1.txt"; }
sizes() { size "$OUT/$1.elf" | awk 'NR == 2 { print $1, $2, $3 }'; }
printing=$(stack full "printing a float")
read -r base_text base_data base_bss < <(sizes baseline)
echo "== sizes on the Cortex-M4F (bytes; flash = text + data, RAM = data + bss; the model's cost is the build minus the baseline)"
printf '| %-22s | %6s | %5s | %5s | %12s | %14s | %14s |\n' build text data bss "model flash" "model static RAM" "peak stack"
printf '|%s|%s|%s|%s|%s|%s|%s|\n' ------------------------ -------- ------- ------- -------------- ---------------- ----------------
for name in baseline inference inference+training full; do
    read -r text data bss < <(sizes "$name")
    case $name in
        baseline) peak="$printing (printing)" ;;
        inference) peak="$(stack full inference)" ;;
        inference+training) peak="$(stack full training)" ;;
        full) peak="$(stack full bond) (bond)" ;;
    esac
    printf '| %-22s | %6s | %5s | %5s | %12s | %14s | %14s |\n' "$name" "$text" "$data" "$bss" \
        "$((text + data - base_text - base_data))" "$((data + bss - base_data - base_bss))" "$peak"
done
echo "Peak stack: the deepest stack the run reached below main, including its printing ($printing bytes to print a float)."

# The sum of the sizes of an ELF file's symbols whose (mangled) names match a pattern.
symbols() {
    local total=0 size
    while read -r size; do total=$((total + 0x$size)); done < <(nm -S "$OUT/$1.elf" | awk -v p="$2" '$4 ~ p { print $2 }')
    echo "$total"
}
# The weights: the graph's constant tensors (`static`s named `__C<n>`) and the int8 layers'
# weights, biases and rescaling constants (`__W`, `__B`, `__M`, `__S`).
WEIGHTS='__(C[0-9]+|W|B|M|S)17h[0-9a-f]+E$'
# The test data the demo runs the models on (`demo::data::*`), not part of the model.
DATA='4demo4data'
# mean <counts file> <first line> <lines>: the mean of that many counts, rounded.
mean() { sed -n "$2,$(($2 + $3 - 1))p" "$OUT/$1.counts" | awk '{ s += $1 } END { printf "%.0f", s / NR }'; }

# The models each run counts, in the order it runs them (main.rs), eight inferences each.
declare -A RUNS=([full]="kws kws_onnx resnet8 autoencoder kws_int8 resnet8_int8 autoencoder_int8" [m0-int8]="kws_int8 resnet8_int8 autoencoder_int8")
# measure <build>: the cost of the model of a build of its own (`m0-` for the Cortex-M0's), in
# core, model, flash (minus the baseline and the test data), weights, static RAM, peak stack and
# instructions per inference (the mean over its eight inputs in the full run of its core).
measure() {
    local name=$1 base run text data bss btext bdata bbss k=0 m
    case $name in
        m0-*) core=Cortex-M0 base=m0-baseline model=${name#m0-} run=m0-int8 ;;
        *) core=Cortex-M4F base=baseline model=$name run=full ;;
    esac
    read -r text data bss < <(sizes "$name")
    read -r btext bdata bbss < <(sizes "$base")
    flash=$((text + data - btext - bdata - $(symbols "$name" "$DATA")))
    weights=$(symbols "$name" "$WEIGHTS")
    static=$((data + bss - bdata - bbss))
    peak=$(stack "$run" "$model")
    for m in ${RUNS[$run]}; do
        [ "$m" = "$model" ] && break
        k=$((k + 1))
    done
    instructions=$(mean "$run" $((k * 8 + 1)) 8)
}

# The MLPerf Tiny models, each in a build of its own: flash split into weights and code, RAM
# (static and peak stack), and instructions per inference.
echo "== the MLPerf Tiny models (bytes; each its own build, minus the baseline and the test data)"
printf '| %-16s | %-10s | %11s | %8s | %7s | %10s | %10s | %26s |\n' model core "model flash" weights code "static RAM" "peak stack" "instructions per inference"
printf '|%s|%s|%s|%s|%s|%s|%s|%s|\n' ------------------ ------------ ------------- ---------- --------- ------------ ------------ ----------------------------
for name in kws kws_onnx resnet8 autoencoder kws_int8 resnet8_int8 autoencoder_int8 m0-kws_int8 m0-resnet8_int8 m0-autoencoder_int8; do
    measure "$name"
    printf '| %-16s | %-10s | %11s | %8s | %7s | %10s | %10s | %26s |\n' "$model" "$core" "$flash" "$weights" \
        "$((flash - weights))" "$static" "$peak" "$instructions"
done
echo "Instructions: guest instructions QEMU executed from demo::inference_start to demo::inference_end"
echo "(count/count.c), the mean over the eight inputs; they do not depend on the host or its load."

# The int8 models against what a user would deploy instead: the .tflite file's size (flash) and
# TensorFlow Lite Micro's smallest arena for it (RAM), from ../shared/models/README.md, and the
# goals of issue 32 (RAM at most 0.75 x the arena, flash at most the file, and on the M4 fewer
# instructions than CMSIS-NN's TFLite Micro needs cycles in MLPerf Tiny v0.5's reference results).
arena() { case $1 in kws_int8) echo 24317 ;; resnet8_int8) echo 55993 ;; autoencoder_int8) echo 4671 ;; esac; }
instructions_goal() { case $1 in kws_int8) echo 15000000 ;; resnet8_int8) echo 60000000 ;; autoencoder_int8) echo 850000 ;; esac; }
echo "== the int8 models against TensorFlow Lite Micro (bytes; peak RAM = static RAM + peak stack)"
printf '| %-16s | %-10s | %11s | %8s | %8s | %10s | %13s | %12s |\n' model core "model flash" ".tflite" "peak RAM" "TFLM arena" "RAM / arena" instructions
printf '|%s|%s|%s|%s|%s|%s|%s|%s|\n' ------------------ ------------ ------------- ---------- ---------- ------------ --------------- --------------
for name in kws_int8 resnet8_int8 autoencoder_int8 m0-kws_int8 m0-resnet8_int8 m0-autoencoder_int8; do
    measure "$name"
    ram=$((static + peak))
    file=$(stat -c %s "../tests/data/models/${model%_int8}/model_int8.tflite")
    printf '| %-16s | %-10s | %11s | %8s | %8s | %10s | %13s | %12s |\n' "$model" "$core" "$flash" "$file" "$ram" \
        "$(arena "$model")" "$(awk -v r="$ram" -v a="$(arena "$model")" 'BEGIN { printf "%.2f", r / a }')" "$instructions"
done
echo "Goals (issue 32): RAM / arena at most 0.75; model flash at most the .tflite file; on the M4,"
for model in kws_int8 resnet8_int8 autoencoder_int8; do
    printf '%s at most %s instructions; ' "$model" "$(instructions_goal "$model")"
done
echo
