"""Issue 13, item 4 (the parts done): the RabbitMQ management API can be reached over TLS
with a private CA (`ca_path`, `messaging_api_ca_path`); the pip index URL, which may hold
credentials, is given to pip in its environment, not on its command line; an image
checksum must be SHA-256 or SHA-512 (MD5 is refused).

The management API is reached through a TLS proxy (tests/integration/tls_proxy.py) in
front of the test cloud's RabbitMQ, with a CA made by the test."""

from __future__ import annotations

import uuid

import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from playbook import ROOT, run_playbook
from tls_proxy import make_ca, tls_proxy

PLAYBOOKS = ROOT / "tests" / "integration" / "playbooks"


def _result(run):
    return run.plays[0]["tasks"][0]["hosts"]["localhost"]


def test_rabbitmq_account_over_tls_with_a_private_ca(tmp_path, testbed_facts):
    ca = make_ca(tmp_path)
    server = tls_proxy(tmp_path, testbed_facts["testbed_rabbitmq_management_url"])
    name = f"lbaas-test-{uuid.uuid4().hex[:8]}"
    base = {"rmq_api_url": f"https://127.0.0.1:{server.server_address[1]}",
            "rmq_login_user": testbed_facts["testbed_rabbitmq_admin_user"],
            "rmq_login_password": testbed_facts["testbed_rabbitmq_admin_password"],
            "rmq_vhost": name, "rmq_user": name, "rmq_password": uuid.uuid4().hex}
    try:
        refused = _result(run_playbook(PLAYBOOKS / "rabbitmq_account.yml", extra_vars=base))
        assert refused.get("failed") is True and "CERTIFICATE_VERIFY_FAILED" in refused["msg"], refused.get("msg")
        made = run_playbook(PLAYBOOKS / "rabbitmq_account.yml", extra_vars=dict(base, rmq_ca_path=str(ca)))
        assert made.rc == 0, made.failed_messages()
        assert _result(made)["changed"] is True
        again = run_playbook(PLAYBOOKS / "rabbitmq_account.yml", extra_vars=dict(base, rmq_ca_path=str(ca)))
        assert again.rc == 0 and _result(again)["changed"] is False
    finally:
        run_playbook(PLAYBOOKS / "rabbitmq_account.yml", extra_vars=dict(base, rmq_ca_path=str(ca), rmq_state="absent"))
        server.shutdown()


def _install_task():
    tasks = yaml.safe_load((ROOT / "roles" / "controller" / "tasks" / "venv.yml").read_text())
    return next(t for t in tasks if "pip" in str(t.get("ansible.builtin.command", "")))


def test_pip_index_credentials_stay_off_the_command_line():
    """The role's own pip task, rendered by Ansible's templar as the play would."""
    task = _install_task()
    url = "https://deploy:s3cret-token@pypi.example/simple"
    variables = {"controller_venv": "/opt/octavia", "controller_pip_index_url": url, "controller_pip_find_links": "",
                 "controller_pip_packages": ["octavia==19.0.0"]}
    templar = Templar(loader=DataLoader(), variables=variables)
    argv = templar.template(trust_as_template(task["ansible.builtin.command"]["argv"]))
    environment = templar.template(trust_as_template(task["environment"]))
    assert argv[:2] == [variables["controller_venv"] + "/bin/pip", "install"]
    assert not [arg for arg in argv if "s3cret-token" in str(arg)]
    assert environment == {"PIP_INDEX_URL": url}


def test_an_md5_image_checksum_is_refused(tmp_path):
    image = tmp_path / "image.qcow2"
    image.write_bytes(b"x" * 1024)
    run = run_playbook(PLAYBOOKS / "amphora_image.yml", extra_vars={
        "cloud_name": "unused", "image_tag": "unused", "image_file": str(image),
        "image_checksum": "md5:" + "0" * 32})
    messages = " ".join(run.failed_messages())
    assert run.rc != 0 and "checksum: expected 'sha256:<64 hex>' or 'sha512:<128 hex>'" in messages, messages
