#!/usr/bin/env bash
# plug.sh CONTROLLER BRIDGE IFACE PORT_ID MAC ADDRESS/PREFIX AMPHORA
# Plugs the fake amphora into the controller's integration bridge: an Open vSwitch internal
# port (bound to the Neutron port like a VM's tap: iface-id, attached-mac) is created in the
# controller container, then moved into the amphora container's network namespace, where
# it gets the port's MAC and address. Runs on the deploy host (needs nsenter, as root).
# Prints "ok" when all is in place already, "changed" otherwise.
set -euo pipefail
ctrl=$1 bridge=$2 ifc=$3 port=$4 mac=$5 addr=$6 amp=$7

pid_of() { podman inspect -f '{{.State.Pid}}' "$1"; }
apid=$(pid_of "$amp")
cpid=$(pid_of "$ctrl")
[[ $apid != 0 && $cpid != 0 ]] || { echo "container $amp or $ctrl is not running" >&2; exit 1; }
in_amp() { nsenter -t "$apid" -n "$@"; }
in_ctrl() { nsenter -t "$cpid" -n "$@"; }
ovs() { podman exec "$ctrl" ovs-vsctl --timeout=30 "$@"; }

# (No `cmd | grep -q` here: with pipefail, grep leaving early can fail the pipeline.)
plugged() {
    local link inet
    [[ $(ovs --if-exists get Interface "$ifc" external_ids:iface-id 2>/dev/null | tr -d '"') == "$port" ]] || return 1
    [[ $(ovs port-to-br "$ifc" 2>/dev/null) == "$bridge" ]] || return 1
    link=$(in_amp ip -o link show dev "$ifc" 2>/dev/null) || return 1
    inet=$(in_amp ip -o -4 addr show dev "$ifc" 2>/dev/null) || return 1
    # LOWER_UP: ovs-vswitchd still holds the device (after an Open vSwitch restart the old
    # one has no carrier, and ovs-vswitchd has made a new one in the controller)
    [[ $link =~ [\<,]UP[,\>] && $link =~ [\<,]LOWER_UP[,\>] ]] || return 1
    ! in_ctrl ip link show dev "$ifc" >/dev/null 2>&1 || return 1
    [[ ${link,,} == *"link/ether ${mac,,} "* ]] || return 1
    [[ " $inet " == *" inet $addr "* ]]
}

if plugged; then
    echo ok
    exit 0
fi

# Start over: a device left in the amphora (its container restarted, Open vSwitch
# restarted) or in the controller is dropped with its Open vSwitch port.
in_amp ip link del "$ifc" 2>/dev/null || true
ovs --if-exists del-port "$ifc"
ovs -- add-port "$bridge" "$ifc" \
    -- set Interface "$ifc" type=internal "mac=\"$mac\"" "external_ids:iface-id=\"$port\"" \
       "external_ids:attached-mac=\"$mac\"" external_ids:iface-status=active
for _ in $(seq 1 100); do
    in_ctrl ip link show dev "$ifc" >/dev/null 2>&1 && break
    sleep 0.1
done
in_ctrl ip link set dev "$ifc" netns "$apid"
in_amp ip link set dev lo up
in_amp ip link set dev "$ifc" address "$mac"
in_amp ip addr replace "$addr" dev "$ifc"
in_amp ip link set dev "$ifc" up
plugged || { echo "$ifc did not come up with $mac and $addr in $amp" >&2; exit 1; }
echo changed
