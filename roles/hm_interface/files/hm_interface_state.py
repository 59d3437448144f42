# Reads what the hm_interface role would otherwise ask the host for one task at a time, and
# prints it as JSON (tasks/state.yml). Read-only. Argument: a JSON object {units,
# ovs_service, packages, bridge, config_dir, firewall, firewall_unit, nft_table,
# interface_unit, env_file, script}.
import json
import os
import subprocess
import sys

args = json.loads(sys.argv[1])
state = {}


def run(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True, check=False, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None


# the units that are active, enabled and need no daemon-reload
show = run(["systemctl", "show", "--property=Id,ActiveState,UnitFileState,NeedDaemonReload", "--"] + args["units"])
state["units_ready"] = []
for block in (show.stdout if show else "").split("\n\n"):
    unit = dict(line.split("=", 1) for line in block.strip().splitlines() if "=" in line)
    if (unit.get("ActiveState") == "active" and unit.get("UnitFileState") == "enabled"
            and unit.get("NeedDaemonReload") == "no"):
        state["units_ready"].append(unit["Id"])

# Debian packages installed ("ii"), as dpkg-query reports them
dpkg = run(["dpkg-query", "--show", "--showformat=${Package} ${db:Status-Abbrev}\n"] + args["packages"])
installed = {line.split(" ")[0] for line in (dpkg.stdout if dpkg else "").splitlines() if line.split(" ")[1:2] == ["ii"]}
state["packages_missing"] = [p for p in args["packages"] if p not in installed]

# Open vSwitch, and the bridge (asked only when Open vSwitch runs: ovs-vsctl waits for it)
state["ovs_vsctl"] = os.path.exists("/usr/bin/ovs-vsctl")
state["bridge_exists"] = None
if state["ovs_vsctl"] and args["ovs_service"] in state["units_ready"]:
    bridge = run(["ovs-vsctl", "--timeout=30", "br-exists", args["bridge"]])
    if bridge is not None and bridge.returncode in (0, 2):
        state["bridge_exists"] = bridge.returncode == 0

state["config_dir"] = os.path.isdir(args["config_dir"])
state["firewall_unit_file"] = os.path.exists(os.path.join("/etc/systemd/system", args["firewall_unit"]))

# The files may be unchanged while the live state drifted (someone deleted the port, the
# address or the table). Compared only for units that run: a unit that does not is started.
state["firewall_drift"] = False
if args["firewall"] == "nftables" and args["firewall_unit"] in state["units_ready"]:
    table = run(["nft", "list", "table", "inet", args["nft_table"]])
    state["firewall_drift"] = table is None or table.returncode != 0
state["interface_drift"] = False
if args["interface_unit"] in state["units_ready"] and os.path.exists(args["env_file"]):
    check = run([args["script"], "check"])
    state["interface_drift"] = check is None or check.returncode != 0
    state["interface_check"] = (check.stdout + check.stderr).strip()[-2000:] if check else "did not run"
print(json.dumps(state))
