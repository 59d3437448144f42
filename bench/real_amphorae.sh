#!/usr/bin/env bash
# Measure real amphorae on this machine (Octavia on its real drivers, amphora VMs under
# QEMU's TCG): runs tests/integration/test_real_amphorae.py, which times what it does
# (SINGLE and ACTIVE_STANDBY create until traffic through the VIP, failover detection and
# the return of traffic after an amphora's QEMU is killed, the longest gap when an
# ACTIVE_STANDBY master dies, the RSS of one amphora's QEMU), and writes those figures with
# the machine's load to bench/results/real_amphorae-<date>.json.
# Needs the test bed and a deployment (./run main). Usage: bash bench/real_amphorae.sh
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/results
out=bench/results/real_amphorae-$(date -u +%Y%m%dT%H%M).json
rm -f .tmp/real_amphorae_times.json
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
# each figure alone: the test overlaps the pair's build with the single's failover otherwise
OCTAVIA_LBAAS_REAL_SERIAL=1 ./run python -m pytest -p no:cacheprovider -q -s tests/integration/test_real_amphorae.py
python3 - "$out" "$load_before" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'PY'
import json, pathlib, sys
times = json.loads(pathlib.Path(".tmp/real_amphorae_times.json").read_text())
result = {"figures": times, "loadavg_before": sys.argv[2], "loadavg_after": sys.argv[3],
          "cores": 2, "virtualisation": "QEMU TCG (no KVM)"}
pathlib.Path(sys.argv[1]).write_text(json.dumps(result, indent=2) + "\n")
print(json.dumps(result, indent=2))
PY
echo "written: $out"
