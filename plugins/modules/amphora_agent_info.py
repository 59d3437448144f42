#!/usr/bin/python
# Copyright: octavia.lbaas contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The agent probe: ask an amphora-agent over mutual TLS who it is and what it runs."""

from __future__ import annotations

DOCUMENTATION = r"""
module: amphora_agent_info
short_description: Probe an amphora's agent over mutual TLS, as the Octavia controller does
description:
  - Calls the amphora-agent of one amphora on its management address (C(lb_network_ip),
    port 9443) with the controller's client certificate and the server CA chain, exactly
    the credentials Octavia's worker uses, and reads C(GET /), C(GET /<version>/info) and
    (unless O(details=false)) C(GET /<version>/details).
  - The agent's certificate must be signed by the server CA chain O(agent_server_ca) and
    must name the amphora (its subject alternative name, or its common name when it has
    none, is the amphora ID), as Octavia requires; the certificate is checked during the
    TLS handshake, before any request is sent. Verification cannot be switched off.
  - The agent's API version must be one of O(api_versions), the versions the deployed
    controller speaks.
  - Reports the versions of haproxy, keepalived and ipvsadm installed in the amphora image,
    the agent API version and the agent certificate's names and expiry. The agent does not
    report its own package version.
  - Run it where the management network is reachable, normally on a controller (through
    its C(o-hm0) interface), for example with C(delegate_to). Only the address lookup
    (O(address) not given) calls the Octavia admin API, and only then is openstacksdk needed.
  - An agent that cannot be reached, a certificate that does not verify or names another
    amphora, certificate files that are missing or do not match, and an unsupported API
    version each fail with a message that says which.
author: octavia.lbaas maintainers (@octavia-lbaas)
version_added: 0.1.0
extends_documentation_fragment: [octavia.lbaas.cloud]
attributes:
  check_mode:
    description: The probe only reads (three GETs to the agent); it runs the same in check mode.
    support: full
  diff_mode:
    description: The probe changes nothing, so there is no diff.
    support: N/A
options:
  amphora_id:
    description:
      - ID of the amphora. Its agent's certificate must name it.
    type: str
    required: true
    aliases: [id]
  address:
    description:
      - Management address of the amphora (Octavia's C(lb_network_ip)).
      - When not given, it is read from the Octavia admin API (C(GET /v2/octavia/amphorae/{id}))
        with the connection options.
    type: str
  port:
    description: TCP port of the agent (Octavia's C([haproxy_amphora] bind_port)).
    type: int
    default: 9443
  agent_client_cert:
    description:
      - PEM file with the controller's client certificate, followed by its unencrypted key
        unless O(agent_client_key) is given (Octavia's C([haproxy_amphora] client_cert)).
      - Default is the C(client_cert) of O(octavia_config).
    type: path
  agent_client_key:
    description:
      - PEM file with the key of O(agent_client_cert), when that file holds no key.
    type: path
  agent_server_ca:
    description:
      - PEM file with the CA certificates that sign amphora certificates, the server CA
        chain (Octavia's C([haproxy_amphora] server_ca)).
      - Default is the C(server_ca) of O(octavia_config).
    type: path
  octavia_config:
    description:
      - The controller's C(octavia.conf). Read only when O(agent_client_cert) or
        O(agent_server_ca) is not given, for the C([haproxy_amphora]) options C(client_cert)
        and C(server_ca).
    type: path
    default: /etc/octavia/octavia.conf
  api_versions:
    description:
      - Agent API versions the deployed controller speaks (C(GET /) of the agent returns
        its C(api_version)). Octavia 19 speaks 1.0.
    type: list
    elements: str
    default: ["1.0"]
  details:
    description:
      - Also read C(GET /<version>/details) (load, memory, disk, listeners, haproxy processes).
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait for the TCP connection, the TLS handshake and each answer.
    type: int
    default: 10
notes:
  - The agent closes the connection after each answer, so each request is a new TLS
    connection, each verified the same way.
"""

