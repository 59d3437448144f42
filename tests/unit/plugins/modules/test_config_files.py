"""octavia.lbaas.config_files on a temporary directory: writes only what differs, in check
mode nothing, validates before it replaces, and never shows a secret file's content."""

from __future__ import annotations

import os
import stat

from ansible_collections.octavia.lbaas.plugins.modules import config_files


def mode(path):
    return "%04o" % stat.S_IMODE(os.stat(path).st_mode)


def entries(tmp_path, **extra):
    return [{"path": str(tmp_path / "etc"), "state": "directory", "mode": "0750"},
            {"path": str(tmp_path / "etc" / "a.conf"), "content": "a = 1\n", "mode": "0640", **extra},
            {"path": str(tmp_path / "gone"), "state": "absent"}]


def test_writes_then_changes_nothing(run_module, tmp_path):
    (tmp_path / "gone").write_text("x")
    first = run_module(config_files, {"files": entries(tmp_path)}, diff=True)
    assert first["changed"] is True
    assert first["changed_paths"] == [str(tmp_path / "etc"), str(tmp_path / "etc" / "a.conf"), str(tmp_path / "gone")]
    assert (tmp_path / "etc" / "a.conf").read_text() == "a = 1\n"
    assert mode(tmp_path / "etc") == "0750" and mode(tmp_path / "etc" / "a.conf") == "0640"
    assert not (tmp_path / "gone").exists()
    assert first["diff"][1]["after"] == "a = 1\n"
    again = run_module(config_files, {"files": entries(tmp_path)})
    assert again["changed"] is False and again["changed_paths"] == []


def test_check_mode_writes_nothing(run_module, tmp_path):
    run_module(config_files, {"files": entries(tmp_path)})
    os.chmod(tmp_path / "etc" / "a.conf", 0o644)
    files = entries(tmp_path)
    files[1]["content"] = "a = 2\n"
    result = run_module(config_files, {"files": files}, check=True, diff=True)
    assert result["changed_paths"] == [str(tmp_path / "etc" / "a.conf")]
    assert (tmp_path / "etc" / "a.conf").read_text() == "a = 1\n"
    assert mode(tmp_path / "etc" / "a.conf") == "0644"


def test_only_the_mode_changes(run_module, tmp_path):
    run_module(config_files, {"files": entries(tmp_path)})
    os.chmod(tmp_path / "etc" / "a.conf", 0o600)
    result = run_module(config_files, {"files": entries(tmp_path)}, diff=True)
    assert result["changed_paths"] == [str(tmp_path / "etc" / "a.conf")]
    assert mode(tmp_path / "etc" / "a.conf") == "0640"
    assert result["diff"][0]["after"] == "mode: 0640\n"


def test_a_secret_content_never_appears(run_module, tmp_path):
    run_module(config_files, {"files": entries(tmp_path, secret=True)})
    files = entries(tmp_path, secret=True)
    files[1]["content"] = "password = hunter2-secret\n"
    result = run_module(config_files, {"files": files}, diff=True)
    assert "hunter2" not in str(result) and "a = 1" not in str(result)
    assert (tmp_path / "etc" / "a.conf").read_text() == "password = hunter2-secret\n"


def test_validate_refuses_and_keeps_the_file(run_module, tmp_path):
    run_module(config_files, {"files": entries(tmp_path)})
    files = entries(tmp_path, validate="grep -q ok %s")
    files[1]["content"] = "not good\n"
    result = run_module(config_files, {"files": files}, expect_fail=True)
    assert "refused" in result["msg"]
    assert (tmp_path / "etc" / "a.conf").read_text() == "a = 1\n"
    assert [p for p in os.listdir(tmp_path / "etc") if p.startswith(".")] == []
    files[1]["content"] = "ok\n"
    assert run_module(config_files, {"files": files})["changed_paths"] == [str(tmp_path / "etc" / "a.conf")]


def test_template_needs_the_action(run_module, tmp_path):
    result = run_module(config_files, {"files": [{"path": str(tmp_path / "x"), "template": "x.j2"}]}, expect_fail=True)
    assert "action plugin" in result["msg"]
