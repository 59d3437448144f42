"""The agent probe (amphora_agent_info): its pure parts, and the probe itself against a real
mutual-TLS HTTPS server on 127.0.0.1 with certificates made here (the real amphora-agent
is exercised by tests/integration/test_amphora_e2e.py). Nothing is mocked but the cloud
connection, which only the address lookup uses."""

from __future__ import annotations

import datetime
import errno
import http.server
import json
import socket
import ssl
import threading
import uuid
from unittest import mock

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ansible_collections.octavia.lbaas.plugins.module_utils import cloud
from ansible_collections.octavia.lbaas.plugins.module_utils.cloud import ModuleError
from ansible_collections.octavia.lbaas.plugins.modules import amphora_agent_info as mod

AMP_ID = "1d019d86-fac7-4f45-9e74-3011fae7162b"


# -- certificates ---------------------------------------------------------------------------
def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _issue(cn, signer=None, ca=False, dns=None, eku=None, days=30, key=None):
    key = key or ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(_name(cn))
               .issuer_name(signer[0].subject if signer else _name(cn))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(days=2))
               .not_valid_after(now + datetime.timedelta(days=days))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if dns:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(d) for d in dns]),
                                        critical=False)
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
    cert = builder.sign(signer[1] if signer else key, hashes.SHA256())
    return cert, key


def _pem(cert, key=None):
    out = cert.public_bytes(serialization.Encoding.PEM)
    if key is not None:
        out += key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())
    return out


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """Our server CA (root + issuing, as the pki role makes), our client CA, a client bundle,
    agent certificates (right name, other name, CN only, wrong CA) and a rogue client."""
    d = tmp_path_factory.mktemp("pki")
    server_root = _issue("test server root CA", ca=True)
    server_issuing = _issue("test server issuing CA", signer=server_root, ca=True)
    client_ca = _issue("test client CA", ca=True)
    rogue_ca = _issue("rogue CA", ca=True)
    files = {}

    def write(name, data):
        path = d / name
        path.write_bytes(data)
        files[name] = str(path)

    write("server_ca_chain.pem", _pem(server_issuing[0]) + _pem(server_root[0]))
    write("client_ca.pem", _pem(client_ca[0]))
    client = _issue("controller", signer=client_ca, eku=[ExtendedKeyUsageOID.CLIENT_AUTH])
    write("client.pem", _pem(*client))
    write("client.crt", _pem(client[0]))
    write("client.key", _pem(client[0], client[1])[len(_pem(client[0])):])
    other_key = ec.generate_private_key(ec.SECP256R1())
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    write("other_rsa.key", rsa_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption()))
    write("other.key", other_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    write("rogue_client.pem", _pem(*_issue("rogue", signer=rogue_ca, eku=[ExtendedKeyUsageOID.CLIENT_AUTH])))
    serverauth = [ExtendedKeyUsageOID.SERVER_AUTH]
    write("agent.pem", _pem(*_issue(AMP_ID, signer=server_issuing, dns=[AMP_ID], eku=serverauth)))
    other = str(uuid.uuid4())
    write("agent_other.pem", _pem(*_issue(other, signer=server_issuing, dns=[other], eku=serverauth)))
    write("agent_cn_only.pem", _pem(*_issue(AMP_ID, signer=server_issuing, eku=serverauth)))
    write("agent_rogue.pem", _pem(*_issue(AMP_ID, signer=rogue_ca, dns=[AMP_ID], eku=serverauth)))
    write("agent_expired.pem", _pem(*_issue(AMP_ID, signer=server_issuing, dns=[AMP_ID], days=-1)))
    write("not_pem.txt", b"hello\n")
    return files


# -- a real mutual-TLS agent stand-in ----------------------------------------------------------
class Agent:
    """An HTTPS server that demands a client certificate signed by client_ca and answers
    GET /, /<v>/info and /<v>/details like the amphora-agent (one request per connection)."""

    def __init__(self, cert, client_ca, api_version="1.0", broken=None):
        agent = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                agent.paths.append(self.path)
                if broken == "500" and self.path != "/":
                    return self.answer(500, b'{"error": "boom"}')
                if broken == "text" and self.path != "/":
                    return self.answer(200, b"<html>not json</html>")
                bodies = {
                    "/": {"api_version": api_version},
                    "/%s/info" % api_version: {
                        "hostname": "amphora-x", "api_version": api_version,
                        "haproxy_version": "2.6.12-1+deb12u4", "keepalived_version": "1:2.2.7-1+b2",
                        "ipvsadm_version": "1:1.31-1+b1"},
                    "/%s/details" % api_version: {"active": True, "haproxy_count": 0, "listeners": [],
                                                  "topology": "SINGLE"},
                }
                if self.path not in bodies:
                    return self.answer(404, b'{"error": "not found"}')
                return self.answer(200, json.dumps(bodies[self.path]).encode())

            def answer(self, status, body):
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert)
        context.load_verify_locations(client_ca)
        context.verify_mode = ssl.CERT_REQUIRED
        self.paths = []
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def probe(pki, port, amphora_id=AMP_ID, client="client.pem", key=None, ca="server_ca_chain.pem"):
    context = mod.client_context(pki[client], pki[key] if key else None, pki[ca])
    return mod.AgentProbe("127.0.0.1", port, amphora_id, context, 5, pki[ca], pki[client])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- the probe against the stand-in ------------------------------------------------------------
