"""playbooks/files/health_check_controller.py: what playbooks/health_check.yml reads on a
controller (octavia.conf settings, the certificates of the files it names, their expiry),
run on files made here."""

from __future__ import annotations

import datetime
import importlib.util
import io
import json
import pathlib
from contextlib import redirect_stdout

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

SCRIPT = pathlib.Path(__file__).resolve().parents[4] / "playbooks" / "files" / "health_check_controller.py"
spec = importlib.util.spec_from_file_location("health_check_controller", SCRIPT)
hcc = importlib.util.module_from_spec(spec)
spec.loader.exec_module(hcc)


def _cert(cn, days, ca=True):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=400))
            .not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def run(conf, days):
    out = io.StringIO()
    with redirect_stdout(out):
        hcc.main(str(conf), days)
    return json.loads(out.getvalue())


def test_settings_certificates_and_expiry(tmp_path):
    client, client_key = _cert("controller", 10, ca=False)
    (tmp_path / "client.pem").write_bytes(client + client_key)          # the key is skipped
    (tmp_path / "chain.pem").write_bytes(_cert("issuing", 900)[0] + _cert("root", -1)[0])
    (tmp_path / "client_ca.pem").write_bytes(_cert("client CA", 900)[0])
    conf = tmp_path / "octavia.conf"
    conf.write_text(
        "[health_manager]\nbind_ip = 172.31.0.5\nbind_port = 5555\nheartbeat_timeout = 60\n"
        "[controller_worker]\namphora_driver = amphora_noop_driver\nclient_ca = %s\n"
        "[haproxy_amphora]\nclient_cert = %s\nserver_ca = %s\n"
        "[certificates]\nca_certificate = %s\n"
        % (tmp_path / "client_ca.pem", tmp_path / "client.pem", tmp_path / "chain.pem", tmp_path / "missing.pem"))
    got = run(conf, 30)
    assert got["settings"]["health_manager"] == {"bind_ip": "172.31.0.5", "bind_port": "5555", "heartbeat_timeout": "60"}
    assert got["settings"]["controller_worker"]["amphora_driver"] == "amphora_noop_driver"
    files = {f["option"]: f for f in got["certificate_files"]}
    assert [c["subject"] for c in files["[haproxy_amphora] server_ca"]["certificates"]] == ["CN=issuing", "CN=root"]
    assert files["[haproxy_amphora] client_cert"]["certificates"][0]["ca"] is False
    assert "PRIVATE KEY" not in json.dumps(got)
    problems = "\n".join(got["problems"])
    assert "certificate CN=controller (%s, [haproxy_amphora] client_cert) expires in" % (tmp_path / "client.pem") in problems
    assert "within health_check_cert_days (30)" in problems
    assert "certificate CN=root (%s, [haproxy_amphora] server_ca) expired on" % (tmp_path / "chain.pem") in problems
    assert "cannot read %s ([certificates] ca_certificate)" % (tmp_path / "missing.pem") in problems
    assert "CN=issuing" not in problems and "client CA" not in problems
    assert len(got["problems"]) == 3
    # a smaller window: the client certificate is fine
    assert len(run(conf, 5)["problems"]) == 2


def test_unreadable_config_is_one_error(tmp_path):
    got = run(tmp_path / "nope.conf", 30)
    assert got["error"].startswith("cannot read %s" % (tmp_path / "nope.conf"))
