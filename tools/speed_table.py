"""The speed table of the README and of docs/internals/speed.md, made from criterion's results.

    cargo bench --bench mlp --bench models --bench train_step
    python3 tools/tflite_autoencoder.py            # optional: TensorFlow Lite, same machine, right after
    python3 tools/speed_table.py --tflite-autoencoder-us 13.6 --write README.md docs/internals/speed.md

Reads criterion's medians from target/criterion (each benchmark's `new/benchmark.json` and
`new/estimates.json`), and prints a Markdown table stamped with the commit, the CPU and the date;
with `--write`, replaces the table between the `<!-- speed-table -->` and `<!-- /speed-table -->`
markers of each file named. Ratios are of figures from the same run. Needs only Python 3.
"""
import argparse
import datetime
import json
import os
import subprocess
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
START, END = "<!-- speed-table -->", "<!-- /speed-table -->"


def medians(criterion):
    """{(group, function): median in ns} for every benchmark criterion has results for."""
    found = {}
    for folder, _, files in os.walk(criterion):
        if os.path.basename(folder) != "new" or "benchmark.json" not in files:
            continue
        with open(os.path.join(folder, "benchmark.json")) as f:
            bench = json.load(f)
        with open(os.path.join(folder, "estimates.json")) as f:
            estimates = json.load(f)
        found[(bench["group_id"], bench["function_id"])] = estimates["median"]["point_estimate"]
    return found


def shown(ns):
    """A time as the tables write it: µs with three significant figures."""
    us = ns / 1000.0
    if us >= 1000:
        return f"{us:,.0f} µs"
    if us >= 100:
        return f"{us:.0f} µs"
    if us >= 10:
        return f"{us:.1f} µs"
    return f"{us:.2f} µs"


def cpu():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def commit():
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True)
        return out.stdout.strip() + ("+changes" if dirty.stdout.strip() else "")
    except OSError:
        return "unknown commit"


# (workload, (group, generated), [(column, (group, function))])
ROWS = [
    ("MLP 784-128-10, one Adam step, batch 64", ("mlp_adam_step", "generated"),
     [("nalgebra DMatrix", ("mlp_adam_step", "hand_written_dmatrix"))]),
    ("anomaly detector, batch 1", ("autoencoder, batch 1", "generated"),
     [("nalgebra DMatrix", ("autoencoder, batch 1", "nalgebra DMatrix")),
      ("nalgebra DVector", ("autoencoder, batch 1", "nalgebra DVector"))]),
    ("anomaly detector, batch 1, weights in variables", ("autoencoder, batch 1", "generated, weights in variables"),
     []),
    ("anomaly detector, batch 64", ("autoencoder, batch 64", "generated"),
     [("nalgebra DMatrix", ("autoencoder, batch 64", "nalgebra DMatrix"))]),
    ("the seed's circle classifier, one training step, 1,000 points", ("train_step", "generated"),
     [("by hand, nalgebra and std", ("train_step", "hand_written_std"))]),
    ("the same network's output, 1,000 points", ("output_layer", "generated"),
     [("by hand, nalgebra and std", ("output_layer", "hand_written_std"))]),
]


def table(found, tflite_autoencoder_us):
    columns = ["nalgebra DMatrix", "nalgebra DVector", "by hand, nalgebra and std", "TFLite (XNNPACK, 1 thread)"]
    lines = ["| workload | tfgraph | " + " | ".join(columns) + " |", "|---" * (len(columns) + 2) + "|"]
    missing = []
    for workload, ours, others in ROWS:
        if ours not in found:
            missing.append("/".join(ours))
            continue
        cells = {}
        for column, key in others:
            if key in found:
                cells[column] = f"{shown(found[key])} (ratio **{found[ours] / found[key]:.2f}**)"
            else:
                missing.append("/".join(key))
        if workload.startswith("anomaly detector, batch 1") and tflite_autoencoder_us:
            ratio = found[ours] / (tflite_autoencoder_us * 1000)
            cells[columns[3]] = f"{tflite_autoencoder_us:.1f} µs (ratio **{ratio:.2f}**)"
        lines.append(f"| {workload} | {shown(found[ours])} | " + " | ".join(cells.get(c, "") for c in columns) + " |")
    stamp = (f"Medians from one run of `cargo bench --bench mlp --bench models --bench train_step` at commit "
             f"`{commit()}`, {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, on {os.cpu_count()} "
             f"cores of an {cpu()}, default x86-64 target, no `RUSTFLAGS`; a ratio below 1 is tfgraph faster. "
             f"Made by `tools/speed_table.py`.")
    if tflite_autoencoder_us:
        stamp += " TFLite: `tools/tflite_autoencoder.py` right after, same machine."
    return stamp + "\n\n" + "\n".join(lines) + "\n", missing


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--criterion", default=os.path.join(ROOT, "target", "criterion"))
    parser.add_argument("--tflite-autoencoder-us", type=float, help="tools/tflite_autoencoder.py's figure")
    parser.add_argument("--write", nargs="*", default=[], help="files whose marked table to replace")
    args = parser.parse_args()
    text, missing = table(medians(args.criterion), args.tflite_autoencoder_us)
    if missing:
        print("no criterion results for: " + ", ".join(missing), file=sys.stderr)
    print(text)
    for path in args.write:
        with open(path) as f:
            content = f.read()
        if START not in content or END not in content:
            sys.exit(f"{path}: no {START} ... {END} markers")
        head, rest = content.split(START, 1)
        _, tail = rest.split(END, 1)
        with open(path, "w") as f:
            f.write(head + START + "\n" + text + END + tail)


if __name__ == "__main__":
    main()
