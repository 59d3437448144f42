#!/usr/bin/env bash
# Measure the amphora image role on this machine: a cold build (empty image directory and
# Debian package cache), a warm run (the cached image is found: changed=0), the image's
# size, and boot-to-agent under QEMU TCG (the boot test of
# tests/integration/test_amphora_image_build.py, which boots the image of the default
# directory from an overlay). Writes bench/results/amphora_image-<date>.md.
# Needs root. Uses the test bed's wheelhouse for the agent's venv when it exists (PyPI
# otherwise). Usage: bash bench/amphora_image.sh
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/results
out=bench/results/amphora_image-$(date -u +%Y%m%dT%H%M).md
wheelhouse=${XDG_CACHE_HOME:-$HOME/.cache}/octavia-lbaas/wheelhouse
extra=()
[[ -d $wheelhouse ]] && extra=(-e "amphora_image_build_pip_find_links=$wheelhouse")
cold_dir=$(mktemp -d /var/tmp/amphora-image-bench.XXXXXX)
trap 'rm -rf "$cold_dir"' EXIT

play() { ./run ansible-playbook playbooks/amphora_image.yml "${extra[@]}" "$@" 2>&1; }
recap() { grep -a -o 'changed=[0-9]*' | tail -n1; }

s=$SECONDS; cold_changed=$(play -e "amphora_image_build_dir=$cold_dir" | recap); cold=$((SECONDS - s))
s=$SECONDS; warm_changed=$(play -e "amphora_image_build_dir=$cold_dir" | recap); warm=$((SECONDS - s))
manifest=$(ls "$cold_dir"/*.json)
read -r size_mib virt_gib build_s version < <(python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))
print(round(m["size"] / 2**20), 2, m["build_seconds"], m["octavia_version"])' "$manifest")

# The default directory's image (built here too if missing; not timed) boots in the test.
play >/dev/null
boot_log=$(OCTAVIA_LBAAS_STANDALONE_BOOT=1 ./run python -m pytest -p no:cacheprovider -q -s tests/integration/test_amphora_image_build.py \
  -k boots 2>&1) || { echo "$boot_log" | tail -n 40 >&2; exit 1; }
boot=$(grep -o 'boot to agent[^;]*: [0-9.]* s' <<<"$boot_log" | grep -o '[0-9.]* s$')
unit=$(grep -o "unit started at [0-9.]* s" <<<"$boot_log" | grep -o '[0-9.]* s$')
load=$(cut -d' ' -f1-3 /proc/loadavg)

{
  echo "# Amphora image figures, $(date -u +%F) ($(nproc) cores, $(free -g | awk '/Mem/{print $2}') GiB, QEMU TCG)"
  echo
  echo "Debian bookworm, debootstrap, octavia $version agent; pip from $([[ ${#extra[@]} -gt 0 ]] && echo 'the test bed wheelhouse' || echo 'the index')."
  echo
  echo "| measurement | value |"
  echo "|---|---|"
  echo "| cold build: empty image directory and package cache, playbook wall time ($cold_changed) | $cold s |"
  echo "| of which the build script (manifest build_seconds) | $build_s s |"
  echo "| warm run: the cached image is found ($warm_changed) | $warm s |"
  echo "| image size (zlib-compressed qcow2, ${virt_gib} GiB virtual) | $size_mib MiB |"
  echo "| boot to agent: QEMU start until GET / answers over mTLS (1 vCPU, 1 GiB, TCG) | $boot |"
  echo "| boot until the agent's unit starts (its console line) | $unit |"
  echo
  echo "Load average after the boot: $load (TCG timings scale with it)."
} | tee "$out"
