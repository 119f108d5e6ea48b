#!/usr/bin/env python3
"""Print criterion's latest medians as Markdown tables, one per group, with
each variant's time relative to the group's baseline.

    python3 benches/table.py [GROUP_PREFIX] [--baseline NAME]

Reads target/criterion/<group>/<variant>/new/estimates.json (written by
`cargo bench`). The baseline defaults to `sequential`.
"""
import json
import pathlib
import sys

args = [a for a in sys.argv[1:] if not a.startswith("--")]
prefix = args[0] if args else ""
baseline = "sequential"
if "--baseline" in sys.argv:
    baseline = sys.argv[sys.argv.index("--baseline") + 1]

root = pathlib.Path(__file__).resolve().parent.parent / "target" / "criterion"
groups = {}
for estimates in sorted(root.glob("**/new/estimates.json")):
    bench = json.loads((estimates.parent / "benchmark.json").read_text())
    group, variant = bench["group_id"], bench["function_id"]
    if not group.startswith(prefix):
        continue
    median_ns = json.loads(estimates.read_text())["median"]["point_estimate"]
    groups.setdefault(group, {})[variant] = median_ns


def fmt(ns):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


for group, variants in groups.items():
    base = variants.get(baseline)
    print(f"\n#### {group}\n")
    print(f"| variant | median | time vs {baseline} | speedup |")
    print("|---|---:|---:|---:|")
    for variant, ns in sorted(variants.items(), key=lambda kv: kv[1]):
        ratio = f"{ns / base:.2f}x" if base else "-"
        speedup = f"{base / ns:.2f}x" if base else "-"
        print(f"| {variant} | {fmt(ns)} | {ratio} | {speedup} |")