EXAMPLES = r"""
- name: Probe one amphora from a controller (address looked up in the admin API)
  octavia.lbaas.amphora_agent_info:
    amphora_id: "{{ amphora.id }}"
    cloud: "{{ octavia_admin_cloud }}"
  delegate_to: "{{ groups['octavia_controllers'][0] }}"
  register: probe

- name: Probe an address directly, with explicit certificate files
  octavia.lbaas.amphora_agent_info:
    amphora_id: 8a1f6f39-4bb6-4a5e-8c57-2c0c5b1cbf32
    address: 172.31.1.208
    agent_client_cert: /etc/octavia/certs/client.cert-and-key.pem
    agent_server_ca: /etc/octavia/certs/server_ca-chain.cert.pem
    details: false
"""

RETURN = r"""
amphora:
  description: The amphora probed, and its record when it was looked up in the admin API.
  returned: always
  type: dict
  sample: {"id": "8a1f6f39-4bb6-4a5e-8c57-2c0c5b1cbf32", "address": "172.31.1.208", "port": 9443,
           "looked_up": true, "status": "ALLOCATED", "role": "STANDALONE",
           "loadbalancer_id": "b27c3e40-7c1d-4a8e-9a55-0f5f4e3c9a11"}
api_version:
  description: The agent's API version (C(GET /)).
  returned: success
  type: str
  sample: "1.0"
versions:
  description: Agent API version and package versions in the amphora image, as the agent reports them.
  returned: success
  type: dict
  sample: {"api": "1.0", "haproxy": "2.6.12-1+deb12u4", "keepalived": "1:2.2.7-1+b2", "ipvsadm": "1:1.31-1+b1"}
certificate:
  description: The agent's certificate (verified against O(agent_server_ca)).
  returned: success
  type: dict
  sample: {"subject": "CN=8a1f6f39-4bb6-4a5e-8c57-2c0c5b1cbf32", "common_name": "8a1f6f39-4bb6-4a5e-8c57-2c0c5b1cbf32",
           "dns_names": ["8a1f6f39-4bb6-4a5e-8c57-2c0c5b1cbf32"], "issuer": "CN=Octavia server issuing CA",
           "serial": "5A3C...", "not_before": "2026-11-22T08:29:12+00:00", "not_after": "2026-12-22T08:29:12+00:00",
           "days_left": 29}
tls:
  description: Protocol and cipher of the TLS connection.
  returned: success
  type: dict
  sample: {"version": "TLSv1.3", "cipher": "TLS_AES_256_GCM_SHA384"}
info:
  description: The agent's answer to C(GET /<version>/info).
  returned: success
  type: dict
  sample: {"hostname": "amphora-8a1f6f39", "api_version": "1.0", "haproxy_version": "2.6.12-1+deb12u4",
           "keepalived_version": "1:2.2.7-1+b2", "ipvsadm_version": "1:1.31-1+b1"}
details:
  description: The agent's answer to C(GET /<version>/details), when O(details).
  returned: success and O(details)
  type: dict
  sample: {"active": true, "haproxy_count": 0, "listeners": [], "topology": "SINGLE", "topology_status": "OK"}
"""

import configparser
import datetime
import errno
import http.client
import ipaddress
import json
import os
import re
import socket
import ssl

from ansible_collections.octavia.lbaas.plugins.module_utils.cloud import CloudModule, ModuleError
from ansible_collections.octavia.lbaas.plugins.module_utils.values import is_uuid

# OpenSSL verification codes we explain in our own words.
X509_V_ERR_CERT_NOT_YET_VALID = 9
X509_V_ERR_CERT_HAS_EXPIRED = 10
X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT = 18
X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN = 19
X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY = 20
X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE = 21
X509_V_ERR_HOSTNAME_MISMATCH = 62
WRONG_CA_CODES = (X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN,
                  X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE)
API_VERSION_RE = re.compile(r"^\d+\.\d+$")


class ProbeError(Exception):
    """A failed probe step; `extra` goes into the module result."""

    def __init__(self, msg, **extra):
        super().__init__(msg)
        self.msg = msg
        self.extra = extra


