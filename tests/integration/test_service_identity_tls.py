"""Issue 13, item 5: service_identity checks the password over the task's own TLS settings.

Keystone is reached through a TLS proxy (its certificate signed by a CA made here, given as
the cloud's `cacert`). The password check used to drop the CA bundle: its login failed
verification, the module took that for a wrong password and reset it on every run."""

from __future__ import annotations

import datetime
import http.client
import http.server
import ipaddress
import ssl
import threading
import urllib.parse
import uuid

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from playbook import ROOT, run_playbook

PLAYBOOK = ROOT / "tests" / "integration" / "playbooks" / "service_identity.yml"


def _pki(directory):
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test keystone CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + datetime.timedelta(hours=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    (directory / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (directory / "server.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "server.key").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                             serialization.NoEncryption()))
    return directory / "ca.pem"


def _proxy(directory, upstream):
    """HTTPS on 127.0.0.1 in front of Keystone's plain HTTP."""
    target = urllib.parse.urlsplit(upstream)

    class Handler(http.server.BaseHTTPRequestHandler):
        def _forward(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
            conn.request(self.command, self.path, body=body or None, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _forward

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(directory / "server.pem", directory / "server.key")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def tls_cloud(tmp_path, testbed_facts):
    clouds = yaml.safe_load((ROOT / ".testbed" / "clouds.yaml").read_text())
    entry = clouds["clouds"][testbed_facts["testbed_cloud_name"]]
    upstream = urllib.parse.urlsplit(entry["auth"]["auth_url"])
    ca = _pki(tmp_path)
    server = _proxy(tmp_path, f"{upstream.scheme}://{upstream.netloc}")
    tls = dict(entry, cacert=str(ca), auth=dict(entry["auth"], auth_url=f"https://127.0.0.1:{server.server_address[1]}"
                                                                        f"{upstream.path}"))
    path = tmp_path / "clouds.yaml"
    # two clouds, as an operator's clouds.yaml has: a check that falls back on a default
    # cloud cannot pick up the TLS one's settings by chance
    path.write_text(yaml.safe_dump({"clouds": {"tls": tls, "plain": entry}}))
    path.chmod(0o600)
    yield {"file": str(path), "region": entry.get("region_name") or testbed_facts.get("testbed_region", "RegionOne")}
    server.shutdown()


def test_password_check_over_tls_changes_nothing_on_a_rerun(cloud, tls_cloud):
    name = f"lbaas-test-{uuid.uuid4().hex[:8]}"
    extra = {"cloud_name": "tls", "si_user": name, "si_password": uuid.uuid4().hex, "si_region": tls_cloud["region"]}
    env = {"OS_CLIENT_CONFIG_FILE": tls_cloud["file"]}
    try:
        first = run_playbook(PLAYBOOK, extra_vars=extra, env=env)
        assert first.rc == 0, first.failed_messages() or first.stderr[-2000:]
        assert first.changed() == 1
        again = run_playbook(PLAYBOOK, extra_vars=extra, env=env)
        assert again.rc == 0, again.failed_messages()
        changes = again.plays[0]["tasks"][0]["hosts"]["localhost"].get("changes")
        assert again.changed() == 0, changes
    finally:
        user = cloud.identity.find_user(name, ignore_missing=True)
        if user:
            cloud.identity.delete_user(user)
        for service in cloud.identity.services(type=name):
            for endpoint in cloud.identity.endpoints(service_id=service.id):
                cloud.identity.delete_endpoint(endpoint)
            cloud.identity.delete_service(service)
