#!/usr/bin/env bash
# The firmware, checked end to end:
#  1. builds it for the Cortex-M4F (thumbv7em-none-eabihf), with and without the model;
#  2. runs it under QEMU (mps2-an386) with a time limit;
#  3. runs the same demo source on the host (examples/firmware_host.rs) and fails loudly unless
#     the device printed exactly what the host computed;
#  4. reports flash, RAM and peak stack, and the model's own cost (each build minus the build
#     without the model).
# Needs the thumbv7em-none-eabihf target, qemu-system-arm and binutils' `size` (.ci/run installs them).
set -euo pipefail
cd "$(dirname "$0")"

TARGET=thumbv7em-none-eabihf
ELF="target/$TARGET/release/tfgraph-firmware"
OUT=target/check
mkdir -p "$OUT"

build() {
    local name=$1
    shift
    echo "== building the firmware: $name"
    cargo build --release --quiet "$@"
    cp "$ELF" "$OUT/$name.elf"
}
build baseline --no-default-features
build inference --no-default-features --features inference
build inference+training --no-default-features --features inference,training
build kws --no-default-features --features kws
build kws_onnx --no-default-features --features kws_onnx
build resnet8 --no-default-features --features resnet8
build autoencoder --no-default-features --features autoencoder
build full

echo "== running the firmware under QEMU (mps2-an386, Cortex-M4F)"
if ! timeout 120 qemu-system-arm -M mps2-an386 -cpu cortex-m4 -semihosting-config enable=on,target=native \
    -nographic -kernel "$OUT/full.elf" > "$OUT/device.txt"; then
    cat "$OUT/device.txt"
    echo "FAILED: the firmware did not exit successfully within 120 s" >&2
    exit 1
fi
cat "$OUT/device.txt"

echo "== running the same demo on the host"
(cd .. && cargo run --release --quiet --example firmware_host) > "$OUT/host.txt"
if ! diff -u "$OUT/host.txt" <(grep -v '^#' "$OUT/device.txt"); then
    echo "FAILED: the firmware printed something other than what the host computed (diff above: - host, + device)" >&2
    exit 1
fi
echo "== the device printed exactly what the host computed, bit for bit ($(wc -l < "$OUT/host.txt") lines)"

# Keyword spotting imported from ONNX must answer what the hand-written graph answers, bit for bit.
answers() { sed -n "/^$1:/,/^[a-z_0-9]*:/p" "$OUT/host.txt" | grep '^  input'; }
if ! diff -u <(answers kws) <(answers kws_onnx); then
    echo "FAILED: keyword spotting imported from ONNX differs from the hand-written graph (diff above)" >&2
    exit 1
fi
echo "== keyword spotting imported from ONNX printed what the hand-written graph printed, bit for bit"

stack() { sed -n "s/^# stack: $1 used \([0-9]*\) bytes$/\1/p" "$OUT/device.txt"; }
printing=$(stack "printing a float")
read -r base_text base_data base_bss < <(size "$OUT/baseline.elf" | awk 'NR == 2 { print $1, $2, $3 }')
echo "== sizes (bytes; flash = text + data, RAM = data + bss; the model's cost is the build minus the baseline)"
printf '| %-22s | %6s | %5s | %5s | %12s | %14s | %14s |\n' build text data bss "model flash" "model static RAM" "peak stack"
printf '|%s|%s|%s|%s|%s|%s|%s|\n' ------------------------ -------- ------- ------- -------------- ---------------- ----------------
for name in baseline inference inference+training full; do
    read -r text data bss < <(size "$OUT/$name.elf" | awk 'NR == 2 { print $1, $2, $3 }')
    case $name in
        baseline) peak="$printing (printing)" ;;
        inference) peak="$(stack inference)" ;;
        inference+training) peak="$(stack training)" ;;
        full) peak="$(stack bond) (bond)" ;;
    esac
    printf '| %-22s | %6s | %5s | %5s | %12s | %14s | %14s |\n' "$name" "$text" "$data" "$bss" \
        "$((text + data - base_text - base_data))" "$((data + bss - base_data - base_bss))" "$peak"
done
echo "Peak stack: the deepest stack the run reached below main, including its printing ($printing bytes to print a float)."

# The MLPerf Tiny models, each in a build of its own: flash split into weights (the graph's
# constant tensors, `static`s named `__C<n>`) and code, and RAM (static and peak stack).
weights() {
    local total=0 size
    while read -r size; do total=$((total + 0x$size)); done < <(nm -S "$OUT/$1.elf" | awk '$4 ~ /__C[0-9]+/ { print $2 }')
    echo "$total"
}
echo "== the MLPerf Tiny models (bytes; each its own build, minus the baseline)"
printf '| %-8s | %12s | %8s | %8s | %14s | %10s |\n' model "model flash" weights code "model static RAM" "peak stack"
printf '|%s|%s|%s|%s|%s|%s|\n' ---------- -------------- ---------- ---------- ---------------- ------------
for name in kws kws_onnx resnet8 autoencoder; do
    read -r text data bss < <(size "$OUT/$name.elf" | awk 'NR == 2 { print $1, $2, $3 }')
    flash=$((text + data - base_text - base_data))
    w=$(weights "$name")
    printf '| %-8s | %12s | %8s | %8s | %14s | %10s |\n' "$name" "$flash" "$w" "$((flash - w))" \
        "$((data + bss - base_data - base_bss))" "$(stack "$name")"
done