def test_probe_reads_the_agent_over_mutual_tls(pki):
    with Agent(pki["agent.pem"], pki["client_ca.pem"]) as agent:
        p = probe(pki, agent.port)
        assert p.get("/") == {"api_version": "1.0"}
        assert p.get("/1.0/info")["haproxy_version"] == "2.6.12-1+deb12u4"
        cert = mod.describe_certificate(p.peer)
        assert p.tls["version"] in ("TLSv1.2", "TLSv1.3")
    assert agent.paths == ["/", "/1.0/info"]
    assert cert["common_name"] == AMP_ID and cert["dns_names"] == [AMP_ID]
    assert cert["issuer"] == "CN=test server issuing CA"
    assert 28 <= cert["days_left"] <= 30


def test_a_certificate_with_the_name_only_as_cn_is_accepted(pki):
    with Agent(pki["agent_cn_only.pem"], pki["client_ca.pem"]) as agent:
        assert probe(pki, agent.port).get("/") == {"api_version": "1.0"}


def test_separate_key_file_works(pki):
    with Agent(pki["agent.pem"], pki["client_ca.pem"]) as agent:
        assert probe(pki, agent.port, client="client.crt", key="client.key").get("/")


@pytest.mark.parametrize("cert,amphora_id,expected", [
    ("agent_rogue.pem", AMP_ID, "is not signed by the server CA chain"),
    ("agent_other.pem", AMP_ID, "does not name amphora %s" % AMP_ID),
    ("agent.pem", str(uuid.UUID(int=7)), "does not name amphora 00000000-0000-0000-0000-000000000007"),
    ("agent_expired.pem", AMP_ID, "has expired"),
])
def test_a_wrong_agent_certificate_is_rejected_before_any_request(pki, cert, amphora_id, expected):
    with Agent(pki[cert], pki["client_ca.pem"]) as agent:
        with pytest.raises(mod.ProbeError) as failed:
            probe(pki, agent.port, amphora_id=amphora_id).get("/")
    assert expected in failed.value.msg
    assert agent.paths == []   # no request reached the server


def test_the_agent_refusing_our_client_certificate_is_named(pki):
    with Agent(pki["agent.pem"], pki["client_ca.pem"]) as agent:
        with pytest.raises(mod.ProbeError) as failed:
            probe(pki, agent.port, client="rogue_client.pem").get("/")
    assert "refused this host's client certificate" in failed.value.msg
    assert pki["rogue_client.pem"] in failed.value.msg
    assert agent.paths == []


def test_nothing_listening_is_named(pki):
    with pytest.raises(mod.ProbeError) as failed:
        probe(pki, free_port()).get("/")
    assert "nothing listens at 127.0.0.1:" in failed.value.msg


@pytest.mark.parametrize("broken,expected", [("500", "answered HTTP 500"), ("text", "answered no JSON")])
def test_bad_answers_are_named(pki, broken, expected):
    with Agent(pki["agent.pem"], pki["client_ca.pem"], broken=broken) as agent:
        p = probe(pki, agent.port)
        p.get("/")
        with pytest.raises(mod.ProbeError) as failed:
            p.get("/1.0/info")
    assert expected in failed.value.msg


