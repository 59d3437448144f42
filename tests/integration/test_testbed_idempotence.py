"""A second bring-up of the (already running) test cloud changes nothing."""

from __future__ import annotations

from playbook import ROOT, run_playbook


def test_second_bring_up_reports_no_change():
    run = run_playbook(ROOT / "tests" / "testbed" / "up.yml")
    assert run.rc == 0, run.failed_messages() or run.stderr[-2000:]
    assert run.changed() == 0, run.changed_tasks()
    assert "octavia-lbaas-cloud" in run.stats
