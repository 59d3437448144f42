#!/usr/bin/env bash
# Measure a re-run of playbooks/site.yml on the all-in-one test bed when nothing needs to
# change (issue 14, item 4: at most 30 s): wall time of `ansible-playbook` for N runs, the
# changed count of each (must be 0) and where the time goes per role (profile_roles).
# Needs a deployed test bed (./run main). Writes bench/results/site-rerun-<date>.md.
# Usage: bash bench/site_rerun.sh [runs, default 3] [ansible-playbook arguments...]
#   e.g. bash bench/site_rerun.sh 3 -e @inventories/aio/noop-drivers.yml, to measure the
#   deployment the integration tests leave (a run with the other drivers would change them)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
shift || true
extra=("$@")
mkdir -p bench/results .tmp
out=bench/results/site-rerun-$(date -u +%Y%m%dT%H%M).md
rows=""
for i in $(seq 1 "$runs"); do
  log=.tmp/site-rerun-$i.log
  load=$(cut -d' ' -f1 /proc/loadavg)
  start=$(date +%s.%N)
  ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_roles ANSIBLE_FORCE_COLOR=0 \
    ./run ansible-playbook -i inventories/aio playbooks/site.yml "${extra[@]}" > "$log" 2>&1
  wall=$(awk -v s="$start" -v e="$(date +%s.%N)" "BEGIN {print e - s}")
  changed=$(awk '/PLAY RECAP/{r=1} r && /changed=/{sub(/.*changed=/, ""); s+=$1} END {print s+0}' "$log")
  rows+="| $i | $(printf %.1f "$wall") | $changed | $load |"$'\n'
done
{
  echo "# site.yml re-run, nothing to change: $(date -u +%F) ($(nproc) cores)"
  echo
  echo "Commit $(git rev-parse --short HEAD)$( ((${#extra[@]})) && printf ', arguments: %s' "${extra[*]}")."
  echo
  echo "| run | wall (s) | changed | load average at start |"
  echo "|---|---|---|---|"
  printf "%s" "$rows"
  echo
  echo "Time per role in the last run (ansible.posix.profile_roles):"
  echo
  echo '```'
  sed -n '/ROLES RECAP/,$p' ".tmp/site-rerun-$runs.log" | grep -E -- '-{3,}|total' | grep -v '^=' || true
  echo '```'
} > "$out"
cat "$out"
