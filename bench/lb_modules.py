"""Benchmark: octavia.lbaas vs openstack.cloud 2.5.0 vs a hand-written openstacksdk
script (the floor), on the test cloud's real Octavia. Not a test.

Tree: 1 load balancer; listeners HTTP 80, HTTP 8080, TCP 9000; pools web, api, tcp with
10 members and 1 health monitor each; for octavia.lbaas and the floor also 2 L7 policies
with a rule each (openstack.cloud has no L7 modules). Scenarios, per client:

  (a) create the tree                         one ansible-playbook (or script) process
  (b) run it again, nothing to change         idem
  (c) replace 50 of a pool's 100 members      idem (the 100 members are set up untimed)

For each: wall time of the whole process, and Octavia's own count of write calls
(POST/PUT/DELETE) and GETs, from the API's request log in the controller's journal
(tests/integration/octavia_api_log.py; requests of other tests on the shared cloud are
told apart by object IDs and names). Results: bench/results/lb_modules-<time>.{md,json},
the runs' output in bench/results/lb_modules-<time>-<run>.log.

  ./run python bench/lb_modules.py [--rounds 3] [--oscloud-rounds 1] [--skip-oscloud]

openstack.cloud 2.5.0 needs an older openstacksdk (it fails with >= 4.15), in its own venv:
  python3 -m venv .venv-bench-oscloud
  .venv-bench-oscloud/bin/pip install ansible==12.3.0 openstacksdk==4.14.0
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time
import uuid

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
sys.path.insert(0, str(ROOT / "tests"))

import openstack  # noqa: E402

from octavia_api_log import Window, noop_member_defect_since  # noqa: E402
from reference_tree import members, reference_tree  # noqa: E402

BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
OURS_VENV = ROOT / ".venv"
OSCLOUD_VENV = ROOT / ".venv-bench-oscloud"
CLOUD = "testbed"


# -- the tree ----------------------------------------------------------------------------------
def tree():
    """The reference tree (tests/reference_tree.py) without the listener's insert_headers,
    which openstack.cloud's lb_listener cannot set."""
    return reference_tree(insert_headers=False)


def graph_body(lb_name, subnet_id, t):
    """The floor's fully populated create body (what Octavia's API reference shows)."""
    def monitor(hm):
        out = {k: v for k, v in hm.items() if k != "probe_timeout"}
        out["timeout"] = hm["probe_timeout"]
        return out
    pools = []
    for pool in t["pools"]:
        pools.append({"name": pool["name"], "protocol": pool["protocol"], "lb_algorithm": pool["lb_algorithm"],
                      "members": pool["members"], "healthmonitor": monitor(pool["healthmonitor"])})
    listeners = []
    for li in t["listeners"]:
        item = {"protocol": li["protocol"], "protocol_port": li["protocol_port"],
                "default_pool": {"name": li["default_pool"]}}
        policies = []
        for p in li.get("l7policies", []):
            policy = {"name": p["name"], "action": p["action"],
                      "rules": [{"type": r["type"], "compare_type": r["compare_type"], "value": r["value"],
                                 **({"key": r["rule_key"]} if r.get("rule_key") else {})} for r in p["rules"]]}
            if p.get("redirect_pool"):
                policy["redirect_pool"] = {"name": p["redirect_pool"]}
            if p.get("redirect_url"):
                policy["redirect_url"] = p["redirect_url"]
            policies.append(policy)
        if policies:
            item["l7policies"] = policies
        listeners.append(item)
    return {"loadbalancer": {"name": lb_name, "vip_subnet_id": subnet_id, "listeners": listeners, "pools": pools}}


