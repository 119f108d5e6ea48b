#!/usr/bin/env python3
"""Print criterion's latest medians as Markdown tables, one per group, with
each variant's time relative to the group's baseline.

    python3 benches/table.py [GROUP_PREFIX] [--baseline NAME]
    python3 benches/table.py [GROUP_PREFIX] --save RUNS_DIR
    python3 benches/table.py [GROUP_PREFIX] --runs RUNS_DIR

Reads target/criterion/<group>/<variant>/new/estimates.json (written by
`cargo bench`). The baseline defaults to `sequential`.

On this shared 2-vCPU machine one run can land in a slow spell that lasts
minutes, so the figures in benches/README.md come from several runs:
`--save` stores the latest medians as one more run in RUNS_DIR, and
`--runs` prints, for each variant, the median of its ratios to the baseline
over the saved runs, with the fastest and slowest.
"""
import json
import pathlib
import statistics
import sys


def option(name):
    if name in sys.argv:
        return sys.argv[sys.argv.index(name) + 1]
    return None


option_values = {option(name) for name in ("--baseline", "--save", "--runs")}
args = [a for a in sys.argv[1:] if not a.startswith("--") and a not in option_values]
prefix = args[0] if args else ""
baseline = option("--baseline") or "sequential"

root = pathlib.Path(__file__).resolve().parent.parent / "target" / "criterion"


def latest_medians():
    groups = {}
    for estimates in sorted(root.glob("**/new/estimates.json")):
        bench = json.loads((estimates.parent / "benchmark.json").read_text())
        group, variant = bench["group_id"], bench["function_id"]
        if not group.startswith(prefix):
            continue
        median_ns = json.loads(estimates.read_text())["median"]["point_estimate"]
        groups.setdefault(group, {})[variant] = median_ns
    return groups


def fmt(ns):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


def print_latest(groups):
    for group, variants in groups.items():
        base = variants.get(baseline)
        print(f"\n#### {group}\n")
        print(f"| variant | median | time vs {baseline} | speedup |")
        print("|---|---:|---:|---:|")
        for variant, ns in sorted(variants.items(), key=lambda kv: kv[1]):
            ratio = f"{ns / base:.2f}x" if base else "-"
            speedup = f"{base / ns:.2f}x" if base else "-"
            print(f"| {variant} | {fmt(ns)} | {ratio} | {speedup} |")


def save(groups, runs_dir):
    runs_dir.mkdir(parents=True, exist_ok=True)
    number = len(list(runs_dir.glob("run-*.json"))) + 1
    path = runs_dir / f"run-{number:02}.json"
    path.write_text(json.dumps(groups, indent=1))
    print(f"saved {sum(map(len, groups.values()))} medians as {path}")


def print_runs(runs_dir):
    ratios = {}
    for path in sorted(runs_dir.glob("run-*.json")):
        for group, variants in json.loads(path.read_text()).items():
            base = variants.get(baseline)
            if not group.startswith(prefix) or not base:
                continue
            for variant, ns in variants.items():
                ratios.setdefault(group, {}).setdefault(variant, []).append(ns / base)
    for group, variants in ratios.items():
        print(f"\n#### {group}\n")
        print(f"| variant | time vs {baseline}, median of runs | fastest | slowest | speedup | runs |")
        print("|---|---:|---:|---:|---:|---:|")
        for variant, values in sorted(variants.items(), key=lambda kv: statistics.median(kv[1])):
            median = statistics.median(values)
            print(
                f"| {variant} | {median:.2f}x | {min(values):.2f}x | {max(values):.2f}x "
                f"| {1 / median:.2f}x | {len(values)} |"
            )


if option("--runs"):
    print_runs(pathlib.Path(option("--runs")))
elif option("--save"):
    save(latest_medians(), pathlib.Path(option("--save")))
else:
    print_latest(latest_medians())