# -- the certificate files -------------------------------------------------------------------------
@pytest.mark.parametrize("client,key,ca,expected", [
    ("missing", None, "server_ca_chain.pem", "agent_client_cert: {missing} does not exist"),
    ("client.pem", None, "missing", "agent_server_ca: {missing} does not exist"),
    ("client.crt", None, "server_ca_chain.pem", "must hold the client certificate followed by its unencrypted key"),
    ("client.crt", "other.key", "server_ca_chain.pem", "the key does not belong to the certificate"),
    # a key of another type: OpenSSL says "no certificate assigned"; we say what it means
    ("client.crt", "other_rsa.key", "server_ca_chain.pem", "the key does not belong to the certificate"),
    ("client.pem", None, "not_pem.txt", "agent_server_ca: {not_pem.txt} holds no usable CA certificate"),
    ("client.pem", None, "agent.pem", "agent_server_ca: {agent.pem} holds no CA certificate"),
])
def test_certificate_file_problems_name_the_option(pki, tmp_path, client, key, ca, expected):
    files = dict(pki, missing=str(tmp_path / "missing.pem"))
    with pytest.raises(ModuleError) as failed:
        mod.client_context(files[client], files[key] if key else None, files[ca])
    for name, path in files.items():   # {file name} stands for that file's path
        expected = expected.replace("{%s}" % name, path)
    assert expected in failed.value.msg


def test_the_context_always_verifies(pki):
    context = mod.client_context(pki["client.pem"], None, pki["server_ca_chain.pem"])
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


# -- pure helpers ----------------------------------------------------------------------------------
def test_api_version_check():
    assert mod.check_api_version("1.0", ["1.0"]) == "1.0"
    with pytest.raises(mod.ProbeError, match="speaks API version 0.5; the controller speaks 1.0"):
        mod.check_api_version("0.5", ["1.0"])
    with pytest.raises(mod.ProbeError, match="without a usable api_version"):
        mod.check_api_version(None, ["1.0"])


def test_versions_from_info():
    info = {"hostname": "a", "api_version": "1.0", "haproxy_version": "2.6\n", "keepalived_version": "2.2"}
    assert mod.versions_from(info, "1.0") == {"api": "1.0", "haproxy": "2.6", "keepalived": "2.2"}


def test_cert_paths_from_octavia_conf():
    text = ("[DEFAULT]\ndebug = false\n[haproxy_amphora]\nclient_cert = /etc/octavia/certs/c.pem\n"
            "server_ca = /etc/octavia/certs/ca.pem\nbind_port = 9443\n[health_manager]\nbind_ip = 1.2.3.4\n")
    assert mod.cert_paths_from_config(text, "octavia.conf") == {
        "client_cert": "/etc/octavia/certs/c.pem", "server_ca": "/etc/octavia/certs/ca.pem"}
    assert mod.cert_paths_from_config("[DEFAULT]\n", "x") == {}
    with pytest.raises(ModuleError, match="octavia_config: cannot parse"):
        mod.cert_paths_from_config("no section\n", "x")


@pytest.mark.parametrize("exc,expected", [
    (socket.timeout("timed out"), "no answer from the agent at a:1 within 3 s"),
    (ConnectionRefusedError(errno.ECONNREFUSED, "refused"), "nothing listens at a:1"),
    (OSError(errno.EHOSTUNREACH, "No route to host"), "no route to the agent at a:1"),
    (OSError(errno.EPERM, "nope"), "cannot reach the agent at a:1"),
])
def test_socket_errors_are_explained(exc, expected):
    assert expected in mod.explain_socket_error(exc, "a:1", 3)


def test_address_and_uuid_checks():
    assert mod.is_uuid(AMP_ID) and not mod.is_uuid("nope") and not mod.is_uuid(None)
    assert mod.check_address("172.31.1.208") == "172.31.1.208"
    assert mod.check_address("fd00::5") == "fd00::5"
    with pytest.raises(ModuleError, match="address: 'a b' is neither"):
        mod.check_address("a b")


# -- the module ------------------------------------------------------------------------------------
class Exited(Exception):
    def __init__(self, result, failed):
        super().__init__(result.get("msg"))
        self.result, self.failed = result, failed


