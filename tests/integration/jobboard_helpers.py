"""The jobboard's Redis and Sentinels on the test bed's controllers, as the tests see them
(role jobboard_redis; tests/integration/test_jobboard*.py)."""

from __future__ import annotations

import subprocess

import yaml

from controller_helpers import CONTROLLERS, on
from playbook import ROOT

AIO = ROOT / "inventories" / "aio"
ENABLED = yaml.safe_load((AIO / "group_vars" / "all.yml").read_text()).get("jobboard_enabled", False) is True
SKIP_REASON = "jobboard_enabled is not true in inventories/aio (no jobboard deployed)"
# hosts that run only a Sentinel (the test bed's witness container)
WITNESSES = sorted((yaml.safe_load((AIO / "hosts.yml").read_text())["all"]["children"]
                    .get("octavia_jobboard_witnesses") or {}).get("hosts") or {})
MASTER_NAME = "octavia"
SENTINEL_PORT = 26379
REDIS_PORT = 6379
# redis-cli in a controller, at the address and with the password of the configuration
# file there (the test never sees the password): $1 the file, $2 the port, then the command
CLI = ("file=$1 port=$2; shift 2; "
       "value() { awk -v key=$1 '$1 == key {gsub(/\"/, \"\", $2); print $2; exit}' $file; }; "
       "REDISCLI_AUTH=$(value requirepass) redis-cli --no-auth-warning -h $(value bind) -p $port \"$@\"")


def cli(controller, config, port, *command, check=True):
    proc = subprocess.run(["podman", "exec", controller, "bash", "-c", CLI, "cli", config, str(port), *command],
                          capture_output=True, text=True, check=False, timeout=60)
    assert proc.returncode == 0 or not check, (command, proc.stdout, proc.stderr)
    return proc


def redis_role(controller):
    """"master" or "slave" (Redis's ROLE), or None when its Redis does not answer."""
    proc = cli(controller, "/etc/redis/redis.conf", REDIS_PORT, "ROLE", check=False)
    words = proc.stdout.split()
    return words[0] if proc.returncode == 0 and words and words[0] in ("master", "slave") else None


def sentinel_masters():
    """{controller}: the controllers whose Redis the answering Sentinels name as the master."""
    by_address = {}
    for controller in CONTROLLERS:
        bind = on(controller, "awk", "$1 == \"bind\" {print $2; exit}", "/etc/redis/redis.conf").strip()
        by_address[bind] = controller
    named = set()
    for host in CONTROLLERS + WITNESSES:
        proc = cli(host, "/etc/redis/sentinel.conf", SENTINEL_PORT,
                   "SENTINEL", "get-master-addr-by-name", MASTER_NAME, check=False)
        if proc.returncode == 0 and proc.stdout.split():
            named.add(by_address.get(proc.stdout.split()[0], proc.stdout.split()[0]))
    return named


def master_controller():
    """The controller whose Redis every answering Sentinel names as the master."""
    named = sentinel_masters()
    assert len(named) == 1, f"the Sentinels disagree or none answers: {named}"
    return named.pop()


def journal_since(controller, unit, since):
    return on(controller, "journalctl", "-q", "-o", "cat", "-u", unit, "--since", f"@{int(since)}", "--no-pager")