# -- pure helpers (unit-tested) ------------------------------------------------------------
def check_address(value):
    """The address as given, or a ModuleError: an IPv4/IPv6 literal or a host name."""
    try:
        ipaddress.ip_address(value)
        return value
    except ValueError:
        pass
    if re.match(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$", value or ""):
        return value
    raise ModuleError("address: %r is neither an IP address nor a host name" % (value,))


def cert_paths_from_config(text, source):
    """{client_cert, server_ca} from the [haproxy_amphora] section of an octavia.conf."""
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(text, source=source)
    except configparser.Error as exc:
        raise ModuleError("octavia_config: cannot parse %s: %s" % (source, exc)) from exc
    out = {}
    for option in ("client_cert", "server_ca"):
        if parser.has_option("haproxy_amphora", option):
            out[option] = parser.get("haproxy_amphora", option).strip()
    return out


def name_to_text(name):
    """getpeercert()'s ((('commonName', 'x'),), ...) as 'CN=x,O=y'."""
    short = {"commonName": "CN", "organizationName": "O", "organizationalUnitName": "OU",
             "countryName": "C", "localityName": "L", "stateOrProvinceName": "ST"}
    parts = []
    for rdn in name or ():
        for key, value in rdn:
            parts.append("%s=%s" % (short.get(key, key), value))
    return ",".join(parts)


def _cert_time(text):
    return datetime.datetime.fromtimestamp(ssl.cert_time_to_seconds(text), datetime.timezone.utc)


def describe_certificate(peer, now=None):
    """The fields of a verified peer certificate (ssl getpeercert() dict) we report."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    common = [value for rdn in peer.get("subject", ()) for key, value in rdn if key == "commonName"]
    not_after = _cert_time(peer["notAfter"]) if peer.get("notAfter") else None
    not_before = _cert_time(peer["notBefore"]) if peer.get("notBefore") else None
    return {
        "subject": name_to_text(peer.get("subject")),
        "common_name": common[0] if common else None,
        "dns_names": [value for kind, value in peer.get("subjectAltName", ()) if kind == "DNS"],
        "issuer": name_to_text(peer.get("issuer")),
        "serial": peer.get("serialNumber"),
        "not_before": not_before.isoformat() if not_before else None,
        "not_after": not_after.isoformat() if not_after else None,
        "days_left": (not_after - now).days if not_after else None,
    }


def check_api_version(found, supported):
    """found must be a string like 1.0 and one of supported."""
    if not isinstance(found, str) or not API_VERSION_RE.match(found):
        raise ProbeError("the agent answered GET / without a usable api_version (%r)" % (found,))
    if found not in supported:
        raise ProbeError(
            "the agent speaks API version %s; the controller speaks %s (option api_versions). "
            "An amphora image built for another Octavia release: rebuild the image and fail the "
            "amphora over" % (found, ", ".join(supported)), api_version=found)
    return found


def versions_from(info, api_version):
    """{api, haproxy, keepalived, ipvsadm, ...} from an /info answer (every *_version key)."""
    out = {"api": api_version}
    for key, value in sorted((info or {}).items()):
        if key.endswith("_version") and key != "api_version":
            out[key[:-len("_version")]] = value.strip() if isinstance(value, str) else value
    return out


def explain_tls_error(exc, where, amphora_id, server_ca, client_cert):
    """Our words for an ssl error of the handshake or the first read."""
    code = getattr(exc, "verify_code", None)
    detail = getattr(exc, "verify_message", None) or getattr(exc, "reason", None) or str(exc)
    if code == X509_V_ERR_HOSTNAME_MISMATCH:
        return ("the agent at %s presents a certificate that does not name amphora %s (a certificate "
                "of another amphora, or the wrong address)" % (where, amphora_id))
    if code in WRONG_CA_CODES:
        return ("the agent at %s presents a certificate that is not signed by the server CA chain "
                "in %s (agent_server_ca): OpenSSL says %r" % (where, server_ca, detail))
    if code == X509_V_ERR_CERT_HAS_EXPIRED:
        return "the certificate of the agent at %s has expired: fail the amphora over to renew it" % where
    if code == X509_V_ERR_CERT_NOT_YET_VALID:
        return "the certificate of the agent at %s is not valid yet (clock skew?)" % where
    if code is not None:
        return "the certificate of the agent at %s does not verify: %s" % (where, detail)
    text = str(exc).lower()
    if isinstance(exc, ssl.SSLEOFError) or "eof occurred" in text:
        # TLS 1.3: a server that rejects the client certificate may close the connection
        # without an alert the client gets to read, so the client sees only an early EOF
        return ("the agent at %s closed the TLS connection before answering: it probably refused "
                "this host's client certificate %s (agent_client_cert): its client CA does not "
                "trust it (%s)" % (where, client_cert, detail))
    if any(word in text for word in ("alert_unknown_ca", "unknown ca", "certificate_required",
                                     "alert_bad_certificate", "bad certificate",
                                     "certificate required", "handshake failure")):
        return ("the agent at %s refused this host's client certificate %s (agent_client_cert): "
                "its client CA does not trust it (%s)" % (where, client_cert, detail))
    return "TLS with the agent at %s failed: %s" % (where, detail)


def explain_socket_error(exc, where, timeout):
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return ("no answer from the agent at %s within %d s: the address is not reachable from "
                "this host (run the probe on a controller, whose o-hm0 is on the management "
                "network) or the amphora is down" % (where, timeout))
    if isinstance(exc, ConnectionRefusedError) or getattr(exc, "errno", None) == errno.ECONNREFUSED:
        return "nothing listens at %s (connection refused): the amphora-agent is not running, or this is not the amphora's address" % where
    if getattr(exc, "errno", None) in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        return ("no route to the agent at %s (%s): the management network is not reachable from "
                "this host" % (where, os.strerror(exc.errno)))
    if isinstance(exc, socket.gaierror):
        return "cannot resolve %s: %s" % (where, exc)
    return "cannot reach the agent at %s: %s" % (where, exc)


def client_context(client_cert, client_key, server_ca):
    """The mutual-TLS client context; failures name the option. Verification is always on."""
    for option, path in (("agent_client_cert", client_cert), ("agent_client_key", client_key),
                         ("agent_server_ca", server_ca)):
        if path is None:
            continue
        if not os.path.isfile(path):
            raise ModuleError("%s: %s does not exist or is not a file" % (option, path))
        if not os.access(path, os.R_OK):
            raise ModuleError("%s: %s is not readable by this user (run as root or as the "
                              "octavia user)" % (option, path))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)   # CERT_REQUIRED and check_hostname
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_verify_locations(cafile=server_ca)
    except (ssl.SSLError, ValueError) as exc:
        raise ModuleError("agent_server_ca: %s holds no usable CA certificate (%s)" % (server_ca, exc)) from exc
    if not context.get_ca_certs():
        raise ModuleError("agent_server_ca: %s holds no CA certificate (only end-entity certificates?)"
                          % server_ca)
    try:
        context.load_cert_chain(certfile=client_cert, keyfile=client_key)
    except ssl.SSLError as exc:
        reason = getattr(exc, "reason", "") or str(exc)
        # a key of another type than the certificate's (EC key, RSA certificate) lands in
        # another slot of OpenSSL's context, which then has "no certificate assigned"
        if any(code in str(exc).upper() for code in ("KEY_VALUES_MISMATCH", "NO_CERTIFICATE_ASSIGNED")):
            raise ModuleError("agent_client_cert: the key does not belong to the certificate in %s%s"
                              % (client_cert, " (agent_client_key: %s)" % client_key if client_key else "")) from exc
        if client_key is None:
            raise ModuleError("agent_client_cert: %s must hold the client certificate followed by its "
                              "unencrypted key, or give agent_client_key (%s)" % (client_cert, reason)) from exc
        raise ModuleError("agent_client_cert/agent_client_key: cannot load %s and %s (%s)"
                          % (client_cert, client_key, reason)) from exc
    except OSError as exc:
        raise ModuleError("agent_client_cert: cannot read %s (%s)" % (client_cert, exc)) from exc
    # the agent's certificate names the amphora ID; Octavia's carry it as DNS name and CN
    context.check_hostname = True
    context.hostname_checks_common_name = True
    context.verify_mode = ssl.CERT_REQUIRED
    return context


class AgentConnection(http.client.HTTPSConnection):
    """HTTPS to an address whose certificate must name `expected_name` (the amphora ID)."""

    def __init__(self, host, port, expected_name, context, timeout):
        super().__init__(host, port, context=context, timeout=timeout)
        self.expected_name = expected_name
        self.peer = None
        self.tls = None

    def connect(self):
        http.client.HTTPConnection.connect(self)   # TCP only
        self.sock = self._context.wrap_socket(self.sock, server_hostname=self.expected_name)
        self.peer = self.sock.getpeercert()
        self.tls = {"version": self.sock.version(), "cipher": (self.sock.cipher() or [None])[0]}


class AgentProbe:
    """GET requests to one agent, every one on a verified connection."""

    def __init__(self, address, port, amphora_id, context, timeout, server_ca, client_cert):
        # every argument is the attribute of the same name
        vars(self).update((key, value) for key, value in locals().items() if key != "self")
        self.where = ("[%s]:%d" if ":" in address else "%s:%d") % (address, port)
        self.peer = None
        self.tls = None
        self.requests = 0

    def get(self, path):
        conn = AgentConnection(self.address, self.port, self.amphora_id, self.context, self.timeout)
        try:
            try:
                conn.connect()
            except ssl.SSLError as exc:
                raise ProbeError(explain_tls_error(exc, self.where, self.amphora_id, self.server_ca,
                                                   self.client_cert)) from exc
            except (OSError, socket.timeout) as exc:
                raise ProbeError(explain_socket_error(exc, self.where, self.timeout)) from exc
            self.peer, self.tls = conn.peer, conn.tls
            self.requests += 1
            try:
                conn.request("GET", path, headers={"Accept": "application/json"})
                response = conn.getresponse()
                body = response.read()
            except ssl.SSLError as exc:
                # TLS 1.3: the server's verdict on our client certificate comes after the handshake
                raise ProbeError(explain_tls_error(exc, self.where, self.amphora_id, self.server_ca,
                                                   self.client_cert)) from exc
            except (OSError, socket.timeout, http.client.HTTPException) as exc:
                if isinstance(exc, (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected)):
                    raise ProbeError(
                        "the agent at %s closed the connection on GET %s: it probably refused this "
                        "host's client certificate %s (agent_client_cert): its client CA does not "
                        "trust it (%s)" % (self.where, path, self.client_cert, exc)) from exc
                raise ProbeError("GET %s from the agent at %s failed: %s" % (path, self.where, exc)) from exc
        finally:
            conn.close()
        text = body.decode("utf-8", "replace")
        if response.status != 200:
            raise ProbeError("GET %s from the agent at %s answered HTTP %d: %s"
                             % (path, self.where, response.status, text[:500]))
        try:
            return json.loads(text)
        except ValueError as exc:
            raise ProbeError("GET %s from the agent at %s answered no JSON: %r" % (path, self.where, text[:200])) from exc


class AmphoraAgentInfo(CloudModule):
    argument_spec = dict(
        amphora_id=dict(type="str", required=True, aliases=["id"]),
        address=dict(type="str"),
        port=dict(type="int", default=9443),
        agent_client_cert=dict(type="path"),
        agent_client_key=dict(type="path", no_log=False),
        agent_server_ca=dict(type="path"),
        octavia_config=dict(type="path", default="/etc/octavia/octavia.conf"),
        api_versions=dict(type="list", elements="str", default=["1.0"]),
        details=dict(type="bool", default=True),
        timeout=dict(type="int", default=10),
    )

    def validate(self):
        p = self.params
        if not is_uuid(p["amphora_id"]):
            raise ModuleError("amphora_id: %r is not an amphora ID (a UUID)" % (p["amphora_id"],))
        if p["address"] is not None:
            check_address(p["address"])
        if not 1 <= p["port"] <= 65535:
            raise ModuleError("port: %d is not a TCP port" % p["port"])
        if p["timeout"] <= 0:
            raise ModuleError("timeout: must be more than 0 seconds")
        if not p["api_versions"]:
            raise ModuleError("api_versions: give at least one version, for example 1.0")
        for version in p["api_versions"]:
            if not API_VERSION_RE.match(version or ""):
                raise ModuleError("api_versions: %r is not a version like 1.0" % (version,))
        self.client_cert, self.server_ca = self.cert_files()
        self.context = client_context(self.client_cert, p["agent_client_key"], self.server_ca)

    def cert_files(self):
        p = self.params
        client_cert, server_ca = p["agent_client_cert"], p["agent_server_ca"]
        if client_cert and server_ca:
            return client_cert, server_ca
        path = p["octavia_config"]
        missing = [o for o, v in (("agent_client_cert", client_cert), ("agent_server_ca", server_ca)) if not v]
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        except OSError as exc:
            raise ModuleError("%s not given, and octavia_config %s cannot be read (%s): give the "
                              "certificate files, or run on a controller"
                              % (" and ".join(missing), path, exc.strerror or exc)) from exc
        found = cert_paths_from_config(text, path)
        if not client_cert:
            client_cert = found.get("client_cert")
            if not client_cert:
                raise ModuleError("agent_client_cert not given, and %s has no [haproxy_amphora] client_cert" % path)
        if not server_ca:
            server_ca = found.get("server_ca")
            if not server_ca:
                raise ModuleError("agent_server_ca not given, and %s has no [haproxy_amphora] server_ca" % path)
        return client_cert, server_ca

    def lookup(self):
        """The amphora's record from the admin API (address = lb_network_ip)."""
        conn = self.conn   # fails with a clear message when openstacksdk is missing
        from openstack import exceptions as sdk_exceptions  # pylint: disable=import-outside-toplevel
        amphora_id = self.params["amphora_id"]
        try:
            amp = conn.load_balancer.get_amphora(amphora_id)
        except sdk_exceptions.NotFoundException as exc:
            raise ModuleError("amphora_id: amphora %s does not exist (Octavia admin API)" % amphora_id) from exc
        except sdk_exceptions.ForbiddenException as exc:
            raise ModuleError("reading amphora %s needs the admin role (Octavia admin API): %s"
                              % (amphora_id, exc)) from exc
        record = {"looked_up": True, "status": amp.status, "role": amp.role,
                  "loadbalancer_id": amp.loadbalancer_id, "compute_id": amp.compute_id,
                  "image_id": amp.image_id, "cert_expiration": amp.cert_expiration}
        if amp.status == "DELETED":
            raise ModuleError("amphora %s is DELETED: there is no agent to probe" % amphora_id, amphora=record)
        if not amp.lb_network_ip:
            raise ModuleError("amphora %s has no lb_network_ip yet (status %s): give address"
                              % (amphora_id, amp.status), amphora=record)
        return amp.lb_network_ip, record

    def run(self):
        p = self.params
        record = {"looked_up": False}
        address = p["address"]
        if address is None:
            address, record = self.lookup()
        amphora = dict(id=p["amphora_id"], address=address, port=p["port"], **record)
        probe = AgentProbe(address, p["port"], p["amphora_id"], self.context, p["timeout"],
                           self.server_ca, self.client_cert)
        result = {"amphora": amphora}
        try:
            root = probe.get("/")
            result["certificate"] = describe_certificate(probe.peer)
            result["tls"] = probe.tls
            api_version = check_api_version((root or {}).get("api_version") if isinstance(root, dict) else None,
                                            p["api_versions"])
            result["api_version"] = api_version
            info = probe.get("/%s/info" % api_version)
            result["info"] = info
            result["versions"] = versions_from(info, api_version)
            if p["details"]:
                result["details"] = probe.get("/%s/details" % api_version)
        except ProbeError as exc:
            result.update(exc.extra)
            raise ModuleError(exc.msg, **result) from exc
        self.exit(**result)


def main():
    AmphoraAgentInfo()()


if __name__ == "__main__":
    main()
