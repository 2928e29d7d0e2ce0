#!/usr/bin/env bash
# Every benchmark, in the order they share work: import_rate builds the 1M-row history that the
# others copy; status_latency prepares every summary once (cached) for memory.
# Figures go to stdout and to bench/out/results-<UTC time>.txt; progress goes to stderr.
# About 15–20 minutes on 2 cores the first time (each script stays under 5 minutes); the last
# three need PostgreSQL installed (they start a throwaway cluster) and say so when it is not.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/out
rm -f bench/out/prepared-*  # made again with the current code, once, by status_latency
results="bench/out/results-$(date -u +%Y%m%dT%H%M%SZ).txt"
for script in import_rate import_floor refresh_scaling history_cap status_latency memory fanout crowd postgres_storage replicas report_cost detection_nab detection_synthetic; do
    python3 "bench/${script}.py" | tee -a "$results"
    echo | tee -a "$results"
done
echo "figures saved in $results" >&2
