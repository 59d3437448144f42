#!/usr/bin/env bash
# Measure a first deploy of playbooks/site.yml onto bare controllers with warm caches
# (issue 14, item 4: at most 5 min): the controller containers are removed and started
# again from the base image, so the controllers' packages, venv, units and o-hm0 are all
# new; the deploy host's caches (apt archives, wheelhouse, PKI, the cloud-side resources)
# stay, as they would for an operator adding controllers. Then one re-run (must report
# changed=0). Writes bench/results/first-deploy-<date>.md.
# Destructive for the controllers (their state is rebuilt by the deploy it measures).
# Usage: bash bench/first_deploy.sh [ansible-playbook arguments...]
#   e.g. bash bench/first_deploy.sh -e @inventories/aio/noop-drivers.yml
set -euo pipefail
cd "$(dirname "$0")/.."
extra=("$@")
mkdir -p bench/results .tmp
out=bench/results/first-deploy-$(date -u +%Y%m%dT%H%M).md
mapfile -t controllers < <(podman ps -a --format '{{.Names}}' | grep '^octavia-lbaas-controller-' || true)
if ((${#controllers[@]})); then podman rm -f "${controllers[@]}" >/dev/null; fi
./run testbed controllers >/dev/null

measure() {  # $1: log name; prints "wall changed load"
  local log=.tmp/$1.log load start wall changed
  load=$(cut -d' ' -f1 /proc/loadavg)
  start=$(date +%s.%N)
  ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_roles ANSIBLE_FORCE_COLOR=0 \
    ./run ansible-playbook -i inventories/aio playbooks/site.yml "${extra[@]}" > "$log" 2>&1 \
    || { echo "site.yml failed, see $log" >&2; exit 1; }
  wall=$(awk -v s="$start" -v e="$(date +%s.%N)" "BEGIN {print e - s}")
  changed=$(awk '/PLAY RECAP/{r=1} r && /changed=/{sub(/.*changed=/, ""); s+=$1} END {print s+0}' "$log")
  printf '%.1f %s %s' "$wall" "$changed" "$load"
}
read -r first_wall first_changed first_load <<<"$(measure first-deploy)"
read -r again_wall again_changed again_load <<<"$(measure first-deploy-rerun)"
{
  echo "# site.yml first deploy onto bare controllers, warm caches: $(date -u +%F) ($(nproc) cores)"
  echo
  echo "Commit $(git rev-parse --short HEAD)$( ((${#extra[@]})) && printf ', arguments: %s' "${extra[*]}")."
  echo
  echo "| run | wall (s) | changed | load average at start |"
  echo "|---|---|---|---|"
  echo "| first deploy | $first_wall | $first_changed | $first_load |"
  echo "| re-run | $again_wall | $again_changed | $again_load |"
  echo
  echo "Time per role in the first deploy (ansible.posix.profile_roles):"
  echo
  echo '```'
  sed -n '/ROLES RECAP/,$p' .tmp/first-deploy.log | grep -E -- '-{3,}|total' | grep -v '^=' || true
  echo '```'
} > "$out"
cat "$out"
