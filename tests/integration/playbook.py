"""Run ansible-playbook for a test and read what it did (per-host stats, failures)."""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[2]


@dataclasses.dataclass
class PlaybookRun:
    rc: int
    stats: dict
    plays: list
    stderr: str
    stdout: str = ""

    def changed(self, host=None):
        hosts = [host] if host else list(self.stats)
        return sum(self.stats[h]["changed"] for h in hosts)

    def failed_messages(self):
        """Every failed task's message, for assertions on error text."""
        out = []
        for play in self.plays:
            for task in play["tasks"]:
                for host, res in task["hosts"].items():
                    if res.get("failed") and not res.get("ignore_errors"):
                        out.append(f"{host}: {task['task']['name']}: {res.get('msg', '')}")
                        # a loop's own message only says that an item failed: add the items'
                        out += [f"  item {i}: {item.get('msg', '')}" for i, item in enumerate(res.get("results", []))
                                if item.get("failed")]
        return out

    def results(self, host="localhost"):
        """Each task's result on `host`, in order."""
        return [task["hosts"][host] for play in self.plays for task in play["tasks"] if host in task["hosts"]]

    def changed_tasks(self):
        names = []
        for play in self.plays:
            for task in play["tasks"]:
                if any(r.get("changed") for r in task["hosts"].values()):
                    names.append(task["task"]["name"])
        return names


def run_playbook(playbook, *args, extra_vars=None, check=False, diff=False, env=None,
                 unset=(), timeout=1800):
    cmd = [str(ROOT / ".venv" / "bin" / "ansible-playbook"), str(playbook), *args]
    if extra_vars:
        cmd += ["-e", json.dumps(extra_vars)]
    if check:
        cmd.append("--check")
    if diff:
        cmd.append("--diff")
    full_env = dict(os.environ)
    full_env.update({
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_NOCOLOR": "1",
        "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ.get('PATH', '')}",
    })
    full_env.update(env or {})
    for name in unset:
        full_env.pop(name, None)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=full_env, timeout=timeout,
                          cwd=ROOT, check=False)
    try:
        data = json.loads(proc.stdout[proc.stdout.index("{"):])
    except ValueError as exc:
        raise AssertionError(f"no JSON from ansible-playbook (rc={proc.returncode}):\n"
                             f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}") from exc
    return PlaybookRun(proc.returncode, data.get("stats", {}), data.get("plays", []), proc.stderr,
                       proc.stdout)