def oscloud_vars(lb_name, t):
    """The same tree (without L7) as openstack.cloud's per-object loops want it: every
    object needs a project-wide unique name."""
    listeners, pools, member_items, monitors = [], [], [], []
    for li in t["listeners"]:
        listeners.append({"name": f"{lb_name}-{li['protocol'].lower()}{li['protocol_port']}",
                          "protocol": li["protocol"], "protocol_port": li["protocol_port"]})
    for li, listener in zip(t["listeners"], listeners):
        pool = next(p for p in t["pools"] if p["name"] == li["default_pool"])
        name = f"{lb_name}-{pool['name']}"
        pools.append({"name": name, "listener": listener["name"], "protocol": pool["protocol"],
                      "lb_algorithm": pool["lb_algorithm"]})
        for m in pool["members"]:
            member_items.append({"name": f"{name}-{m['address']}-{m['protocol_port']}", "pool": name,
                                 "address": m["address"], "protocol_port": m["protocol_port"]})
        hm = pool["healthmonitor"]
        monitors.append({"name": f"{name}-hm", "pool": name, "type": hm["type"], "delay": hm["delay"],
                         "timeout": hm["probe_timeout"], "max_retries": hm["max_retries"],
                         **({"url_path": hm["url_path"]} if hm.get("url_path") else {})})
    return {"oscloud_listeners": listeners, "oscloud_pools": pools, "oscloud_members": member_items,
            "oscloud_monitors": monitors}


