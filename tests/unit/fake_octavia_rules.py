"""Octavia 19's input rules for the load balancer's VIP options and the TLS options of
listeners and pools (octavia/api/v2/controllers/load_balancer.py, listener.py, pool.py,
common/validate.py), as FakeOctavia applies them: each function returns the fault text
Octavia answers with a 400, or None. The modules must refuse all of this before any
call; the fake refusing it too is what lets a test see that they did."""

from __future__ import annotations

import re

UUID_RE = re.compile(r"\A[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z", re.I)
TLS_VERSIONS = ("SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
ALPN_PROTOCOLS = ("h2", "http/1.1", "http/1.0")
CLIENT_AUTH = ("NONE", "OPTIONAL", "MANDATORY")


def _uuid(value):
    return isinstance(value, str) and bool(UUID_RE.match(value))


def loadbalancer_errors(spec, creating):
    """A POST or PUT body of a load balancer."""
    if "vip_qos_policy_id" in spec and spec["vip_qos_policy_id"] is not None and not _uuid(spec["vip_qos_policy_id"]):
        return "Invalid input for field/attribute vip_qos_policy_id. Value: '%s'. Invalid UUID" % spec["vip_qos_policy_id"]
    for sg in spec.get("vip_sg_ids") or []:
        if not _uuid(sg):
            return "Invalid input for field/attribute vip_sg_ids. Value: '%s'. Invalid UUID" % sg
    if not creating and "additional_vips" in spec:
        return "Invalid input for field/attribute loadbalancer. Unknown attribute for argument loadbalancer: additional_vips"
    seen = {spec.get("vip_subnet_id")}
    for vip in spec.get("additional_vips") or []:
        if not _uuid(vip.get("subnet_id")):
            return "Invalid input for field/attribute subnet_id. Mandatory field missing or not a UUID."
        if vip["subnet_id"] in seen:
            return "Validation failure: Duplicate VIP subnet(s) specified. Only one IP can be bound per subnet."
        seen.add(vip["subnet_id"])
    return None


def _list_of(values, allowed, what):
    if values == []:
        return "Validation failure: Empty %s list. Either specify at least one or remove this parameter." % what
    bad = [v for v in values or [] if v not in allowed]
    return "Validation failure: Invalid %s: %s" % (what, ", ".join(bad)) if bad else None


def listener_errors(listener, lb, put=None):
    """The listener as it would be after the write (`put`: the PUT body, if an update)."""
    proto = listener["protocol"]
    has_certs = bool(listener.get("default_tls_container_ref") or listener.get("sni_container_refs"))
    tls_offload = proto == "TERMINATED_HTTPS" or (proto == "PROMETHEUS" and has_certs)
    if listener.get("allowed_cidrs") and lb.get("vip_sg_ids"):
        return "Validation failure: Allowed CIDRs are not allowed when using custom VIP Security Groups."
    if proto in ("UDP", "SCTP") and (has_certs or listener.get("insert_headers")):
        return "Validation failure: %s protocol listener does not support TLS." % proto
    if not tls_offload and (has_certs or listener.get("client_ca_tls_container_ref")):
        return "Validation failure: Certificate container references are not allowed on %s protocol listeners." % proto
    if listener.get("client_ca_tls_container_ref") and not has_certs:
        return ("Validation failure: An SNI or default certificate container reference must be provided with a "
                "client CA container reference.")
    if tls_offload and not has_certs:
        return ("Validation failure: An SNI or default certificate container reference must be provided for %s "
                "protocol listeners." % proto)
    if listener.get("client_authentication", "NONE") not in CLIENT_AUTH:
        return "Invalid input for field/attribute client_authentication."
    if listener.get("client_authentication", "NONE") != "NONE" and not listener.get("client_ca_tls_container_ref"):
        return ("Validation failure: Client authentication setting %s requires a client CA container reference."
                % listener["client_authentication"])
    if listener.get("client_crl_container_ref") and not listener.get("client_ca_tls_container_ref"):
        return ("Validation failure: A client authentication CA reference is required to specify a client "
                "authentication revocation list.")
    for name, allowed, what in (("tls_versions", TLS_VERSIONS, "TLS versions"), ("alpn_protocols", ALPN_PROTOCOLS, "ALPN protocol")):
        if put is None or name in put:
            error = _list_of(listener.get(name), allowed, what)
            if error:
                return error
    hsts = put if put is not None else listener
    if (hsts.get("hsts_include_subdomains") or hsts.get("hsts_preload")) and listener.get("hsts_max_age") is None:
        return "Validation failure: HSTS configuration options need hsts_max_age."
    if isinstance(hsts.get("hsts_max_age"), int) and proto != "TERMINATED_HTTPS":
        return "Validation failure: The HSTS feature can only be used for listeners using the TERMINATED_HTTPS protocol."
    return None


def pool_errors(pool, put=None):
    """The pool as it would be after the write."""
    if pool.get("crl_container_ref") and not pool.get("ca_tls_container_ref"):
        return "Validation failure: A CA certificate reference is required to specify a revocation list."
    if pool.get("tls_enabled"):
        for name, allowed, what in (("tls_versions", TLS_VERSIONS, "TLS versions"), ("alpn_protocols", ALPN_PROTOCOLS, "ALPN protocol")):
            if put is None or name in put:
                error = _list_of(pool.get(name), allowed, what)
                if error:
                    return error
    return None
