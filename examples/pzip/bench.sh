#!/usr/bin/env bash
# bench.sh [ROUNDS] - pzip against pigz and crabz on the corpus tarball
# (ROUNDS: 7 unless given).
#
# The input is the tarball of the ~194 MB Linux-sources corpus that
# ../shared/corpus.sh lays out (made once, kept in $PZIP_BENCH_DIR, default
# /tmp). Each round runs every tool, multi-threaded (-p $(nproc)) and in
# its own single-threaded mode, at levels 1, 6 and 9, writing to /dev/null
# under /usr/bin/time; the tools take turns within a round, so that a slow
# spell of the machine hits them all. Prints a markdown table of medians,
# and of the best round (on a machine shared with other work, the closest
# to the machine's real speed, since sharing only ever slows a run down):
# MB/s of input, speedup over the tool's own single-threaded mode, peak
# resident memory, and compressed size as a fraction of the input.
#
# Installs what it needs: pigz (Debian package), crabz (cargo install).
# Run it alone (`flock /tmp/bench.lock examples/pzip/bench.sh`): two
# benchmarks at once on a 2-core machine measure each other.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${1:-7}
DIR=${PZIP_BENCH_DIR:-/tmp}
CORPUS=${CORPUS_SH:-../shared/corpus.sh}
THREADS=$(nproc)

log() { echo "bench.sh: $*" >&2; }

# Percent of CPU time idle over the next 5 seconds.
idle_percent() {
    local before after
    before=$(head -n1 /proc/stat)
    sleep 5
    after=$(head -n1 /proc/stat)
    awk -v a="$before" -v b="$after" 'BEGIN {
        n = split(a, x); split(b, y); total = 0
        for (i = 2; i <= n; i++) total += y[i] - x[i]
        print int(100 * (y[5] - x[5] + y[6] - x[6]) / total) }'
}

# On a shared machine, starts a round only once the others' work has
# paused (at most 5 minutes of waiting; then it goes on, and says so).
wait_for_quiet() {
    local waited=0
    until (( $(idle_percent) >= 95 )); do
        waited=$((waited + 5))
        if ((waited >= 300)); then
            log "the machine is still busy: measuring anyway"
            busy_rounds=$((busy_rounds + 1))
            return
        fi
    done
}
busy_rounds=0

if ! command -v pigz >/dev/null; then
    apt-get install -y -qq pigz || { apt-get update -qq && apt-get install -y -qq pigz; }
fi
command -v crabz >/dev/null || cargo install crabz --locked
[[ -x /usr/bin/time ]] || apt-get install -y -qq time
cargo build --quiet --release --locked -p pzip
PZIP=$PWD/target/release/pzip

tarball=$DIR/corpus.tar
if [[ ! -f $tarball ]]; then
    bash "$CORPUS" "$DIR/corpus-big" >&2
    tar cf "$tarball.partial" -C "$DIR" corpus-big
    mv "$tarball.partial" "$tarball"
fi
input_bytes=$(stat -c %s "$tarball")
log "input: $tarball, $input_bytes bytes; $ROUNDS rounds; $THREADS threads"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

# name|command, where LEVEL stands for the level; the input follows
tools=(
    "pigz|pigz -c -p $THREADS -LEVEL"
    "pigz -p 1|pigz -c -p 1 -LEVEL"
    "crabz|crabz -Q -f gzip -p $THREADS -l LEVEL"
    "crabz -p 1|crabz -Q -f gzip -p 1 -l LEVEL"
    "pzip|$PZIP -p $THREADS -l LEVEL"
    "pzip --single-threaded|$PZIP --single-threaded -l LEVEL"
)

# Every measurement, kept for a closer look: kind, level, tool, then the
# size, or the seconds and peak KiB of one run.
mkdir -p target/pzip-bench
results=target/pzip-bench/results.tsv
: >"$results"
for level in 1 6 9; do
    for tool in "${tools[@]}"; do
        name=${tool%%|*}
        command=${tool#*|}
        command=${command//LEVEL/$level}
        size=$($command "$tarball" | wc -c)
        printf 'size\t%s\t%s\t%s\n' "$level" "$name" "$size" >>"$results"
    done
    # The round trip of pzip's output, once per level.
    $PZIP -l "$level" "$tarball" | gzip -dc | cmp - "$tarball"
done
for round in $(seq "$ROUNDS"); do
    wait_for_quiet
    log "round $round of $ROUNDS"
    for level in 1 6 9; do
        for tool in "${tools[@]}"; do
            name=${tool%%|*}
            command=${tool#*|}
            command=${command//LEVEL/$level}
            measured=$( { /usr/bin/time -f '%e %M' $command "$tarball" >/dev/null; } 2>&1 | tail -n1)
            printf 'run\t%s\t%s\t%s\n' "$level" "$name" "${measured// /$'\t'}" >>"$results"
        done
    done
done

load_after=$(cut -d' ' -f1-3 /proc/loadavg)
versions="$(pigz --version 2>&1), $(crabz --version 2>&1 | head -n1), $($PZIP --version)"
python3 - "$results" "$input_bytes" "$versions; load average before: $load_before, after: $load_after; rounds started on a busy machine: $busy_rounds" <<'EOF'
import statistics, sys
from collections import defaultdict
path, input_bytes, notes = sys.argv[1], int(sys.argv[2]), sys.argv[3]
sizes, seconds, peaks, order = {}, defaultdict(list), defaultdict(list), []
for line in open(path):
    kind, level, name, *rest = line.rstrip("\n").split("\t")
    key = (int(level), name)
    if kind == "size":
        sizes[key] = int(rest[0])
        order.append(key)
    else:
        seconds[key].append(float(rest[0]))
        peaks[key].append(int(rest[1]))
single = lambda name: name.split(" ")[0] + (" --single-threaded" if name.startswith("pzip") else " -p 1")
print("| level | tool | MB/s, median (best) | speedup over its single-threaded mode, median (best) | peak memory, MiB | ratio |")
print("|---|---|---|---|---|---|")
for level, name in order:
    key = (level, name)
    median, best = statistics.median(seconds[key]), min(seconds[key])
    mbps = f"{input_bytes / 1e6 / median:.0f} ({input_bytes / 1e6 / best:.0f})"
    base = (level, single(name))
    speedup = "" if base == key else (
        f"{statistics.median(seconds[base]) / median:.2f} ({min(seconds[base]) / best:.2f})")
    peak = statistics.median(peaks[key]) / 1024
    print(f"| {level} | {name} | {mbps} | {speedup} | {peak:.1f} | {sizes[key] / input_bytes:.4f} |")
runs = len(next(iter(seconds.values())))
print(f"\nMedians of {runs} rounds; input {input_bytes / 1e6:.1f} MB; ratio = compressed / input.")
print(f"{notes}.")
EOF
