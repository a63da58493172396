#!/usr/bin/env bash
# Times tfcore's convolution kernels at two revisions side by side, in one process
# (tools/ab_conv/main.rs), on the layers of `cargo bench --bench convolutions`; fails if the two
# give different bits. On a shared machine whose speed moves by half from one minute to the next,
# criterion's runs one after the other cannot see a change of 5%; this can.
#
#   bash tools/ab_conv.sh REV_A [REV_B] [ROUNDS]
#
# REV_A, REV_B: git revisions of tfcore (REV_B left out or "-": the working tree). ROUNDS: 200.
# The layers are the working tree's (benches/shared/conv_layers.rs); tfmacro is the working tree's.
set -euo pipefail
repo=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
rev_a=${1:?usage: tools/ab_conv.sh REV_A [REV_B] [ROUNDS]}
rev_b=${2:--}
rounds=${3:-200}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

# tfcore at a revision ("-": the working tree) in slot $2, renamed so that two link into one
# binary.
take() {
    rm -rf "$dir/$2"
    mkdir -p "$dir/$2"
    if [ "$1" = - ]; then
        cp -r "$repo/tfcore/." "$dir/$2/"
    else
        git -C "$repo" archive "$1" tfcore | tar -x -C "$dir/$2" --strip-components=1
    fi
    sed -i 's/^name = "tfcore"$/name = "'"$2"'"/' "$dir/$2/Cargo.toml"
    # git archive dates files at their commit, which cargo would take for an older build's.
    find "$dir/$2" -type f -exec touch {} +
}

# A workspace of the two slots, inheriting the repository's settings; the harness's source stays
# in tools/ so that it includes the working tree's layers.
{
    echo '[workspace]'
    echo 'members = ["tfcore_a", "tfcore_b", "harness"]'
    echo 'resolver = "2"'
    sed -n '/^\[workspace.package\]/,/^$/p' "$repo/Cargo.toml"
    sed -n '/^\[workspace.dependencies\]/,/^$/p' "$repo/Cargo.toml" |
        sed -e '/^tfcore = /d' -e "s|^tfmacro = .*|tfmacro = { path = \"$repo/tfmacro\" }|"
    echo '[profile.release]'
    echo 'debug = 1'
} > "$dir/Cargo.toml"
mkdir -p "$dir/harness"
cat > "$dir/harness/Cargo.toml" <<TOML
[package]
name = "ab_conv"
version = "0.0.0"
edition = "2021"
publish = false

[[bin]]
name = "ab_conv"
path = "$repo/tools/ab_conv/main.rs"

[dependencies]
tfcore_a = { path = "../tfcore_a" }
tfcore_b = { path = "../tfcore_b" }
TOML

# The same code runs a few per cent faster or slower in one slot than in the other (where the
# linker puts it: two copies of one revision differ so), so each revision takes each slot in
# turn, and the ratio quoted is the geometric mean of the two orders'.
run() {
    take "$1" tfcore_a
    take "$2" tfcore_b
    CARGO_TARGET_DIR="$repo/target/ab_conv" cargo build --release --quiet --manifest-path "$dir/Cargo.toml" -p ab_conv
    "$repo/target/ab_conv/release/ab_conv" "$rounds"
}
echo "A: $rev_a  B: ${rev_b/#-/the working tree}  ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))"
echo "== A in the first slot"
run "$rev_a" "$rev_b" | tee "$dir/first"
echo "== B in the first slot"
run "$rev_b" "$rev_a" | tee "$dir/second"
echo "== B / A, geometric mean of the two orders"
paste -d'\t' <(grep ' B/A ' "$dir/first") <(grep ' B/A ' "$dir/second") | awk -F'\t' '
    # The ratio after "B/A" on a line.
    function ratio(line,    n, f, i) {
        n = split(line, f, " ")
        for (i = 1; i < n; i++) if (f[i] == "B/A") return f[i + 1]
    }
    {
        first = ratio($1); second = 1 / ratio($2)
        printf "%s %.3f (%.3f, %.3f)%s\n", substr($1, 1, 46), sqrt(first * second), first, second,
            ($1 ~ /DIFFER/ || $2 ~ /DIFFER/) ? "  BITS DIFFER" : ""
    }'
! grep -q DIFFER "$dir/first" "$dir/second"
