#!/usr/bin/env python3
"""Print criterion's latest medians as Markdown tables, one per group, with
each variant's time relative to the group's baseline.

    python3 benches/table.py [GROUP_PREFIX] [--baseline NAME]
    python3 benches/table.py [GROUP_PREFIX] --save RUNS_DIR
    python3 benches/table.py [GROUP_PREFIX] --runs RUNS_DIR [--vs PEER]

Reads target/criterion/<group>/<variant>/new/estimates.json (written by
`cargo bench`). The baseline defaults to `sequential`.

On this shared 2-vCPU machine one run can land in a slow spell that lasts
minutes, so the figures in benches/README.md come from several runs:
`--save` stores the latest medians as one more run in RUNS_DIR, and
`--runs` prints, for each variant, the median of its ratios to the baseline
over the saved runs, with the fastest and slowest. With `--vs PEER`, it
prints instead each variant's speed as a fraction of PEER's in the same run
(PEER's time over the variant's; 1.00 is as fast), median and extremes
over the runs: the fairest comparison when whole runs change regime.
"""
import json
import pathlib
import statistics
import sys


def option(name):
    if name in sys.argv:
        return sys.argv[sys.argv.index(name) + 1]
    return None


option_values = {option(name) for name in ("--baseline", "--save", "--runs", "--vs")}
args = [a for a in sys.argv[1:] if not a.startswith("--") and a not in option_values]
prefix = args[0] if args else ""
baseline = option("--baseline") or "sequential"

root = pathlib.Path(__file__).resolve().parent.parent / "target" / "criterion"


def latest_medians():
    groups = {}
    for estimates in sorted(root.glob("**/new/estimates.json")):
        bench = json.loads((estimates.parent / "benchmark.json").read_text())
        group, variant = bench["group_id"], bench["function_id"]
        # A parameterised bench (`BenchmarkId::new(name, parameter)`) is
        # a group of its own per parameter, so that its variants compare
        # with the same parameter's baseline.
        if bench.get("value_str"):
            group = f"{group}/{bench['value_str']}"
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
        variants = with_parent_baseline(groups, group, variants)
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


def with_parent_baseline(run, group, variants):
    """A parameterised group (`nesting/16`) whose baseline ran once, in the
    group without a parameter (`nesting`), borrows it from there."""
    parent = group.rsplit("/", 1)[0]
    if baseline in variants or parent == group or baseline not in run.get(parent, {}):
        return variants
    return {**variants, baseline: run[parent][baseline]}


def ratios_over_runs(runs_dir, over):
    """{group: {variant: [over(variants, variant) for each run]}}"""
    ratios = {}
    for path in sorted(runs_dir.glob("run-*.json")):
        run = json.loads(path.read_text())
        for group, variants in run.items():
            if not group.startswith(prefix):
                continue
            variants = with_parent_baseline(run, group, variants)
            for variant in variants:
                ratio = over(variants, variant)
                if ratio is not None:
                    ratios.setdefault(group, {}).setdefault(variant, []).append(ratio)
    return ratios


def print_runs(runs_dir):
    def to_baseline(variants, variant):
        base = variants.get(baseline)
        return variants[variant] / base if base else None

    for group, variants in ratios_over_runs(runs_dir, to_baseline).items():
        print(f"\n#### {group}\n")
        print(f"| variant | time vs {baseline}, median of runs | fastest | slowest | speedup | runs |")
        print("|---|---:|---:|---:|---:|---:|")
        for variant, values in sorted(variants.items(), key=lambda kv: statistics.median(kv[1])):
            median = statistics.median(values)
            print(
                f"| {variant} | {median:.2f}x | {min(values):.2f}x | {max(values):.2f}x "
                f"| {1 / median:.2f}x | {len(values)} |"
            )


def print_versus(runs_dir, peer):
    def as_fast_as_peer(variants, variant):
        if peer not in variants or variant == peer or not variant.startswith("threadpipe"):
            return None
        return variants[peer] / variants[variant]

    for group, variants in ratios_over_runs(runs_dir, as_fast_as_peer).items():
        print(f"\n#### {group}: speed as a fraction of {peer}'s, run by run\n")
        print("| variant | median of runs | worst | best | runs |")
        print("|---|---:|---:|---:|---:|")
        for variant, values in sorted(variants.items()):
            print(
                f"| {variant} | {statistics.median(values):.2f} | {min(values):.2f} "
                f"| {max(values):.2f} | {len(values)} |"
            )


if option("--runs") and option("--vs"):
    print_versus(pathlib.Path(option("--runs")), option("--vs"))
elif option("--runs"):
    print_runs(pathlib.Path(option("--runs")))
elif option("--save"):
    save(latest_medians(), pathlib.Path(option("--save")))
else:
    print_latest(latest_medians())
