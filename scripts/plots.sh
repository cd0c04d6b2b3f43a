#!/usr/bin/env bash
# Regenerate every figure in plots/ from the shipped model cards (deterministic: same seeds,
# bit-identical SVGs). Usage: bash scripts/plots.sh   (≈ 2–5 min on 2 cores after the build)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
B=target/release/mtjsim
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# IP-neuron calibration plots (heating, switching, memory trace; docs/ipnet.md). The table
# itself goes to a scratch file so the shipped weights/ipn_calib.json is never touched
# (with the default seed it is reproduced bit for bit).
$B ipnet calibrate --out "$TMP/ipn_calib.json" --plots plots
cmp -s "$TMP/ipn_calib.json" weights/ipn_calib.json \
  || echo "note: weights/ipn_calib.json differs from a fresh calibration (card or code changed)"

# Working-memory tasks on calibrated IP neurons (docs/ipnet.md).
for task in n-back recall interference; do
  $B ipnet memory "$task" --plots plots
done

# Heat spreading from one written cell through the thermal network (docs/crossbar.md).
$B xbar --rows 7 --cols 7 --model device_models/mtj.lib:ipn_neuron --op write \
  --target 3,3 --thermal-coupling 1e-6 --heat-map plots/thermal_crosstalk.svg