def run(args, expect_fail=False):
    """Run the module's main() with args; it must never connect to the cloud (an address is
    given in every case here)."""
    def exit_json(self, **result):
        raise Exited(result, False)

    def fail_json(self, msg, **result):
        raise Exited(dict(result, msg=msg), True)

    def no_cloud(self):
        raise AssertionError("the module connected to the cloud")

    with patch_module_args(dict(args)), \
            mock.patch.object(basic.AnsibleModule, "exit_json", exit_json), \
            mock.patch.object(basic.AnsibleModule, "fail_json", fail_json), \
            mock.patch.object(cloud.CloudModule, "_connect", no_cloud):
        with pytest.raises(Exited) as done:
            mod.main()
    result = json.loads(json.dumps(done.value.result))
    assert done.value.failed == expect_fail, result
    return result


def test_module_reports_versions_and_certificate(pki):
    with Agent(pki["agent.pem"], pki["client_ca.pem"]) as agent:
        result = run({"amphora_id": AMP_ID, "address": "127.0.0.1", "port": agent.port,
                      "agent_client_cert": pki["client.pem"],
                      "agent_server_ca": pki["server_ca_chain.pem"]})
    assert result["changed"] is False
    assert result["api_version"] == "1.0"
    assert result["versions"] == {"api": "1.0", "haproxy": "2.6.12-1+deb12u4", "keepalived": "1:2.2.7-1+b2",
                                  "ipvsadm": "1:1.31-1+b1"}
    assert result["details"]["topology"] == "SINGLE"
    assert result["certificate"]["common_name"] == AMP_ID
    assert result["amphora"] == {"id": AMP_ID, "address": "127.0.0.1", "port": agent.port, "looked_up": False}
    assert agent.paths == ["/", "/1.0/info", "/1.0/details"]


def test_module_reads_the_files_from_octavia_conf(pki, tmp_path):
    conf = tmp_path / "octavia.conf"
    conf.write_text("[haproxy_amphora]\nclient_cert = %s\nserver_ca = %s\n"
                    % (pki["client.pem"], pki["server_ca_chain.pem"]))
    with Agent(pki["agent.pem"], pki["client_ca.pem"]) as agent:
        result = run({"amphora_id": AMP_ID, "address": "127.0.0.1", "port": agent.port,
                      "octavia_config": str(conf), "details": False})
    assert "details" not in result and agent.paths == ["/", "/1.0/info"]


def test_module_fails_on_an_unsupported_api_version(pki):
    with Agent(pki["agent.pem"], pki["client_ca.pem"], api_version="2.0") as agent:
        result = run({"amphora_id": AMP_ID, "address": "127.0.0.1", "port": agent.port,
                      "agent_client_cert": pki["client.pem"],
                      "agent_server_ca": pki["server_ca_chain.pem"]}, expect_fail=True)
    assert "speaks API version 2.0; the controller speaks 1.0" in result["msg"]
    assert result["api_version"] == "2.0" and result["certificate"]["common_name"] == AMP_ID
    assert agent.paths == ["/"]


@pytest.mark.parametrize("args,expected", [
    ({"amphora_id": "web"}, "amphora_id: 'web' is not an amphora ID"),
    ({"address": "no such host!"}, "address: 'no such host!' is neither"),
    ({"port": 0}, "port: 0 is not a TCP port"),
    ({"timeout": 0}, "timeout: must be more than 0"),
    ({"api_versions": []}, "api_versions: give at least one version"),
    ({"api_versions": ["v1"]}, "api_versions: 'v1' is not a version like 1.0"),
    ({"agent_client_cert": None, "octavia_config": "/nonexistent/octavia.conf"},
     "agent_client_cert not given, and octavia_config /nonexistent/octavia.conf cannot be read"),
])
def test_bad_input_fails_before_any_connection(pki, args, expected):
    base = {"amphora_id": AMP_ID, "address": "127.0.0.1", "port": free_port(),
            "agent_client_cert": pki["client.pem"], "agent_server_ca": pki["server_ca_chain.pem"]}
    base.update(args)
    base = {k: v for k, v in base.items() if v is not None}
    result = run(base, expect_fail=True)
    assert expected in result["msg"]
