"""Issue 13 item 12: what a deploy needs is declared, and what the docs tell you to run runs.

* every play on the controllers says `become: true` (a non-root deploy user otherwise
  fails at the first root-only task, late);
* every collection the roles and playbooks use is a dependency (galaxy.yml) and in
  requirements.yml (ansible.utils was used, not declared);
* each `./run <tool>` example of the README names a tool the toolchain has;
* molecule finds its default scenario (without one it logs a CRITICAL "glob failed" line on
  every command, though nothing failed)."""

from __future__ import annotations

import pathlib
import re
import subprocess

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
USED = re.compile(r"\b(ansible\.(?:posix|utils|netcommon)|community\.[a-z_]+|containers\.podman|openstack\.cloud)\.[a-z_]+")


def _plays():
    for path in sorted((ROOT / "playbooks").glob("*.yml")):
        for play in yaml.safe_load(path.read_text()) or []:
            if isinstance(play, dict) and "hosts" in play:
                yield path.name, play


def test_every_controller_play_declares_become():
    plays = [(name, play) for name, play in _plays() if "octavia_controllers" in str(play["hosts"])]
    assert plays, "no controller play found"
    assert [(name, play["name"]) for name, play in plays if play.get("become") is not True] == []


def test_every_collection_in_use_is_declared():
    used = set()
    for base in ("roles", "playbooks"):
        for path in (ROOT / base).rglob("*"):
            if path.suffix in (".yml", ".yaml", ".j2") and path.is_file():
                used |= set(USED.findall(path.read_text()))
    galaxy = set(yaml.safe_load((ROOT / "galaxy.yml").read_text())["dependencies"])
    requirements = {c["name"] for c in yaml.safe_load((ROOT / "requirements.yml").read_text())["collections"]}
    assert "ansible.utils" in used
    assert sorted(used - galaxy) == []
    assert sorted(used - requirements) == []


def test_readme_run_examples_name_tools_of_the_toolchain():
    own = {"main", "test", "setup", "testbed", "tempest", "help"}
    tools = set(re.findall(r"\./run ([a-z][\w.-]*)", (ROOT / "README.md").read_text())) - own - {"<tool>"}
    assert tools, "no ./run example in the README"
    missing = [tool for tool in sorted(tools) if not (ROOT / ".venv" / "bin" / tool).exists()]
    assert missing == []


@pytest.mark.skipif(not (ROOT / ".venv" / "bin" / "molecule").exists(), reason="toolchain not installed")
def test_molecule_finds_its_default_scenario():
    scenario = next(p.parent.name for p in sorted((ROOT / "extensions" / "molecule").glob("*/molecule.yml"))
                    if p.parent.name != "default")
    proc = subprocess.run([str(ROOT / ".venv" / "bin" / "molecule"), "syntax", "-s", scenario], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False,
                          env={"PATH": "%s:/usr/bin:/bin" % (ROOT / ".venv" / "bin"), "HOME": str(pathlib.Path.home()),
                               "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "NO_COLOR": "1"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "CRITICAL" not in proc.stdout + proc.stderr