# -- running and measuring ------------------------------------------------------------------------
class Bench:
    def __init__(self, args):
        self.args = args
        self.stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M")
        self.prefix = f"lbaas-bench-{uuid.uuid4().hex[:6]}"
        os.environ.setdefault("OS_CLIENT_CONFIG_FILE", str(ROOT / ".testbed" / "clouds.yaml"))
        self.conn = openstack.connect(cloud=CLOUD)
        self.api = self.conn.load_balancer
        self.results = []
        self.tmp = ROOT / ".tmp" / "bench"
        self.tmp.mkdir(parents=True, exist_ok=True)
        RESULTS.mkdir(parents=True, exist_ok=True)

    # ids and names of one client's objects, to tell its API calls from other tests'
    def ids_of(self, lb_name):
        def ids():
            found = {lb_name}
            lbs = self.api.get("/lbaas/loadbalancers", params={"name": lb_name}).json()["loadbalancers"]
            for lb in lbs:
                found.add(lb["id"])
                listeners = {ref["id"] for ref in lb["listeners"]}
                found |= listeners
                for pool in self.api.get("/lbaas/pools", params={"loadbalancer_id": lb["id"]}).json()["pools"]:
                    found |= {pool["id"], pool.get("healthmonitor_id")} | {m["id"] for m in pool.get("members") or []}
                for policy in self.api.get("/lbaas/l7policies").json()["l7policies"]:
                    if policy["listener_id"] in listeners:
                        found |= {policy["id"]} | {r["id"] for r in policy.get("rules") or []}
            found.discard(None)
            return found
        return ids

    def env(self):
        env = dict(os.environ)
        env.update({"ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
                    "ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_NOCOLOR": "1"})
        return env

    def not_active(self, lb_name):
        """Objects of the load balancer that are not ACTIVE: {"member 10.0.1.1:80": "ERROR"}."""
        out = {}
        for lb in self.api.get("/lbaas/loadbalancers", params={"name": lb_name}).json()["loadbalancers"]:
            if lb["provisioning_status"] != "ACTIVE":
                out[f"load balancer {lb_name}"] = lb["provisioning_status"]
            for pool in self.api.get("/lbaas/pools", params={"loadbalancer_id": lb["id"]}).json()["pools"]:
                for m in self.api.get(f"/lbaas/pools/{pool['id']}/members").json()["members"]:
                    if m["provisioning_status"] != "ACTIVE":
                        out[f"member {m['address']}:{m['protocol_port']} of {pool['name']}"] = m["provisioning_status"]
        return out

    def clean_run(self, client, scenario, lb_name, cmd, setup=None, note=""):
        """Measure one run whose member flows all succeeded. On the two-controller test
        bed a member flow fails when the worker that did not create the load balancer
        gets it (tests/integration/octavia_api_log.py, NOOP_DEFECT): such a sample is
        thrown away, the starting state is set up again, and the run is measured again."""
        for attempt in range(1, 7):
            if setup:
                setup()
                if attempt > 1:
                    self.nudge(lb_name)
            start = time.time()
            row = self.measure(client, scenario, lb_name, cmd, note)
            bad = self.not_active(lb_name)
            row["not_active"] = bad
            row["attempt"] = attempt
            if not bad:
                return row
            defect = noop_member_defect_since(start)
            row["discarded"] = f"test-bed defect on {', '.join(defect)}" if defect else "objects not ACTIVE"
            print(f"    discarded: {len(bad)} object(s) not ACTIVE ({row['discarded']})", flush=True)
            if not defect or not setup:
                return row
        return row

    def nudge(self, lb_name):
        """Untimed: one harmless write (the load balancer's description), so that the next
        flow goes to the other worker: RabbitMQ hands the workers' queue messages in turn,
        and after a failed sample the timed batch would again reach the worker that does
        not know the load balancer (see clean_run)."""
        (lb,) = self.api.get("/lbaas/loadbalancers", params={"name": lb_name}).json()["loadbalancers"]
        self.api.put(f"/lbaas/loadbalancers/{lb['id']}",
                     json={"loadbalancer": {"description": f"bench {time.time():.0f}"}})
        end = time.monotonic() + 120
        while time.monotonic() < end:
            if self.api.get(f"/lbaas/loadbalancers/{lb['id']}").json()["loadbalancer"]["provisioning_status"] == "ACTIVE":
                return
            time.sleep(0.25)

    def measure(self, client, scenario, lb_name, cmd, note=""):
        log = RESULTS / f"lb_modules-{self.stamp}-{client}-{scenario}-{len(self.results)}.log"
        load = os.getloadavg()[0]
        window = Window(self.ids_of(lb_name))
        with window:
            start = time.monotonic()
            proc = subprocess.run(cmd, capture_output=True, text=True, env=self.env(), cwd=ROOT, check=False)
            wall = time.monotonic() - start
            log.write_text(f"$ {' '.join(map(str, cmd))}\nrc={proc.returncode}\n{proc.stdout}\n{proc.stderr}")
        failed = self.failures(proc)
        row = {"client": client, "scenario": scenario, "wall": round(wall, 2), "rc": proc.returncode,
               "writes": len(window.writes), "gets": len(window.gets),
               "discovery": sum(1 for r in window.all if r.path == "/"),
               "conflicts": len(window.conflicts), "failed_tasks": failed, "load": round(load, 2),
               "note": note, "requests": [str(r) for r in window.requests]}
        self.results.append(row)
        print(f"{client:8} {scenario:8} {wall:7.1f} s  writes={row['writes']:3}  gets={row['gets']:4}  rc={proc.returncode}"
              f"  load={load:.1f}" + (f"  failed: {failed}" if failed else ""), flush=True)
        return row

    @staticmethod
    def failures(proc):
        try:
            data = json.loads(proc.stdout[proc.stdout.index("{"):])
        except ValueError:
            return [] if proc.returncode == 0 else [proc.stderr[-300:]]
        out = []
        for play in data.get("plays", []):
            for task in play["tasks"]:
                for res in task["hosts"].values():
                    items = res.get("results") or [res]
                    for item in items:
                        if item.get("failed"):
                            out.append(f"{task['task']['name']}: {str(item.get('msg'))[:160]}")
        return sorted(set(out))

    def write_vars(self, name, data):
        path = self.tmp / f"{name}.json"
        path.write_text(json.dumps(data))
        return path

    def playbook(self, venv, playbook, varsfile):
        return [str(venv / "bin" / "ansible-playbook"), str(BENCH / "playbooks" / playbook), "-e", f"@{varsfile}"]

    def floor(self, action, varsfile):
        return [str(OURS_VENV / "bin" / "python"), str(BENCH / "floor_sdk.py"), action, str(varsfile)]

    # untimed helpers
    def set_members(self, lb_name, pool_name, items):
        """Untimed: the pool's members, sent again until Octavia has them all ACTIVE."""
        varsfile = self.write_vars(f"{lb_name}-setup", {"cloud_name": CLOUD, "lb_name": lb_name,
                                                        "pool_name": pool_name, "members": items})
        for _attempt in range(8):
            subprocess.run(self.floor("members", varsfile), check=True, env=self.env(), cwd=ROOT)
            if not self.not_active(lb_name):
                return
        raise RuntimeError(f"the members of {lb_name}/{pool_name} do not get ACTIVE")

    def delete(self, lb_name):
        for lb in self.api.get("/lbaas/loadbalancers", params={"name": lb_name}).json()["loadbalancers"]:
            self.conn.load_balancer.delete_load_balancer(lb["id"], cascade=True, ignore_missing=True)
            end = time.monotonic() + 180
            while time.monotonic() < end and self.api.get(f"/lbaas/loadbalancers/{lb['id']}").status_code != 404:
                time.sleep(1)

    # -- the three clients ------------------------------------------------------------------------
    def replacement(self, pool_prefix=None):
        """(100 members, the same 100 with 50 replaced)"""
        before = members(1, count=100, prefix=pool_prefix)
        after = before[:50] + members(1, count=50, start=151, prefix=pool_prefix)
        return before, after

    def run_ours(self, n, client="ours"):
        """octavia.lbaas as a playbook on the controller runs it (direct execution inside
        Ansible's worker); client "ours-process" forces a module process per task, as a
        task on a remote host or under another interpreter gets."""
        lb = f"{self.prefix}-{client}{n}"
        t = tree()
        extra = ["-e", "octavia_lbaas_direct_execution=false"] if client == "ours-process" else []
        self.create_noop_members(client, lb, {"vip_subnet": self.subnet.name, "tree_listeners": t["listeners"],
                                              "tree_pools": t["pools"]},
                                 lambda varsfile: self.playbook(OURS_VENV, "ours_tree.yml", varsfile) + extra,
                                 "pool_members",
                                 lambda varsfile: self.playbook(OURS_VENV, "ours_members.yml", varsfile) + extra)

    def run_floor(self, n):
        lb = f"{self.prefix}-floor{n}"
        t = tree()
        self.create_noop_members("floor", lb, {"tree": t, "body": graph_body(lb, self.subnet.id, t)},
                                 lambda varsfile: self.floor("create", varsfile),
                                 "members", lambda varsfile: self.floor("members", varsfile),
                                 noop_cmd=lambda varsfile: self.floor("noop", varsfile))

    def create_noop_members(self, client, lb, tree_vars, tree_cmd, members_key, members_cmd, noop_cmd=None):
        """(a) create, (b) no-op re-run (the create command again unless `noop_cmd`),
        (c) replace 50 of 100 members; then delete."""
        varsfile = self.write_vars(lb, dict(tree_vars, cloud_name=CLOUD, lb_name=lb))
        cmd = tree_cmd(varsfile)
        noop = noop_cmd(varsfile) if noop_cmd else cmd
        try:
            self.clean_run(client, "create", lb, cmd)
            self.measure(client, "noop", lb, noop)
            before, after = self.replacement(pool_prefix=f"{lb}-web")
            mvars = self.write_vars(f"{lb}-members", {"cloud_name": CLOUD, "lb_name": lb, "pool_name": "web",
                                                      members_key: after})
            self.clean_run(client, "members", lb, members_cmd(mvars),
                           setup=lambda: self.set_members(lb, "web", before))
        finally:
            self.delete(lb)

    def run_oscloud(self, n):
        lb = f"{self.prefix}-osc{n}"
        t = tree()
        for listener in t["listeners"]:
            listener.pop("l7policies", None)
        data = {"cloud_name": CLOUD, "lb_name": lb, "vip_subnet": self.subnet.name}
        data.update(oscloud_vars(lb, t))
        varsfile = self.write_vars(lb, data)
        cmd = self.playbook(OSCLOUD_VENV, "oscloud_tree.yml", varsfile)
        note = "no L7 policies (no such modules)"
        try:
            row = self.measure("oscloud", "create", lb, cmd, note)
            row["not_active"] = self.not_active(lb)
            row = self.measure("oscloud", "noop", lb, cmd, note)
            row["not_active"] = self.not_active(lb)
            if not self.args.oscloud_members:
                return
            pool = f"{lb}-web"
            before, after = self.replacement(pool_prefix=pool)
            self.set_members(lb, pool, before)
            gone = [m for m in before if m not in after]
            new = [m for m in after if m not in before]
            mvars = self.write_vars(f"{lb}-members", {"cloud_name": CLOUD, "pool_name": pool,
                                                      "members_gone": gone, "members_new": new})
            row = self.measure("oscloud", "members", lb, self.playbook(OSCLOUD_VENV, "oscloud_members.yml", mvars))
            row["not_active"] = self.not_active(lb)
        finally:
            self.delete(lb)

    # -- the whole run --------------------------------------------------------------------------------
    def versions(self):
        def out(cmd):
            if not pathlib.Path(cmd[0]).exists() and cmd[0] != "podman":
                return "not installed"   # e.g. no .venv-bench-oscloud when openstack.cloud is skipped
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
            return proc.stdout.strip().splitlines()[0] if proc.returncode == 0 and proc.stdout.strip() else "?"
        pyver = "import importlib.metadata as m; print(m.version('%s'))"
        return {
            "octavia": out(["podman", "exec", "octavia-lbaas-controller-1", "/opt/octavia/bin/python", "-c",
                            pyver % "octavia"]),
            "octavia.lbaas": next(line.split(":", 1)[1].strip() for line in (ROOT / "galaxy.yml").read_text().splitlines()
                                  if line.startswith("version:")),
            "ours: ansible-core": out([str(OURS_VENV / "bin" / "python"), "-c", pyver % "ansible-core"]),
            "ours: openstacksdk": out([str(OURS_VENV / "bin" / "python"), "-c", pyver % "openstacksdk"]),
            "openstack.cloud": out([str(OSCLOUD_VENV / "bin" / "python"), "-c",
                                    "import json, ansible_collections.openstack.cloud as c, pathlib; "
                                    "print(json.loads((pathlib.Path(c.__path__[0]) / 'MANIFEST.json').read_text())"
                                    "['collection_info']['version'])"]),
            "oscloud: ansible": out([str(OSCLOUD_VENV / "bin" / "python"), "-c", pyver % "ansible"]),
            "oscloud: ansible-core": out([str(OSCLOUD_VENV / "bin" / "python"), "-c", pyver % "ansible-core"]),
            "oscloud: openstacksdk": out([str(OSCLOUD_VENV / "bin" / "python"), "-c", pyver % "openstacksdk"]),
            "python": sys.version.split()[0],
            "cores": os.cpu_count(),
        }

    def run(self):
        net = self.conn.network.create_network(name=f"{self.prefix}-net")
        self.subnet = self.conn.network.create_subnet(name=f"{self.prefix}-vip", network_id=net.id, ip_version=4,
                                                      cidr="10.252.0.0/24")
        started = datetime.datetime.now(datetime.timezone.utc)
        clients = set(self.args.only.split(","))
        try:
            for n in range(self.args.rounds):
                if "floor" in clients:
                    self.run_floor(n)
                if "ours" in clients:
                    self.run_ours(n)
                if "ours-process" in clients:
                    self.run_ours(n, "ours-process")
            if "ansible" in clients:
                for _round in range(self.args.rounds):
                    self.measure("ansible", "ping", "-", [str(OURS_VENV / "bin" / "ansible-playbook"),
                                                          str(BENCH / "playbooks" / "ping.yml")])
            if "oscloud" in clients and not self.args.skip_oscloud:
                for n in range(self.args.oscloud_rounds):
                    self.run_oscloud(n)
        finally:
            for lb in self.api.get("/lbaas/loadbalancers").json()["loadbalancers"]:
                if lb["name"].startswith(self.prefix):
                    self.delete(lb["name"])
            self.conn.network.delete_subnet(self.subnet, ignore_missing=True)
            self.conn.network.delete_network(net, ignore_missing=True)
        report = {"started": started.isoformat(timespec="seconds"), "versions": self.versions(),
                  "rounds": {"floor/ours": self.args.rounds, "oscloud": 0 if self.args.skip_oscloud
                             else self.args.oscloud_rounds}, "runs": self.results}
        (RESULTS / f"lb_modules-{self.stamp}.json").write_text(json.dumps(report, indent=1))
        table = self.table(report)
        (RESULTS / f"lb_modules-{self.stamp}.md").write_text(table)
        print(table)

    @staticmethod
    def table(report):
        runs = report["runs"]

        def pick(client, scenario):
            every = [r for r in runs if r["client"] == client and r["scenario"] == scenario]
            rows = [r for r in every if not r.get("discarded") or r is every[-1] and client == "oscloud"]
            if not rows:
                return None
            walls = [r["wall"] for r in rows]
            return {"wall": statistics.median(walls), "min": min(walls), "max": max(walls), "n": len(rows),
                    "writes": sorted({r["writes"] for r in rows}), "gets": sorted({r["gets"] for r in rows}),
                    "failed": sorted({f for r in rows for f in r["failed_tasks"]}),
                    "not_active": max((len(r.get("not_active") or {}) for r in rows), default=0),
                    "discarded": sum(1 for r in every if r.get("discarded")),
                    "load": statistics.median(r["load"] for r in rows)}

        names = {"create": "(a) create the tree", "noop": "(b) re-run, nothing to change",
                 "members": "(c) replace 50 of a pool's 100 members"}
        lines = [f"# octavia.lbaas vs openstack.cloud vs the floor ({report['started']})", "",
                 "Versions: " + ", ".join(f"{k} {v}" for k, v in report["versions"].items()), "",
                 "| scenario | client | wall s (median of n; min-max) | Octavia writes | Octavia GETs | "
                 "ours vs openstack.cloud | ours vs floor | load avg |",
                 "|---|---|---|---|---|---|---|---|"]
        for scenario, title in names.items():
            ours, process, osc, floor = (pick(c, scenario) for c in ("ours", "ours-process", "oscloud", "floor"))
            for client, row in (("octavia.lbaas", ours), ("octavia.lbaas, module process", process),
                                ("openstack.cloud 2.5.0", osc), ("floor (openstacksdk)", floor)):
                if row is None:
                    continue
                mine = client.startswith("octavia.lbaas")
                speed_osc = f"{osc['wall'] / row['wall']:.1f}x faster" if mine and osc else ""
                vs_floor = f"{row['wall'] / floor['wall']:.2f}x the floor" if mine and floor else ""
                spread = f"{row['wall']:.1f} (n={row['n']}; {row['min']:.1f}-{row['max']:.1f})"
                fail = f" — failed tasks: {len(row['failed'])}" if row["failed"] else ""
                if row["not_active"]:
                    fail += f" — {row['not_active']} object(s) left in ERROR"
                if row["discarded"]:
                    fail += f" ({row['discarded']} sample(s) discarded: test-bed defect)"
                lines.append(f"| {title} | {client}{fail} | {spread} | {'/'.join(map(str, row['writes']))} | "
                             f"{'/'.join(map(str, row['gets']))} | {speed_osc} | {vs_floor} | {row['load']:.1f} |")
        ping = pick("ansible", "ping")
        if ping:
            lines += ["", f"Reference: `ansible-playbook` with one `ping` task (Ansible's own cost of a run, no cloud): "
                          f"{ping['wall']:.2f} s (median of {ping['n']}; {ping['min']:.2f}-{ping['max']:.2f})."]
        return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of octavia.lbaas and the floor (default 3)")
    parser.add_argument("--oscloud-rounds", type=int, default=1, help="rounds of openstack.cloud (default 1; slow)")
    parser.add_argument("--skip-oscloud", action="store_true")
    parser.add_argument("--only", default="floor,ours,ansible,oscloud",
                        help="clients to run (comma-separated): floor, ours, ours-process (octavia.lbaas with "
                             "a module process per task), ansible (a playbook with one ping task: Ansible's own "
                             "cost), oscloud")
    parser.add_argument("--oscloud-members", action="store_true",
                        help="also (c) for openstack.cloud: on the two-controller test bed half of its member "
                             "deletes fail and lb_member then waits its whole timeout for each (see docs/performance.md)")
    Bench(parser.parse_args()).run()


if __name__ == "__main__":
    main()
