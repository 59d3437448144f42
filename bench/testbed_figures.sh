#!/usr/bin/env bash
# Measure the test cloud: cold bring-up (after `./run testbed purge --all`: no image, no
# wheelhouse, no containers), warm no-op bring-up, a container restart until every API
# answers, and the resident memory of each service. Writes bench/results/testbed-<date>.md.
# Destructive: it purges the test bed first. Usage: bash bench/testbed_figures.sh [--keep-cache]
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/results
out=bench/results/testbed-$(date -u +%Y%m%dT%H%M).md
purge_args=(--all); [[ "${1:-}" == "--keep-cache" ]] && purge_args=()
./run testbed purge "${purge_args[@]}" >/dev/null
t() { local s=$SECONDS; "$@" >/dev/null; echo $((SECONDS - s)); }
cold=$(t ./run testbed up)
warm=$(t ./run testbed up)
s=$SECONDS
podman restart octavia-lbaas-cloud >/dev/null
for port in 5000 9292 9696 8774; do
  until curl -s -o /dev/null -m 2 "http://10.242.0.10:$port/"; do sleep 0.5; done
done
restart=$((SECONDS - s))
mem=$(podman exec octavia-lbaas-cloud bash -c '
  for unit in mariadb rabbitmq-server keystone glance-api neutron-api nova-api; do
    cg=$(systemctl show -p ControlGroup --value "$unit")
    kb=$(ps -eo rss=,cgroup= | awk -v cg="$cg" "index(\$2, cg) {s+=\$1} END {print s+0}")
    printf "| %s | %d |\n" "$unit" $((kb / 1024))
  done')
total=$(podman exec octavia-lbaas-cloud bash -c 'ps -eo rss= | awk "{s+=\$1} END {print int(s/1024)}"')
{
  echo "# Test cloud figures, $(date -u +%F) ($(nproc) cores, $(free -g | awk '/Mem/{print $2}') GiB)"
  echo
  echo "| measurement | seconds |"
  echo "|---|---|"
  echo "| cold bring-up (purge ${purge_args[*]:-without --all}, then ./run testbed up) | $cold |"
  echo "| warm bring-up, nothing to change | $warm |"
  echo "| podman restart until all four APIs answer | $restart |"
  echo
  echo "| service | RSS MiB |"
  echo "|---|---|"
  echo "$mem"
  echo "| whole container | $total |"
} | tee "$out"
