# Copyright: octavia.lbaas contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The load-balancer engine of octavia.lbaas.

Every load-balancer module declares *what* it manages; this file does the rest:

* object specs: for each Octavia object its API resource, natural key inside its
  parent, and fields (updatable or not, the default Octavia fills in, normalization);
* validation of the whole input before any API call, with messages naming the field;
* reading the current state with few GETs, diffing it against the wanted state and
  refusing changes Octavia cannot make;
* planning the fewest writes in dependency order (one fully-populated POST for a new
  load balancer, one batch PUT per member set);
* executing them: wait for the load balancer after every write, retry 409/503 with
  jittered backoff, all within the task's single ``timeout``; count every API call.

Nothing in the pure parts (specs, validation, diff, planning) touches the network, so
they are unit tested without a cloud.
"""

from __future__ import annotations

import concurrent.futures
import copy
import ipaddress
import random
import re
import threading
import time

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.octavia.lbaas.plugins.module_utils.cloud import (
    CloudModule,
    Deadline,
    ModuleError,
    poll_intervals,
)

# ---------------------------------------------------------------------------------------
# Octavia's vocabulary (octavia-lib constants, API v2)
# ---------------------------------------------------------------------------------------

LISTENER_PROTOCOLS = ("HTTP", "HTTPS", "TCP", "UDP", "SCTP", "TERMINATED_HTTPS", "PROMETHEUS")
POOL_PROTOCOLS = ("HTTP", "HTTPS", "TCP", "UDP", "SCTP", "PROXY", "PROXYV2")
LB_ALGORITHMS = ("ROUND_ROBIN", "LEAST_CONNECTIONS", "SOURCE_IP", "SOURCE_IP_PORT")
HM_TYPES = ("HTTP", "HTTPS", "PING", "TCP", "TLS-HELLO", "UDP-CONNECT", "SCTP")
HM_HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "TRACE", "OPTIONS", "CONNECT", "PATCH")
HM_HTTP_VERSIONS = (1.0, 1.1)
L7_ACTIONS = ("REJECT", "REDIRECT_TO_URL", "REDIRECT_TO_POOL", "REDIRECT_PREFIX")
L7_RULE_TYPES = ("HOST_NAME", "PATH", "FILE_TYPE", "HEADER", "COOKIE",
                 "SSL_CONN_HAS_CERT", "SSL_VERIFY_RESULT", "SSL_DN_FIELD")
L7_COMPARE_TYPES = ("REGEX", "STARTS_WITH", "ENDS_WITH", "CONTAINS", "EQUAL_TO")
REDIRECT_HTTP_CODES = (301, 302, 303, 307, 308)
SESSION_PERSISTENCE_TYPES = ("SOURCE_IP", "HTTP_COOKIE", "APP_COOKIE")
CLIENT_AUTH_MODES = ("NONE", "OPTIONAL", "MANDATORY")
TLS_VERSIONS = ("SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
ALPN_PROTOCOLS = ("h2", "http/1.1", "http/1.0")
HTTP_INSERT_HEADERS = ("X-Forwarded-For", "X-Forwarded-Port", "X-Forwarded-Proto",
                       "X-Forwarded-IP", "X-Client-IP", "X-Real-IP")
SSL_INSERT_HEADERS = ("X-SSL-Client-Verify", "X-SSL-Client-Has-Cert", "X-SSL-Client-DN",
                      "X-SSL-Client-CN", "X-SSL-Issuer", "X-SSL-Client-SHA1",
                      "X-SSL-Client-Not-Before", "X-SSL-Client-Not-After")

# Which pool protocols a listener protocol can send to (octavia VALID_LISTENER_POOL_PROTOCOL_MAP).
POOLS_FOR_LISTENER = {
    "TCP": ("HTTP", "HTTPS", "PROXY", "PROXYV2", "TCP"),
    "HTTP": ("HTTP", "PROXY", "PROXYV2"),
    "HTTPS": ("HTTPS", "PROXY", "PROXYV2", "TCP"),
    "TERMINATED_HTTPS": ("HTTP", "PROXY", "PROXYV2"),
    "UDP": ("UDP",),
    "SCTP": ("SCTP",),
    "PROMETHEUS": (),
}
# Health monitor types a pool accepts (octavia api/v2/controllers/health_monitor.py).
HM_TYPES_FOR_LVS_POOL = ("UDP-CONNECT", "SCTP", "TCP", "HTTP")
HM_TYPES_FOR_HAPROXY_POOL = ("HTTP", "HTTPS", "PING", "TCP", "TLS-HELLO")
LVS_PROTOCOLS = ("UDP", "SCTP")
# Two listeners of one load balancer conflict when they share a port and an L4 protocol.
L4_PROTOCOL = {"UDP": "UDP", "SCTP": "SCTP"}  # everything else is TCP

MAX_TIMEOUT_MS = 24 * 24 * 60 * 60 * 1000
MAX_POLICY_POSITION = 2147483647
MAX_RULES_PER_POLICY = 50
PENDING_PREFIX = "PENDING_"

UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")
HEADER_NAME_RE = re.compile(r"\A[a-zA-Z0-9!#$%&'*+\-.^_`|~]+\Z")
EXPECTED_CODES_RE = re.compile(r"^(\d{3}(\s*,\s*\d{3})*)$|^(\d{3}-\d{3})$")
DN_FIELD_RE = re.compile(r"^([a-zA-Z][A-Za-z0-9-]*)$")
LISTENER_REF_RE = re.compile(r"^([A-Za-z_]+):(\d+)$")
# Octavia 19's own input rules (octavia/common/constants.py and validate.py): the value of
# a HEADER, HOST_NAME, PATH or FILE_TYPE rule (no spaces unless the value is quoted), a
# COOKIE rule's value, a session cookie name, a cipher string and a health check's domain.
HEADER_VALUE_RE = re.compile(r"\A[a-zA-Z0-9!\"#$%&'()*+,\-./:;<=>?@\[\]^_`{|}~\\]+\Z")
QUOTED_HEADER_VALUE_RE = re.compile(r"\A\"[a-zA-Z0-9 \t!\"#$%&'()*+,\-./:;<=>?@\[\]^_`{|}~\\]*\"\Z")
COOKIE_VALUE_RE = re.compile(r"\A[a-zA-Z0-9!#$%&'()*+,\-./:<=>?@\[\]^_`{|}~]+\Z")
BAD_COOKIE_NAME_RE = re.compile(r"[\x00-\x20\x22\x28-\x29\x2c\x2f\x3a-\x40\x5b-\x5d\x7b\x7d\x7f]|\s")
CIPHERS_RE = re.compile(r"\A[A-Za-z0-9\-+!:@=_.]+\Z")
DOMAIN_NAME_RE = re.compile(r"^(?=.{1,253}\.?$)(?:(?!-|[^.]+_)[A-Za-z0-9-_]{1,63}(?<!-)(?:\.|$))+$")
URL_BAD_CHARS_RE = re.compile(r"[\x00-\x20\x7f-\x9f]")
# Octavia's string limits: names, descriptions, tags, key manager URIs and rule keys and
# values are at most 255 characters; cipher strings 2048.
MAX_STRING = 255
MAX_CIPHERS = 2048
# The amphora provider (also called octavia) balances with these algorithms only.
AMPHORA_PROVIDERS = ("amphora", "octavia", "amphorav2")
AMPHORA_LB_ALGORITHMS = ("ROUND_ROBIN", "LEAST_CONNECTIONS", "SOURCE_IP")
# L7 policies work on these listener protocols only (the amphora driver refuses others).
L7_LISTENER_PROTOCOLS = ("HTTP", "TERMINATED_HTTPS")


def is_uuid(value):
    return isinstance(value, str) and bool(UUID_RE.match(value))


def l4_protocol(protocol):
    return L4_PROTOCOL.get(protocol, "TCP")


class Invalid(Exception):
    """One bad input value; the validator collects them and reports all at once."""


def join_path(path, name):
    if not path:
        return name
    if name.startswith("["):
        return path + name
    return "%s.%s" % (path, name)


# ---------------------------------------------------------------------------------------
# Fields and object specs
# ---------------------------------------------------------------------------------------

class Field:
    """One option of an Octavia object.

    name       option name in tasks; ``api`` is the API field when it differs
    type       str, int, bool, float, list, dict
    updatable  False: Octavia cannot change it after create (we refuse a diff on it)
    default    what Octavia fills in when the field is not given (value or callable(obj)),
               so an unspecified option never shows as a diff and a new object's
               predicted state is right
    ref        'pool': the value is a pool of the same load balancer, by name or id
    check      extra value check: port, ip, cidr, url, url_path, expected_codes, uuid
    subset     dicts compare on the keys the task gives (session_persistence)
    ordered    lists compare in order (alpn_protocols); other lists compare as sets
    max_length longest string (or list element, or dict value) Octavia accepts
    nonempty   an empty string (an identifying name) or an empty list is refused
    """

    def __init__(self, name, type="str", api=None, doc="", updatable=True, required=False,
                 create_required=False, default=None, choices=None, elements=None, ordered=False,
                 minimum=None, maximum=None, check=None, ref=None, aliases=None, subset=False,
                 suboptions=None, no_log=None, max_length=MAX_STRING, nonempty=False):
        self.name = name
        self.type = type
        self.api = api or name
        self.doc = doc
        self.updatable = updatable
        self.required = required
        self.create_required = create_required or required
        self.default = default
        self.choices = choices
        self.elements = elements
        self.ordered = ordered
        self.minimum = minimum
        self.maximum = maximum
        self.check = check
        self.ref = ref
        self.aliases = list(aliases or [])
        self.subset = subset
        self.suboptions = suboptions
        self.no_log = no_log
        self.max_length = max_length
        self.nonempty = nonempty

    # -- input ------------------------------------------------------------------------
    def coerce(self, value, path):
        """The task's value, converted and normalized; raises Invalid naming the field."""
        if value is None:
            return None
        if self.type == "list":
            if isinstance(value, str):
                value = [v.strip() for v in value.split(",") if v.strip()]
            if not isinstance(value, (list, tuple)):
                raise Invalid("%s: must be a list, got %r" % (path, value))
            if not value and self.nonempty:
                raise Invalid("%s: must not be an empty list (leave the option out to get Octavia's default)" % path)
            items = [self._scalar(item, self.elements or "str", "%s[%d]" % (path, i))
                     for i, item in enumerate(value)]
            if not self.ordered:
                items = sorted(set(items), key=str)
            return items
        if self.type == "dict":
            if not isinstance(value, dict):
                raise Invalid("%s: must be a dict, got %r" % (path, value))
            if self.suboptions:
                known = {f.name: f for f in self.suboptions}
                out = {}
                for key in value:
                    if key not in known:
                        raise Invalid("%s: unknown key %r (known: %s)" % (path, key, ", ".join(sorted(known))))
                for sub in self.suboptions:
                    out[sub.name] = sub.coerce(value.get(sub.name), join_path(path, sub.name))
                return out
            out = {str(k): self._header_value(v) for k, v in value.items()}
            for key, item in out.items():
                self._length(item, "%s.%s" % (path, key))
            return out
        return self._scalar(value, self.type, path)

    @staticmethod
    def _header_value(value):
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    def _scalar(self, value, kind, path):
        if kind == "int":
            if isinstance(value, bool):
                raise Invalid("%s: must be an integer, got %r" % (path, value))
            try:
                value = int(str(value).strip()) if not isinstance(value, int) else value
            except ValueError:
                raise Invalid("%s: must be an integer, got %r" % (path, value)) from None
        elif kind == "float":
            try:
                value = float(value)
            except (TypeError, ValueError):
                raise Invalid("%s: must be a number, got %r" % (path, value)) from None
        elif kind == "bool":
            try:
                value = boolean(value, strict=True)
            except TypeError:
                raise Invalid("%s: must be a boolean, got %r" % (path, value)) from None
        elif kind == "str":
            if isinstance(value, (dict, list, tuple)):
                raise Invalid("%s: must be a string, got %r" % (path, value))
            value = str(value)
            if self.nonempty and self.type == "str" and not value.strip():
                raise Invalid("%s: must not be empty (it identifies the object)" % path)
            self._length(value, path)
        if self.choices is not None:
            value = self._choice(value, path)
        if self.minimum is not None and value < self.minimum or self.maximum is not None and value > self.maximum:
            if self.maximum is None:
                raise Invalid("%s: %s is below the minimum %s" % (path, value, self.minimum))
            raise Invalid("%s: %s is out of range %s..%s" % (path, value, self.minimum, self.maximum))
        if self.check:
            value = CHECKS[self.check](value, path)
        return value

    def _length(self, value, path):
        if self.max_length is not None and len(value) > self.max_length:
            raise Invalid("%s: is %d characters long; Octavia takes at most %d" % (path, len(value), self.max_length))

    def _choice(self, value, path):
        for choice in self.choices:
            if value == choice or isinstance(value, str) and isinstance(choice, str) and value.lower() == choice.lower():
                return choice
        raise Invalid("%s: %r is not one of %s" % (path, value, ", ".join(str(c) for c in self.choices)))

    # -- current state ----------------------------------------------------------------
    def default_for(self, obj):
        if callable(self.default):
            return self.default(obj)
        return copy.deepcopy(self.default)

    def same(self, want, have):
        """Does the current value `have` already satisfy the wanted value `want`?"""
        if want is None:
            return True
        if self.type == "str" and not want and not have:
            return True  # Octavia returns null or "" for an empty string
        if self.type == "list":
            have = have or []
            if self.ordered:
                return list(want) == list(have)
            return sorted(set(map(str, want))) == sorted(set(map(str, have)))
        if self.type == "dict":
            have = have or {}
            if self.subset:
                return all(v is None or have.get(k) == v for k, v in want.items())
            return want == have
        return want == have

    # -- ansible argument spec ----------------------------------------------------------
    def argspec(self, nested=False):
        spec = {"type": self.type}
        if self.type == "list":
            spec["elements"] = self.elements or "str"
        if self.choices is not None:
            spec["choices"] = list(self.choices)
        if self.required and nested:
            spec["required"] = True
        if self.aliases:
            spec["aliases"] = list(self.aliases)
        if self.no_log is not None:
            spec["no_log"] = self.no_log
        if self.suboptions:
            spec["options"] = {f.name: f.argspec(nested=True) for f in self.suboptions}
        return spec


def _check_port(value, path):
    if not 1 <= value <= 65535:
        raise Invalid("%s: %s is not a port (1..65535)" % (path, value))
    return value


def _check_ip(value, path):
    try:
        return ipaddress.ip_address(str(value).strip()).compressed
    except ValueError:
        raise Invalid("%s: %r is not an IP address" % (path, value)) from None


def _check_cidr(value, path):
    try:
        ipaddress.ip_network(str(value).strip(), strict=False)
    except ValueError:
        raise Invalid("%s: %r is not a CIDR" % (path, value)) from None
    return str(value).strip()


def _check_url(value, path):
    if not re.match(r"^https?://[^\s/?#]+[^\s]*$", value) or URL_BAD_CHARS_RE.search(value):
        raise Invalid("%s: %r is not an http(s) URL (no spaces or control characters)" % (path, value))
    return value


def _check_url_path(value, path):
    if not value.startswith("/") or re.search(r"\s", value):
        raise Invalid("%s: %r is not a URL path (it must start with / and have no spaces)" % (path, value))
    return value


def _check_expected_codes(value, path):
    if not EXPECTED_CODES_RE.match(value):
        raise Invalid("%s: %r is not a status code, list (200,202) or range (200-204)" % (path, value))
    return value


def _check_uuid(value, path):
    if not is_uuid(value):
        raise Invalid("%s: %r is not an ID (UUID)" % (path, value))
    return value


def _check_ciphers(value, path):
    if not CIPHERS_RE.match(value):
        raise Invalid("%s: %r is not an OpenSSL cipher string: Octavia takes letters, digits and - + ! : @ = _ . "
                      "only (no spaces; separate ciphers with ':')" % (path, value))
    return value


def _check_domain_name(value, path):
    if not DOMAIN_NAME_RE.match(value):
        raise Invalid("%s: %r is not a domain name" % (path, value))
    return value


def _check_cookie_name(value, path):
    if BAD_COOKIE_NAME_RE.search(value):
        raise Invalid("%s: %r is not a cookie name (no spaces, quotes, separators such as , ; / = or brackets)"
                      % (path, value))
    return value


def _check_netmask(value, path):
    try:
        return ipaddress.ip_address(str(value).strip()).compressed
    except ValueError:
        raise Invalid("%s: %r is not a netmask written as an address (for example 255.255.255.0)" % (path, value)) from None


CHECKS = {
    "port": _check_port,
    "ip": _check_ip,
    "cidr": _check_cidr,
    "url": _check_url,
    "url_path": _check_url_path,
    "expected_codes": _check_expected_codes,
    "uuid": _check_uuid,
    "ciphers": _check_ciphers,
    "domain_name": _check_domain_name,
    "cookie_name": _check_cookie_name,
    "netmask": _check_netmask,
}


class Child:
    """A nested relation of a spec: listener.l7policies, pool.members, pool.healthmonitor."""

    def __init__(self, name, kind, many=True, doc=""):
        self.name = name
        self.kind = kind
        self.many = many
        self.doc = doc


class Spec:
    """Declarative description of one Octavia object type."""

    def __init__(self, kind, title, resource, plural, path, fields, children=(), parent_field=None, key_doc=""):
        self.kind = kind
        self.label = title
        self.resource = resource      # body/response key: {"listener": {...}}
        self.plural = plural          # list response key: {"listeners": [...]}
        self.path = path              # collection path; may contain %s for the parent id
        self.fields = {f.name: f for f in fields}
        self.children = {c.name: c for c in children}
        self.parent_field = parent_field
        self.key_doc = key_doc

    def argspec(self, nested=False, skip=()):
        return {name: f.argspec(nested) for name, f in self.fields.items() if name not in skip}

    def view(self, api_obj, pool_names=None):
        """The current object in option space: option names, references as pool names,
        Octavia's defaults where it returned nothing."""
        out = {}
        for f in self.fields.values():
            value = api_obj.get(f.api)
            if f.ref == "pool" and value:
                value = (pool_names or {}).get(value, value)
            elif value is not None and f.check == "ip":
                value = _check_ip(value, f.name) if _is_ip(value) else value
            if f.type == "dict" and f.suboptions and isinstance(value, dict):
                value = {sub.name: value.get(sub.api) for sub in f.suboptions}
            out[f.name] = value
        for f in self.fields.values():
            if out[f.name] is None and f.default is not None:
                out[f.name] = f.default_for(out)
        return out

    def predict(self, want):
        """What Octavia will report for a new object made from `want`."""
        out = {}
        for f in self.fields.values():
            out[f.name] = copy.deepcopy(want.get(f.name))
        for f in self.fields.values():
            if out[f.name] is None and f.default is not None:
                out[f.name] = f.default_for(out)
        return out

    def body(self, want, refs=None, only=None):
        """API body (create, or update of the fields in `only`) from wanted options."""
        out = {}
        for f in self.fields.values():
            if only is not None and f.name not in only:
                continue
            value = want.get(f.name)
            if value is None and only is None:
                continue
            if f.ref == "pool" and value is not None:
                value = refs(value) if refs else value
            elif f.type == "dict" and f.suboptions and value is not None:
                value = {sub.api: value[sub.name] for sub in f.suboptions if value.get(sub.name) is not None}
            out[f.api] = value
        return out


def _is_ip(value):
    try:
        ipaddress.ip_address(str(value))
        return True
    except ValueError:
        return False


def _hm_http_default(value):
    def default(obj):
        return value if obj.get("type") in ("HTTP", "HTTPS") else None
    return default


def _redirect_code_default(obj):
    return 302 if obj.get("action") in ("REDIRECT_TO_URL", "REDIRECT_PREFIX") else None


def _common(kind):
    return [
        Field("admin_state_up", "bool", default=True,
              doc="The administrative state of the %s; C(false) takes it out of service." % kind),
        Field("tags", "list", elements="str", default=[],
              doc="Tags of the %s. The list is the complete set (order does not matter)." % kind),
    ]


LOADBALANCER = Spec(
    "loadbalancer", "load balancer", "loadbalancer", "loadbalancers", "/lbaas/loadbalancers",
    [
        Field("name", required=True, updatable=False, nonempty=True,
              doc="Name of the load balancer; a load balancer is found by name (or ID) in the project."),
        Field("description", default="", doc="Description of the load balancer."),
        Field("vip_subnet", api="vip_subnet_id", updatable=False,
              doc="Subnet (name or ID) to allocate the VIP on."),
        Field("vip_network", api="vip_network_id", updatable=False,
              doc="Network (name or ID) to allocate the VIP on, when no subnet is given."),
        Field("vip_port", api="vip_port_id", updatable=False,
              doc="An existing Neutron port (name or ID) to use as the VIP."),
        Field("vip_address", check="ip", updatable=False, doc="Fixed VIP address on the VIP subnet (or network)."),
        Field("flavor", api="flavor_id", updatable=False, doc="Octavia flavor (name or ID)."),
        Field("availability_zone", updatable=False, doc="Octavia availability zone (name)."),
        Field("provider", updatable=False,
              doc="Provider driver, for example C(amphora) or C(ovn). Octavia picks its default when not given."),
    ] + _common("load balancer"),
    key_doc="name (or ID) in the project",
)

LISTENER = Spec(
    "listener", "listener", "listener", "listeners", "/lbaas/listeners",
    [
        Field("protocol", choices=LISTENER_PROTOCOLS, required=True, updatable=False,
              doc="Protocol the listener accepts."),
        Field("protocol_port", "int", check="port", required=True, updatable=False,
              doc="Port the listener listens on. With the L4 protocol, it identifies the listener in its load balancer."),
        Field("name", default="", doc="Name of the listener."),
        Field("description", default="", doc="Description of the listener."),
        Field("default_pool", api="default_pool_id", ref="pool",
              doc="Pool (name or ID, in the same load balancer) that receives requests no L7 policy redirects."),
        Field("connection_limit", "int", minimum=-1, default=-1,
              doc="Maximum number of connections; C(-1) means unlimited."),
        Field("default_tls_container_ref", doc="Key manager URI of the certificate of a C(TERMINATED_HTTPS) listener."),
        Field("sni_container_refs", "list", elements="str", default=[],
              doc="Key manager URIs of additional (SNI) certificates."),
        Field("client_authentication", choices=CLIENT_AUTH_MODES, default="NONE",
              doc="TLS client authentication mode."),
        Field("client_ca_tls_container_ref", doc="Key manager URI of the CA that signs client certificates."),
        Field("client_crl_container_ref", doc="Key manager URI of the revocation list of client certificates."),
        Field("insert_headers", "dict", default={},
              doc="Headers to insert into requests to members, for example C({X-Forwarded-For: true}). "
                  "Values are sent as strings."),
        Field("timeout_client_data", "int", minimum=0, maximum=MAX_TIMEOUT_MS, default=50000,
              doc="Frontend client inactivity timeout, in milliseconds."),
        Field("timeout_member_connect", "int", minimum=0, maximum=MAX_TIMEOUT_MS, default=5000,
              doc="Backend member connection timeout, in milliseconds."),
        Field("timeout_member_data", "int", minimum=0, maximum=MAX_TIMEOUT_MS, default=50000,
              doc="Backend member inactivity timeout, in milliseconds."),
        Field("timeout_tcp_inspect", "int", minimum=0, maximum=MAX_TIMEOUT_MS, default=0,
              doc="Time to wait for more TCP packets for content inspection, in milliseconds."),
        Field("allowed_cidrs", "list", elements="str", check="cidr", default=[],
              doc="Source CIDRs allowed to connect; empty means everyone."),
        Field("tls_ciphers", check="ciphers", max_length=MAX_CIPHERS,
              doc="OpenSSL cipher string of a C(TERMINATED_HTTPS) listener."),
        Field("tls_versions", "list", elements="str", choices=TLS_VERSIONS, nonempty=True,
              doc="TLS protocol versions of a C(TERMINATED_HTTPS) listener."),
        Field("alpn_protocols", "list", elements="str", choices=ALPN_PROTOCOLS, ordered=True, nonempty=True,
              doc="ALPN protocols to offer, in order of preference."),
        Field("hsts_max_age", "int", minimum=0, doc="Enables HTTP Strict Transport Security with this max-age."),
        Field("hsts_include_subdomains", "bool", default=False, doc="Adds C(includeSubDomains) to the HSTS header."),
        Field("hsts_preload", "bool", default=False, doc="Adds C(preload) to the HSTS header."),
    ] + _common("listener"),
    children=[Child("l7policies", "l7policy", doc="L7 policies of the listener, in evaluation order.")],
    parent_field="loadbalancer_id",
    key_doc="protocol_port and L4 protocol (TCP, UDP or SCTP) in its load balancer",
)

SESSION_PERSISTENCE = [
    Field("type", choices=SESSION_PERSISTENCE_TYPES, doc="Persistence type; omit it to remove session persistence."),
    Field("cookie_name", check="cookie_name", doc="Cookie name, for C(APP_COOKIE)."),
    Field("persistence_timeout", "int", minimum=0, doc="Timeout in seconds, for UDP and SCTP pools."),
    Field("persistence_granularity", check="netmask", doc="Netmask of the source address, for UDP and SCTP pools."),
]

POOL = Spec(
    "pool", "pool", "pool", "pools", "/lbaas/pools",
    [
        Field("name", required=True, updatable=False, nonempty=True,
              doc="Name of the pool; it identifies the pool in its load balancer."),
        Field("description", default="", doc="Description of the pool."),
        Field("protocol", choices=POOL_PROTOCOLS, required=True, updatable=False,
              doc="Protocol used to talk to the members."),
        Field("lb_algorithm", choices=LB_ALGORITHMS, create_required=True,
              doc="Load balancing algorithm. Required to create a pool."),
        Field("session_persistence", "dict", suboptions=SESSION_PERSISTENCE, subset=True,
              doc="Session persistence. Give C({}) (no type) to remove it."),
        Field("tls_enabled", "bool", default=False, doc="Use TLS towards the members."),
        Field("tls_container_ref", doc="Key manager URI of the client certificate presented to members."),
        Field("ca_tls_container_ref", doc="Key manager URI of the CA that signs the members' certificates."),
        Field("crl_container_ref", doc="Key manager URI of the revocation list for the members' certificates."),
        Field("tls_ciphers", check="ciphers", max_length=MAX_CIPHERS, doc="OpenSSL cipher string towards the members."),
        Field("tls_versions", "list", elements="str", choices=TLS_VERSIONS, nonempty=True,
              doc="TLS versions towards the members."),
        Field("alpn_protocols", "list", elements="str", choices=ALPN_PROTOCOLS, ordered=True, nonempty=True,
              doc="ALPN protocols towards the members, in order of preference."),
    ] + _common("pool"),
    children=[Child("members", "member", doc="Members of the pool, matched on address and protocol_port."),
              Child("healthmonitor", "health_monitor", many=False, doc="The health monitor of the pool.")],
    parent_field="loadbalancer_id",
    key_doc="name in its load balancer",
)

MEMBER = Spec(
    "member", "member", "member", "members", "/lbaas/pools/%s/members",
    [
        Field("address", check="ip", required=True, updatable=False,
              doc="IP address of the member. With C(protocol_port) it identifies the member in its pool."),
        Field("protocol_port", "int", check="port", required=True, updatable=False,
              doc="Port of the member."),
        Field("name", default="", doc="Name of the member."),
        Field("weight", "int", minimum=0, maximum=256, default=1,
              doc="Relative share of the traffic (0 drains the member)."),
        Field("backup", "bool", default=False, doc="A backup member only gets traffic when all others are down."),
        Field("monitor_address", check="ip", doc="Address the health monitor probes instead of the member's C(address)."),
        Field("monitor_port", "int", check="port", doc="Port the health monitor probes instead of the member's C(protocol_port)."),
        Field("subnet_id", check="uuid", updatable=False, doc="ID of the subnet the member is reached on."),
    ] + _common("member"),
    key_doc="address and protocol_port in its pool",
)

HEALTH_MONITOR = Spec(
    "health_monitor", "health monitor", "healthmonitor", "healthmonitors", "/lbaas/healthmonitors",
    [
        Field("type", choices=HM_TYPES, create_required=True, updatable=False,
              doc="Type of probe. UDP and SCTP pools take UDP-CONNECT, SCTP, TCP or HTTP; other pools take HTTP, "
                  "HTTPS, PING, TCP or TLS-HELLO."),
        Field("delay", "int", minimum=0, create_required=True, doc="Seconds between probes."),
        Field("probe_timeout", "int", api="timeout", minimum=0, create_required=True,
              doc="Seconds a probe waits for an answer (Octavia's C(timeout)); not more than C(delay)."),
        Field("max_retries", "int", minimum=1, maximum=10, create_required=True,
              doc="Successful probes before a member is ONLINE."),
        Field("max_retries_down", "int", minimum=1, maximum=10, default=3,
              doc="Failed probes before a member is ERROR."),
        Field("http_method", choices=HM_HTTP_METHODS, default=_hm_http_default("GET"),
              doc="HTTP method of HTTP and HTTPS probes."),
        Field("url_path", check="url_path", default=_hm_http_default("/"),
              doc="Path requested by HTTP and HTTPS probes."),
        Field("expected_codes", check="expected_codes", default=_hm_http_default("200"),
              doc="Status codes that mean healthy: C(200), C(200,202) or C(200-204)."),
        Field("http_version", "float", choices=HM_HTTP_VERSIONS, doc="HTTP version of the probes."),
        Field("domain_name", check="domain_name", doc="Host header of HTTP 1.1 probes."),
        Field("name", default="", doc="Name of the health monitor."),
    ] + _common("health monitor"),
    parent_field="pool_id",
    key_doc="the only one of its pool",
)

L7POLICY = Spec(
    "l7policy", "L7 policy", "l7policy", "l7policies", "/lbaas/l7policies",
    [
        Field("name", default="", doc="Name of the policy; it identifies the policy in its listener."),
        Field("description", default="", doc="Description of the policy."),
        Field("action", choices=L7_ACTIONS, create_required=True, doc="What to do with a matching request."),
        Field("position", "int", minimum=1, maximum=MAX_POLICY_POSITION,
              doc="Position of the policy in the listener (1 is evaluated first)."),
        Field("redirect_pool", api="redirect_pool_id", ref="pool",
              doc="Pool (name or ID, in the same load balancer) for C(REDIRECT_TO_POOL)."),
        Field("redirect_url", check="url", doc="URL for C(REDIRECT_TO_URL)."),
        Field("redirect_prefix", check="url", doc="URL prefix for C(REDIRECT_PREFIX)."),
        Field("redirect_http_code", "int", choices=REDIRECT_HTTP_CODES, default=_redirect_code_default,
              doc="HTTP status of redirects (Octavia uses 302)."),
    ] + _common("policy"),
    children=[Child("rules", "l7rule", doc="Rules of the policy; a request matches when all rules match.")],
    parent_field="listener_id",
    key_doc="name (or position, for a policy without a name) in its listener",
)

L7RULE = Spec(
    "l7rule", "L7 rule", "rule", "rules", "/lbaas/l7policies/%s/rules",
    [
        Field("type", choices=L7_RULE_TYPES, required=True, doc="What the rule looks at."),
        Field("compare_type", choices=L7_COMPARE_TYPES, required=True, doc="How the rule compares."),
        Field("rule_key", api="key", no_log=False,
              doc="Header name, cookie name or DN field the rule looks at (Octavia's C(key))."),
        Field("value", required=True, doc="Value to compare with."),
        Field("invert", "bool", default=False, doc="Negate the rule."),
    ] + _common("rule"),
    key_doc="type, compare_type, rule_key and value in its policy",
)

SPECS = {s.kind: s for s in (LOADBALANCER, LISTENER, POOL, MEMBER, HEALTH_MONITOR, L7POLICY, L7RULE)}


# ---------------------------------------------------------------------------------------
# Argument specs built from the specs (a module's options are the object's fields)
# ---------------------------------------------------------------------------------------

def object_options(kind, skip=(), required=(), nested=False):
    """The argument spec of an object's fields; `required` forces required=True."""
    spec = SPECS[kind].argspec(nested=nested, skip=skip)
    for name in required:
        spec[name]["required"] = True
    return spec


def members_option(required=False):
    opt = {"type": "list", "elements": "dict", "options": object_options("member", nested=True)}
    if required:
        opt["required"] = True
    return opt


def healthmonitor_option():
    return {"type": "dict", "options": object_options("health_monitor", nested=True)}


def rules_option():
    return {"type": "list", "elements": "dict", "options": object_options("l7rule", nested=True)}


def l7policies_option(inline_pools=False):
    options = object_options("l7policy", nested=True)
    if inline_pools:
        options["redirect_pool"] = {"type": "raw"}
    options["rules"] = rules_option()
    return {"type": "list", "elements": "dict", "options": options}


def pool_tree_options():
    options = object_options("pool", nested=True)
    options["members"] = members_option()
    options["healthmonitor"] = healthmonitor_option()
    options["additive_only"] = {"type": "bool", "default": False}
    return options


def tree_options():
    """`listeners` and `pools` of the loadbalancer module (the whole declarative tree)."""
    listener = object_options("listener", nested=True)
    listener["default_pool"] = {"type": "raw"}
    listener["l7policies"] = l7policies_option(inline_pools=True)
    return {
        "listeners": {"type": "list", "elements": "dict", "options": listener},
        "pools": {"type": "list", "elements": "dict", "options": pool_tree_options()},
    }


STATE_OPTION = {"type": "str", "default": "present", "choices": ["present", "absent"]}


# ---------------------------------------------------------------------------------------
# Natural keys and labels
# ---------------------------------------------------------------------------------------

def listener_key(obj):
    return (l4_protocol(obj.get("protocol") or "TCP"), int(obj["protocol_port"]))


def member_key(obj):
    return (obj["address"], int(obj["protocol_port"]))


def rule_key(obj):
    return (obj.get("type"), obj.get("compare_type"), obj.get("rule_key") or "", obj.get("value"))


def label(kind, obj, parent=None):
    """A human name for an object, used in plans, errors and diffs."""
    if kind == "loadbalancer":
        text = "load balancer %s" % (obj.get("name") or obj.get("id"))
    elif kind == "listener":
        text = "listener %s:%s" % (obj.get("protocol"), obj.get("protocol_port"))
    elif kind == "pool":
        text = "pool %s" % (obj.get("name") or obj.get("id"))
    elif kind == "member":
        text = "member %s:%s" % (obj.get("address"), obj.get("protocol_port"))
    elif kind == "health_monitor":
        text = "health monitor"
    elif kind == "l7policy":
        text = "L7 policy %s" % (obj.get("name") or "#%s" % obj.get("position"))
    else:
        text = "L7 rule %s %s %s%s" % (obj.get("type"), obj.get("compare_type"),
                                       obj.get("rule_key") + " " if obj.get("rule_key") else "", obj.get("value"))
    return "%s of %s" % (text, parent) if parent else text


# ---------------------------------------------------------------------------------------
# Input: coercion and validation (no API calls)
# ---------------------------------------------------------------------------------------

class Validator:
    """Collects every problem of the input; raises one ModuleError listing them all."""

    def __init__(self):
        self.errors = []
        self.bad = set()          # paths whose value was rejected (no "is required" on top)

    def error(self, path, message):
        self.errors.append("%s: %s" % (path, message) if path else message)

    @staticmethod
    def at(path):
        """A function naming fields of the object at `path`."""
        def field(name):
            return join_path(path, name)
        return field

    def wrap(self, func, value, path):
        try:
            return func(value, path)
        except Invalid as exc:
            self.errors.append(str(exc))
            self.bad.add(path)
            return None

    def raise_if_any(self):
        if self.errors:
            count = len(self.errors)
            raise ModuleError("Invalid input (%d problem%s): %s" % (count, "" if count == 1 else "s", "; ".join(self.errors)),
                              errors=list(self.errors))

    # -- coercion -------------------------------------------------------------------
    def coerce(self, kind, data, path, extra=()):
        """A task dict for one object → normalized option dict (children coerced too)."""
        spec = SPECS[kind]
        if not isinstance(data, dict):
            self.error(path, "must be a dict describing a %s, got %r" % (spec.label, data))
            return None
        known = set(spec.fields) | set(spec.children) | {f.name for f in extra}
        aliases = {a: f.name for f in spec.fields.values() for a in f.aliases}
        for key in data:
            if key not in known and key not in aliases:
                self.error(join_path(path, key), "unknown option for a %s (known: %s)" % (spec.label, ", ".join(sorted(known))))
        out = {}
        for f in spec.fields.values():
            raw = data.get(f.name)
            if raw is None:
                for alias in f.aliases:
                    if data.get(alias) is not None:
                        raw = data[alias]
            out[f.name] = self.wrap(f.coerce, raw, join_path(path, f.name))
        for f in extra:
            out[f.name] = self.wrap(f.coerce, data.get(f.name), join_path(path, f.name))
        for child in spec.children.values():
            value = data.get(child.name)
            cpath = join_path(path, child.name)
            if value is None:
                out[child.name] = None
            elif child.many:
                if not isinstance(value, list):
                    self.error(cpath, "must be a list")
                    out[child.name] = None
                    continue
                out[child.name] = [self.coerce(child.kind, item, "%s[%d]" % (cpath, i), CHILD_EXTRA.get(child.kind, ()))
                                   for i, item in enumerate(value)]
                out[child.name] = [c for c in out[child.name] if c is not None]
            else:
                out[child.name] = self.coerce(child.kind, value, cpath, CHILD_EXTRA.get(child.kind, ()))
        out["_path"] = path
        return out

    def required(self, kind, obj, creating):
        spec = SPECS[kind]
        for f in spec.fields.values():
            need = f.create_required if creating else f.required
            path = join_path(obj.get("_path", ""), f.name)
            if need and obj.get(f.name) is None and path not in self.bad:
                self.error(path, "is required for a %s" % spec.label)

    # -- semantic checks per object ---------------------------------------------------
    def listener(self, obj, pools=None):
        """Checks of one listener; `pools` maps pool name -> protocol when known."""
        path = obj.get("_path", "")
        proto = obj.get("protocol")
        p = self.at(path)
        if proto is None:
            return
        tls_refs = obj.get("default_tls_container_ref") or obj.get("sni_container_refs")
        if proto == "TERMINATED_HTTPS" and not tls_refs:
            self.error(p("default_tls_container_ref"),
                       "a TERMINATED_HTTPS listener needs a certificate (default_tls_container_ref or sni_container_refs)")
        if proto not in ("TERMINATED_HTTPS", "PROMETHEUS"):
            for name in ("default_tls_container_ref", "sni_container_refs", "client_ca_tls_container_ref"):
                if obj.get(name):
                    self.error(p(name), "certificates are only allowed on TERMINATED_HTTPS listeners, not %s" % proto)
        if obj.get("client_authentication") not in (None, "NONE") and not obj.get("client_ca_tls_container_ref"):
            self.error(p("client_ca_tls_container_ref"),
                       "client_authentication %s needs a client CA (client_ca_tls_container_ref)" % obj["client_authentication"])
        if obj.get("client_crl_container_ref") and not obj.get("client_ca_tls_container_ref"):
            self.error(p("client_crl_container_ref"), "a revocation list needs client_ca_tls_container_ref")
        if obj.get("client_ca_tls_container_ref") and not tls_refs:
            self.error(p("client_ca_tls_container_ref"), "a client CA needs default_tls_container_ref or sni_container_refs")
        headers = obj.get("insert_headers")
        if headers:
            if proto not in ("HTTP", "TERMINATED_HTTPS"):
                self.error(p("insert_headers"), "only HTTP and TERMINATED_HTTPS listeners insert headers, not %s" % proto)
            else:
                for name in headers:
                    if name in SSL_INSERT_HEADERS and proto != "TERMINATED_HTTPS":
                        self.error(p("insert_headers"), "%s is only inserted by TERMINATED_HTTPS listeners" % name)
                    elif name not in HTTP_INSERT_HEADERS + SSL_INSERT_HEADERS:
                        self.error(p("insert_headers"), "%s is not a header Octavia inserts (%s)"
                                   % (name, ", ".join(HTTP_INSERT_HEADERS + SSL_INSERT_HEADERS)))
        if proto in LVS_PROTOCOLS:
            for name in ("tls_ciphers", "tls_versions", "alpn_protocols", "hsts_max_age"):
                if obj.get(name):
                    self.error(p(name), "%s listeners do not support TLS options" % proto)
        elif proto != "TERMINATED_HTTPS":
            # Octavia only applies them where it terminates TLS; elsewhere they would be
            # stored and silently ignored (HSTS: refused)
            for name in ("tls_ciphers", "tls_versions", "alpn_protocols"):
                if obj.get(name) and not (proto == "PROMETHEUS" and tls_refs):
                    self.error(p(name), "only TERMINATED_HTTPS listeners use %s, not %s" % (name, proto))
        if proto != "TERMINATED_HTTPS" and proto not in LVS_PROTOCOLS:
            if obj.get("hsts_max_age") is not None:
                self.error(p("hsts_max_age"), "HSTS is only for TERMINATED_HTTPS listeners, not %s" % proto)
            for name in ("hsts_include_subdomains", "hsts_preload"):
                if obj.get(name):
                    self.error(p(name), "HSTS is only for TERMINATED_HTTPS listeners, not %s" % proto)
        if (obj.get("hsts_include_subdomains") or obj.get("hsts_preload")) and obj.get("hsts_max_age") is None:
            self.error(p("hsts_max_age"), "hsts_include_subdomains and hsts_preload need hsts_max_age")
        if proto == "PROMETHEUS":
            if obj.get("default_pool"):
                self.error(p("default_pool"), "PROMETHEUS listeners cannot have a pool")
            if obj.get("l7policies"):
                self.error(p("l7policies"), "PROMETHEUS listeners cannot have L7 policies")
        if obj.get("l7policies") and proto not in L7_LISTENER_PROTOCOLS + ("PROMETHEUS",):
            self.error(p("l7policies"), "L7 policies only work on HTTP and TERMINATED_HTTPS listeners, not %s" % proto)
        pool = obj.get("default_pool")
        if pools and isinstance(pool, str) and pool in pools:
            self.pool_for_listener(proto, pools[pool], p("default_pool"), pool)
        for policy in obj.get("l7policies") or []:
            self.l7policy(policy, proto, pools)

    def pool_for_listener(self, listener_protocol, pool_protocol, path, name):
        if pool_protocol and pool_protocol not in POOLS_FOR_LISTENER.get(listener_protocol, ()):
            self.error(path, "pool %s speaks %s, which a %s listener cannot use (it takes %s)"
                       % (name, pool_protocol, listener_protocol,
                          ", ".join(POOLS_FOR_LISTENER.get(listener_protocol, ())) or "no pool"))

    def pool(self, obj):
        path = obj.get("_path", "")
        p = self.at(path)
        proto = obj.get("protocol")
        sp = obj.get("session_persistence")
        if sp and sp.get("type"):
            if sp["type"] == "APP_COOKIE" and not sp.get("cookie_name"):
                self.error(p("session_persistence.cookie_name"), "APP_COOKIE persistence needs a cookie_name")
            if sp.get("cookie_name") and sp["type"] != "APP_COOKIE":
                self.error(p("session_persistence.cookie_name"), "only APP_COOKIE persistence takes a cookie_name")
            if proto in LVS_PROTOCOLS and sp["type"] != "SOURCE_IP":
                self.error(p("session_persistence.type"), "%s pools only support SOURCE_IP persistence" % proto)
            if proto and proto not in LVS_PROTOCOLS and (sp.get("persistence_timeout") is not None
                                                         or sp.get("persistence_granularity")):
                self.error(p("session_persistence"), "persistence_timeout and persistence_granularity are for UDP/SCTP pools")
        elif sp and any(v is not None for k, v in sp.items() if k != "type"):
            self.error(p("session_persistence.type"), "is required when other session_persistence keys are given")
        if obj.get("crl_container_ref") and not obj.get("ca_tls_container_ref"):
            self.error(p("crl_container_ref"), "a revocation list needs ca_tls_container_ref")
        if proto in LVS_PROTOCOLS:
            for name in ("tls_enabled", "tls_container_ref", "ca_tls_container_ref"):
                if obj.get(name):
                    self.error(p(name), "%s pools do not support TLS" % proto)
        members = obj.get("members")
        if members:
            self.members(members, p("members"))
        if obj.get("healthmonitor") is not None:
            self.health_monitor(obj["healthmonitor"], proto)

    def members(self, members, path):
        seen = {}
        for i, member in enumerate(members):
            if member.get("address") is None or member.get("protocol_port") is None:
                continue
            key = member_key(member)
            if key in seen:
                self.error("%s[%d]" % (path, i), "duplicate member %s:%s (already %s[%d]); address and protocol_port "
                           "must be unique in a pool" % (key[0], key[1], path, seen[key]))
            else:
                seen[key] = i

    def health_monitor(self, obj, pool_protocol=None):
        path = obj.get("_path", "")
        p = self.at(path)
        hm_type = obj.get("type")
        if hm_type and pool_protocol:
            allowed = HM_TYPES_FOR_LVS_POOL if pool_protocol in LVS_PROTOCOLS else HM_TYPES_FOR_HAPROXY_POOL
            if hm_type not in allowed:
                self.error(p("type"), "a %s health monitor cannot probe a %s pool (it takes %s)"
                           % (hm_type, pool_protocol, ", ".join(allowed)))
        if hm_type and hm_type not in ("HTTP", "HTTPS"):
            for name in ("http_method", "url_path", "expected_codes", "http_version", "domain_name"):
                if obj.get(name) is not None:
                    self.error(p(name), "only HTTP and HTTPS health monitors take %s, not %s" % (name, hm_type))
        if obj.get("domain_name") and obj.get("http_version") is None:
            self.error(p("http_version"), "must be given (1.1) with domain_name")
        if obj.get("domain_name") and obj.get("http_version") is not None and obj["http_version"] < 1.1:
            self.error(p("http_version"), "domain_name needs HTTP 1.1")
        if obj.get("delay") is not None and obj.get("probe_timeout") is not None and obj["probe_timeout"] > obj["delay"]:
            self.error(p("probe_timeout"), "%s s is longer than delay %s s" % (obj["probe_timeout"], obj["delay"]))

    def l7policy(self, obj, listener_protocol=None, pools=None):
        path = obj.get("_path", "")
        p = self.at(path)
        action = obj.get("action")
        targets = {"REDIRECT_TO_URL": "redirect_url", "REDIRECT_TO_POOL": "redirect_pool", "REDIRECT_PREFIX": "redirect_prefix"}
        if action:
            need = targets.get(action)
            if need and not obj.get(need) and p(need) not in self.bad:
                self.error(p(need), "is required for action %s" % action)
            for name in targets.values():
                if name != need and obj.get(name):
                    self.error(p(name), "does not go with action %s" % action)
            if obj.get("redirect_http_code") is not None and action not in ("REDIRECT_TO_URL", "REDIRECT_PREFIX"):
                self.error(p("redirect_http_code"), "only URL and prefix redirects take an HTTP code, not %s" % action)
        pool = obj.get("redirect_pool")
        if listener_protocol and pools and isinstance(pool, str) and pool in pools:
            self.pool_for_listener(listener_protocol, pools[pool], p("redirect_pool"), pool)
        rules = obj.get("rules")
        if rules is not None:
            if len(rules) > MAX_RULES_PER_POLICY:
                self.error(p("rules"), "%d rules; Octavia allows %d per policy" % (len(rules), MAX_RULES_PER_POLICY))
            seen = {}
            for i, rule in enumerate(rules):
                self.l7rule(rule)
                key = rule_key(rule)
                if key in seen:
                    self.error("%s[%d]" % (p("rules"), i), "duplicate of rules[%d]" % seen[key])
                seen.setdefault(key, i)

    def l7rule(self, obj):
        path = obj.get("_path", "")
        p = self.at(path)
        rtype, compare, key, value = obj.get("type"), obj.get("compare_type"), obj.get("rule_key"), obj.get("value")
        if rtype is None or compare is None or value is None:
            return
        if rtype in ("HEADER", "COOKIE"):
            if not key:
                self.error(p("rule_key"), "a %s rule needs the %s name in rule_key" % (rtype, rtype.lower()))
            elif not HEADER_NAME_RE.match(key):
                self.error(p("rule_key"), "%r is not a valid %s name" % (key, rtype.lower()))
        elif rtype in ("SSL_CONN_HAS_CERT", "SSL_VERIFY_RESULT") and key:
            self.error(p("rule_key"), "%s rules do not use rule_key" % rtype)
        if rtype == "FILE_TYPE" and compare not in ("REGEX", "EQUAL_TO"):
            self.error(p("compare_type"), "FILE_TYPE rules compare with REGEX or EQUAL_TO, not %s" % compare)
        if rtype in ("SSL_CONN_HAS_CERT", "SSL_VERIFY_RESULT") and compare != "EQUAL_TO":
            self.error(p("compare_type"), "%s rules only compare with EQUAL_TO" % rtype)
        if rtype == "SSL_CONN_HAS_CERT" and value.lower() != "true":
            self.error(p("value"), "SSL_CONN_HAS_CERT rules take the value 'true'")
        if rtype == "SSL_VERIFY_RESULT" and not value.isdigit():
            self.error(p("value"), "SSL_VERIFY_RESULT rules take a number >= 0")
        if rtype == "SSL_DN_FIELD" and (not key or not DN_FIELD_RE.match(key)):
            self.error(p("rule_key"), "SSL_DN_FIELD rules need a DN field name (for example CN) in rule_key")
        if compare == "REGEX":
            try:
                re.compile(value)
            except re.error as exc:
                self.error(p("value"), "is not a valid regular expression (%s)" % exc)
        elif value and rtype == "COOKIE" and not COOKIE_VALUE_RE.match(value):
            self.error(p("value"), "%r is not a cookie value Octavia accepts (no spaces, quotes, commas or ;)" % value)
        elif value and rtype in ("HEADER", "HOST_NAME", "PATH", "FILE_TYPE") \
                and not (HEADER_VALUE_RE.match(value) or QUOTED_HEADER_VALUE_RE.match(value)):
            self.error(p("value"), "%r has a space or a character Octavia does not accept in a %s value; "
                                   "put the whole value in double quotes to match spaces" % (value, rtype))
        if not value:
            self.error(p("value"), "must not be empty")
        if re.search(r"[\r\n]", value) or (key and re.search(r"[\r\n]", key)):
            self.error(p("value"), "must not contain line breaks")


# Options of nested objects that are not Octavia fields.
CHILD_EXTRA = {"pool": (Field("additive_only", "bool", default=False,
                              doc="Keep members that the list does not name (batch update with C(additive_only))."),)}


def _name_list_dupes(validator, items, keyfunc, path, what):
    seen = {}
    for i, item in enumerate(items):
        key = keyfunc(item)
        if key is None:
            continue
        where = item.get("_path") or "%s[%d]" % (path, i)
        if key in seen:
            validator.error(where, "duplicate %s %s (already at %s); it must be unique" % (what, key, seen[key]))
        else:
            seen[key] = where


def desire_tree(params, validator=None):
    """The `loadbalancer` module's input → the wanted tree, fully validated, no API calls.

    Inline pool definitions (``listeners[].default_pool`` or
    ``listeners[].l7policies[].redirect_pool`` given as a dict) are hoisted into the
    load balancer's pool list and replaced by their name, as Octavia itself requires
    ("every pool named, defined fully only once")."""
    v = validator or Validator()
    lb = v.coerce("loadbalancer", {k: params.get(k) for k in LOADBALANCER.fields}, "")
    if lb is not None:
        v.required("loadbalancer", lb, creating=False)
        if lb.get("vip_address") and not (lb.get("vip_subnet") or lb.get("vip_network")):
            v.error("vip_address", "needs vip_subnet or vip_network to allocate it on")
    pools_given = params.get("pools") is not None
    pools = []
    if pools_given:
        if not isinstance(params["pools"], list):
            v.error("pools", "must be a list")
        else:
            for i, item in enumerate(params["pools"]):
                pool = v.coerce("pool", item, "pools[%d]" % i, CHILD_EXTRA["pool"])
                if pool is not None:
                    pools.append(pool)
    listeners = None
    if params.get("listeners") is not None:
        listeners = []
        if not isinstance(params["listeners"], list):
            v.error("listeners", "must be a list")
        else:
            for i, item in enumerate(params["listeners"]):
                path = "listeners[%d]" % i
                if isinstance(item, dict) and isinstance(item.get("default_pool"), dict):
                    item = dict(item)
                    inline = v.coerce("pool", item["default_pool"], join_path(path, "default_pool"), CHILD_EXTRA["pool"])
                    if inline is not None:
                        inline["_inline"] = True
                        pools.append(inline)
                        item["default_pool"] = inline.get("name") or ""
                        if not inline.get("name"):
                            v.error(join_path(path, "default_pool.name"), "an inline pool needs a name (Octavia references pools by name)")
                            v.bad.add(join_path(path, "default_pool.name"))
                if isinstance(item, dict) and isinstance(item.get("l7policies"), list):
                    item = dict(item)
                    policies = []
                    for j, policy in enumerate(item["l7policies"]):
                        if isinstance(policy, dict) and isinstance(policy.get("redirect_pool"), dict):
                            policy = dict(policy)
                            ppath = "%s.l7policies[%d].redirect_pool" % (path, j)
                            inline = v.coerce("pool", policy["redirect_pool"], ppath, CHILD_EXTRA["pool"])
                            if inline is not None:
                                inline["_inline"] = True
                                pools.append(inline)
                                policy["redirect_pool"] = inline.get("name") or ""
                                if not inline.get("name"):
                                    v.error(join_path(ppath, "name"), "an inline pool needs a name")
                                    v.bad.add(join_path(ppath, "name"))
                        policies.append(policy)
                    item["l7policies"] = policies
                listener = v.coerce("listener", item, path)
                if listener is not None:
                    listeners.append(listener)
    # required fields and per-object checks
    for pool in pools:
        v.required("pool", pool, creating=True)
        for member in pool.get("members") or []:
            v.required("member", member, creating=True)
        if pool.get("healthmonitor") is not None:
            v.required("health_monitor", pool["healthmonitor"], creating=True)
        v.pool(pool)
    _name_list_dupes(v, pools, lambda p: p.get("name") or None, "pools", "pool name")
    pool_protocols = {p["name"]: p.get("protocol") for p in pools if p.get("name")}
    for listener in listeners or []:
        v.required("listener", listener, creating=True)
        for j, policy in enumerate(listener.get("l7policies") or []):
            if policy.get("position") is None:
                policy["position"] = j + 1
                policy["_implied_position"] = True
            v.required("l7policy", policy, creating=True)
            if not policy.get("name"):
                v.error(join_path(policy["_path"], "name"), "L7 policies in a tree need a name (it identifies them)")
            for rule in policy.get("rules") or []:
                v.required("l7rule", rule, creating=True)
        _name_list_dupes(v, listener.get("l7policies") or [], lambda p: p.get("name") or None,
                         join_path(listener["_path"], "l7policies"), "L7 policy name")
        v.listener(listener, pool_protocols)
    if listeners:
        _name_list_dupes(v, listeners,
                         lambda li: "%s/%s" % listener_key(li) if li.get("protocol_port") is not None else None,
                         "listeners", "listener port")
    if lb is not None:
        check_algorithms(v, lb.get("provider"), pools)
    allow_empty = bool(params.get("allow_empty"))
    if not allow_empty:
        if listeners == [] and params.get("purge_listeners", True):
            _empty_error(v, "listeners", "listener of the load balancer")
        if pools_given and params.get("pools") == [] and params.get("purge_pools", True):
            _empty_error(v, "pools", "pool of the load balancer that no listener uses")
        for item in (listeners or []) + pools:
            check_empty_lists(v, item, allow_empty)
    if params.get("purge_pools", True) and pools_given:
        referenced = _referenced_pools(listeners)
        for name, where in referenced:
            if name and name not in pool_protocols:
                v.error(where, "pool %s is not defined in pools (purge_pools would delete it)" % name)
    v.raise_if_any()
    return {"loadbalancer": lb, "listeners": listeners, "pools": pools if (pools_given or pools) else None,
            "pools_given": pools_given}


# An empty list given by accident (an undefined inventory group, a filter that matched
# nothing) would delete every child it manages: that takes `allow_empty: true`.
EMPTY_PURGES = (("members", "member of the pool"), ("l7policies", "L7 policy of the listener"),
                ("rules", "rule of the L7 policy"))
ALLOW_EMPTY_OPTION = {"type": "bool", "default": False}


def _empty_error(validator, path, what):
    validator.error(path, "an empty list deletes every %s; set allow_empty: true if that is what you mean "
                    "(leave the list out to manage nothing there)" % what)


def check_empty_lists(validator, obj, allow):
    """Refuse an empty list that would purge every child of `obj` (and below)."""
    if allow or not isinstance(obj, dict):
        return
    for name, what in EMPTY_PURGES:
        items = obj.get(name)
        if items == [] and not (name == "members" and obj.get("additive_only")):
            _empty_error(validator, join_path(obj.get("_path", ""), name), what)
        for item in items or []:
            check_empty_lists(validator, item, allow)


def _referenced_pools(listeners):
    refs = []
    for listener in listeners or []:
        if listener.get("default_pool"):
            refs.append((listener["default_pool"], join_path(listener["_path"], "default_pool")))
        for policy in listener.get("l7policies") or []:
            if policy.get("redirect_pool"):
                refs.append((policy["redirect_pool"], join_path(policy["_path"], "redirect_pool")))
    return refs


def vip_addresses(lb):
    """The VIP addresses of an existing load balancer (its VIP and additional VIPs)."""
    found = [lb.get("vip_address")] + [v.get("ip_address") for v in lb.get("additional_vips") or [] if isinstance(v, dict)]
    return [a for a in found if a and _is_ip(a)]


def check_cidrs_for_vip(validator, listeners, addresses):
    """allowed_cidrs of another IP version than every VIP: Octavia refuses them on a
    listener of an existing load balancer, and a fully populated create would keep
    them without effect."""
    versions = {ipaddress.ip_address(a).version for a in addresses if _is_ip(a)}
    if not versions:
        return
    for li in listeners or []:
        for cidr in li.get("allowed_cidrs") or []:
            version = ipaddress.ip_network(cidr, strict=False).version
            if version not in versions:
                validator.error(join_path(li.get("_path", ""), "allowed_cidrs"),
                                "%s is an IPv%d CIDR but the load balancer's VIP is IPv%s"
                                % (cidr, version, "/".join(str(v) for v in sorted(versions))))


def check_algorithms(validator, provider, pools):
    """Algorithms the provider cannot balance with (the amphora provider has no
    SOURCE_IP_PORT; a fully populated create would accept it and fail later)."""
    if (provider or "").lower() not in AMPHORA_PROVIDERS:
        return
    for pool in pools or []:
        algorithm = pool.get("lb_algorithm")
        if algorithm and algorithm not in AMPHORA_LB_ALGORITHMS:
            validator.error(join_path(pool.get("_path", ""), "lb_algorithm"),
                            "the %s provider does not support %s (it takes %s)"
                            % (provider, algorithm, ", ".join(AMPHORA_LB_ALGORITHMS)))


def check_vip_address(validator, address, subnets, field="vip_address"):
    """A fixed VIP address must be a usable host address of the VIP subnet (or of one
    subnet of the VIP network)."""
    ip = ipaddress.ip_address(address)
    nets = [ipaddress.ip_network(sub["cidr"], strict=False) for sub in subnets if sub and sub.get("cidr")]
    if not nets:
        return
    inside = [net for net in nets if ip.version == net.version and ip in net]
    if not inside:
        where = "the VIP subnet" if len(nets) == 1 else "any subnet of the VIP network"
        validator.error(field, "%s is not in %s (%s)" % (address, where, ", ".join(str(n) for n in nets)))
        return
    net = inside[0]
    if ip.version == 4 and net.prefixlen < 31 and ip in (net.network_address, net.broadcast_address):
        validator.error(field, "%s is the %s address of %s, not a host address"
                        % (address, "network" if ip == net.network_address else "broadcast", net))


def desire(kind, params, creating=False, validator=None, extra=()):
    """One object of a single-object module (listener, pool, member, ...) → wanted dict."""
    v = validator or Validator()
    spec = SPECS[kind]
    data = {k: params.get(k) for k in spec.fields}
    for child in spec.children:
        if child in params:
            data[child] = params.get(child)
    for f in extra:
        data[f.name] = params.get(f.name)
    obj = v.coerce(kind, data, "", extra)
    if obj is not None:
        v.required(kind, obj, creating=creating)
        for child in spec.children.values():
            items = obj.get(child.name)
            if items is None:
                continue
            # Nested objects need their identifying fields here; what Octavia needs to
            # create one (a monitor's type, delay, ...) is checked when the plan creates
            # it, so a task can change one field of an existing pool's monitor.
            for item in items if child.many else [items]:
                v.required(child.kind, item, creating=False)
                for grand in SPECS[child.kind].children.values():
                    for g in item.get(grand.name) or []:
                        v.required(grand.kind, g, creating=False)
        check = {"listener": v.listener, "pool": v.pool, "health_monitor": v.health_monitor,
                 "l7policy": v.l7policy, "l7rule": v.l7rule}.get(kind)
        if check is not None:
            check(obj)
        check_empty_lists(v, obj, bool(params.get("allow_empty")))
        if kind == "listener":
            for j, policy in enumerate(obj.get("l7policies") or []):
                if policy.get("position") is None:
                    policy["position"] = j + 1
                    policy["_implied_position"] = True
                if not policy.get("name"):
                    v.error(join_path(policy["_path"], "name"), "nested L7 policies need a name (it identifies them)")
    v.raise_if_any()
    return obj


def desire_members(items, path="members", validator=None):
    """A list of members (pool and member modules) → wanted member dicts."""
    v = validator or Validator()
    members = []
    for i, item in enumerate(items or []):
        member = v.coerce("member", item, "%s[%d]" % (path, i))
        if member is not None:
            v.required("member", member, creating=True)
            members.append(member)
    v.members(members, path)
    v.raise_if_any()
    return members


# ---------------------------------------------------------------------------------------
# Diff
# ---------------------------------------------------------------------------------------

def diff_fields(kind, want, have):
    """{field: (current, wanted)} for every field the task gives that differs."""
    spec = SPECS[kind]
    out = {}
    for f in spec.fields.values():
        w = want.get(f.name)
        if w is None:
            continue
        if f.name == "session_persistence" and not w.get("type"):
            if have.get(f.name):
                out[f.name] = (have.get(f.name), None)
            continue
        if not f.same(w, have.get(f.name)):
            out[f.name] = (have.get(f.name), w)
    return out


def refuse_immutable(kind, what, changes):
    spec = SPECS[kind]
    fixed = [name for name in changes if not spec.fields[name].updatable]
    if fixed:
        detail = ", ".join("%s is %r, the task wants %r" % (name, changes[name][0], changes[name][1]) for name in fixed)
        raise ModuleError(
            "Cannot change %s of %s: %s. Octavia cannot update %s; delete the %s and create it again."
            % (", ".join(fixed), what, detail, "this field" if len(fixed) == 1 else "these fields", spec.label),
            immutable_fields=fixed)


def apply_changes(view, changes):
    out = dict(view)
    for name, change in changes.items():
        out[name] = change[1]
    return out


def public(obj):
    """An option-space dict without the engine's private keys (for diffs and results)."""
    if isinstance(obj, dict):
        return {k: public(v) for k, v in obj.items() if not k.startswith("_")}
    if isinstance(obj, list):
        return [public(v) for v in obj]
    return obj


# ---------------------------------------------------------------------------------------
# The API client: counts calls, retries 409/503, waits for the load balancer
# ---------------------------------------------------------------------------------------

class OctaviaApi:
    """Raw Octavia v2 REST through openstacksdk's load-balancer proxy.

    openstacksdk points that proxy at the service root plus ``v2.0`` (Octavia serves
    ``/v2`` and ``/v2.0``) and the SDK's own resources use paths like ``/lbaas/pools``;
    we use the same relative paths."""

    # Waits poll often at first (Octavia usually finishes a change in 1-4 s), then back
    # off: 0.2 s growing by 1.2 to 1 s. A poll is one cheap GET.
    POLL = {"first": 0.2, "factor": 1.2, "cap": 1.0}
    # Independent reads run side by side (see parallel()); Octavia's API serves them at
    # once, and a no-op run is mostly waiting for answers.
    READERS = 4

    def __init__(self, conn, deadline=None, sleep=None, project=None):
        self.conn = conn
        self.deadline = deadline or Deadline(600)
        self.sleep = sleep or time.sleep
        self.reads = 0
        self.writes = 0
        self._lock = threading.Lock()
        self.neutron_seen = {}
        # Name lookups are scoped to one project: `project` is a function giving its ID
        # (the task's `project` option, or the project the caller is logged in to), asked
        # once, on the first lookup. None: no scope (unit tests of the pure parts).
        self._project_of = project
        self._project = None
        self._scope_lock = threading.Lock()

    def project_id(self):
        if self._project_of is None:
            return None
        with self._scope_lock:
            if self._project is None:
                self._project = self._project_of()
        return self._project

    def scoped(self, params=None):
        """Query parameters limited to the project of the task (an admin otherwise sees,
        and would match by name, every project's objects)."""
        params = dict(params or {})
        if any(params.get(parent) for parent in ("loadbalancer_id", "listener_id", "pool_id")):
            return params     # children of a parent the task found (or gave by ID)
        project = self.project_id()
        if project:
            params.setdefault("project_id", project)
        return params

    def calls(self):
        return {"writes": self.writes, "reads": self.reads}

    def parallel(self, *funcs):
        """Run independent calls side by side; their results in order. The first
        exception is raised once all are done."""
        funcs = [f for f in funcs if f is not None]
        if len(funcs) <= 1:
            return [f() for f in funcs]
        for service in ("load_balancer", "network"):
            getattr(self.conn, service, None)  # make the proxies before the threads race to
        with concurrent.futures.ThreadPoolExecutor(min(self.READERS, len(funcs))) as pool:
            futures = [pool.submit(f) for f in funcs]
            concurrent.futures.wait(futures)
        return [f.result() for f in futures]

    # -- transport ----------------------------------------------------------------------
    def _send(self, proxy, method, path, body=None, params=None):
        kwargs = {}
        if body is not None:
            kwargs["json"] = body
        if params:
            kwargs["params"] = params
        with self._lock:
            if method == "GET":
                self.reads += 1
            else:
                self.writes += 1
        try:
            return proxy.request(path, method, **kwargs)
        except Exception as exc:  # pylint: disable=broad-except
            raise ModuleError("%s %s failed: %s" % (method, path, exc)) from exc

    def request(self, method, path, body=None, params=None, what=None, missing_ok=False, lb_id=None, service="load_balancer",
                before_retry=None):
        """One API call; returns the decoded body (None for 404 when missing_ok).

        `before_retry(status)` is asked before a write is sent again: it may find that
        an ambiguous write did happen (returns ("done", answer)) or give a body made from
        a fresh read (("body", body)); None sends the same body again."""
        proxy = getattr(self.conn, service)
        backoff = 0.5
        while True:
            resp = self._send(proxy, method, path, body, params)
            status = resp.status_code
            if status < 300:
                return _json(resp) or {}
            if status == 404 and missing_ok:
                return None
            fault = _fault(resp)
            retryable = status == 503 or (status == 409 and _is_transient_conflict(fault))
            if retryable and self.deadline.remaining() > 0:
                if status == 409 and lb_id:
                    self.wait_ready(lb_id)
                self.sleep(min(backoff, max(self.deadline.remaining(), 0)) * random.uniform(0.5, 1.0))
                backoff = min(backoff * 2, 4.0)
                if before_retry is not None:
                    if lb_id:
                        self.wait_ready(lb_id)
                    outcome = before_retry(status)
                    if outcome is not None and outcome[0] == "done":
                        return outcome[1]
                    if outcome is not None:
                        body = outcome[1]
                continue
            raise ModuleError("Octavia refused to %s (HTTP %s on %s %s): %s"
                              % (what or "do it", status, method, path, fault), status_code=status)

    def get(self, path, params=None, missing_ok=False, what=None):
        return self.request("GET", path, params=params, missing_ok=missing_ok, what=what or "read %s" % path)

    def list(self, path, plural, params=None, service="load_balancer"):
        """Every page of a listing, within the task's time budget; a `next` link that
        comes back again (a misbehaving proxy or API) ends it with an error."""
        items = []
        seen = set()
        body = self.request("GET", path, params=params, what="list %s" % plural, service=service)
        while True:
            items.extend(body.get(plural) or [])
            nxt = [link.get("href") for link in body.get(plural + "_links") or [] if link.get("rel") == "next"]
            if not nxt or not nxt[0]:
                return items
            if nxt[0] in seen:
                raise ModuleError("Listing %s does not move on: page %s came again" % (plural, nxt[0]))
            seen.add(nxt[0])
            if self.deadline.remaining() <= 0:
                raise ModuleError("Timed out after %d s listing %s (%d so far); raise the task's timeout"
                                  % (self.deadline.seconds, plural, len(items)), api_calls=self.calls())
            body = self.request("GET", nxt[0], what="list %s" % plural, service=service)

    # -- the load balancer's state ----------------------------------------------------------
    def get_loadbalancer(self, lb_id):
        found = self.get("/lbaas/loadbalancers/%s" % lb_id, missing_ok=True)
        return found.get("loadbalancer") if found else None

    def status_tree(self, lb_id):
        try:
            return (self.get("/lbaas/loadbalancers/%s/status" % lb_id, missing_ok=True) or {}).get("statuses")
        except ModuleError:
            return None

    def wait_ready(self, lb_id, what="the load balancer", gone_ok=False):
        """Poll until the load balancer leaves PENDING_*: ACTIVE → return it,
        ERROR → fail with its status tree, gone → None (when gone_ok)."""
        last = None
        for interval in poll_intervals(**self.POLL):
            last = self.get_loadbalancer(lb_id)
            if last is None or last.get("provisioning_status") == "DELETED":
                if gone_ok:
                    return None
                raise ModuleError("Load balancer %s disappeared while waiting for %s" % (lb_id, what))
            status = last.get("provisioning_status") or ""
            if status == "ERROR":
                raise ModuleError("Load balancer %s went to ERROR after %s" % (last.get("name") or lb_id, what),
                                  loadbalancer=last, status_tree=self.status_tree(lb_id), api_calls=self.calls())
            if not status.startswith(PENDING_PREFIX) and not gone_ok:
                return last
            if self.deadline.remaining() <= 0:
                raise ModuleError("Timed out after %d s waiting for %s (load balancer %s is %s); raise the task's timeout"
                                  % (self.deadline.seconds, what, lb_id, status), loadbalancer=last, api_calls=self.calls())
            self.sleep(min(interval, max(self.deadline.remaining(), 0.05)))
        return last  # unreachable

    # -- lookups --------------------------------------------------------------------------
    def find_loadbalancer(self, ref):
        if is_uuid(ref):
            found = self.get_loadbalancer(ref)
            if found:
                return found
        items = self.list("/lbaas/loadbalancers", "loadbalancers", self.scoped({"name": ref}))
        items = [i for i in items if i.get("provisioning_status") != "DELETED"]
        if len(items) > 1:
            raise ModuleError("%d load balancers are named %s in project %s; use the ID"
                              % (len(items), ref, self.project_id() or "(any)"), ids=[i["id"] for i in items])
        return items[0] if items else None

    def find_flavor(self, ref):
        if is_uuid(ref):
            return ref
        items = self.list("/lbaas/flavors", "flavors", {"name": ref})
        if len(items) != 1:
            raise ModuleError("Octavia flavor %s: %s" % (ref, "not found" if not items else "ambiguous, use the ID"))
        return items[0]["id"]

    def find_neutron(self, resource, ref, field):
        """A Neutron network, subnet or port by name → its ID (an ID is used as is)."""
        if is_uuid(ref):
            return ref
        items = self.list("/%ss" % resource, "%ss" % resource, self.scoped({"name": ref}), service="network")
        if not items and self.project_id() and resource in ("network", "subnet"):
            # not the project's own: a network (or a subnet of one) that is shared with
            # every project or external, as the project itself would see it
            others = self.list("/%ss" % resource, "%ss" % resource, {"name": ref}, service="network")
            items = [item for item in others if self._open_to_all(resource, item)]
        if len(items) != 1:
            where = " in project %s" % self.project_id() if self.project_id() else ""
            raise ModuleError("%s: %s %s %s" % (field, resource, ref, ("not found%s (nor shared)" % where) if not items
                                                else "is ambiguous%s, use the ID" % where))
        self.neutron_seen[(resource, items[0]["id"])] = items[0]
        return items[0]["id"]

    def _open_to_all(self, resource, item):
        if resource == "subnet":
            item = self.neutron_object("network", item.get("network_id")) or {}
        return bool(item.get("shared") or item.get("router:external"))

    def neutron_object(self, resource, obj_id):
        """A Neutron object by ID (the one a name lookup found costs no call)."""
        if (resource, obj_id) not in self.neutron_seen:
            found = self.request("GET", "/%ss/%s" % (resource, obj_id), missing_ok=True, what="read %s %s" % (resource, obj_id),
                                 service="network")
            self.neutron_seen[(resource, obj_id)] = (found or {}).get(resource)
        return self.neutron_seen[(resource, obj_id)]

    def default_provider(self):
        """The provider a load balancer without `provider` gets, when Octavia makes it
        knowable: every enabled provider is the amphora one (under any of its names)."""
        names = {(p.get("name") or "").lower() for p in self.list("/lbaas/providers", "providers")}
        if names and names <= set(AMPHORA_PROVIDERS):
            return "amphora"
        return None


def _json(resp):
    if not getattr(resp, "content", b"x"):
        return None
    try:
        return resp.json()
    except ValueError:
        return None


def _fault(resp):
    body = _json(resp)
    if isinstance(body, dict):
        for key in ("faultstring", "description", "message", "detail"):
            if body.get(key):
                return body[key]
        if isinstance(body.get("NeutronError"), dict):
            return body["NeutronError"].get("message")
    return (getattr(resp, "text", "") or "")[:500]


def _is_transient_conflict(fault):
    text = (fault or "").lower()
    return "immutable" in text or "invalid state" in text or "pending" in text


# ---------------------------------------------------------------------------------------
# Current state: read lazily, few GETs
# ---------------------------------------------------------------------------------------

class Current:
    """What exists under one load balancer. Reads on first use and remembers; unit tests
    give the data directly (api=None)."""

    def __init__(self, api, lb, listeners=None, pools=None, members=None, healthmonitors=None,
                 l7policies=None, rules=None):
        self.api = api
        self.lb = lb
        self._listeners = listeners
        self._pools = pools
        self._members = dict(members or {})          # pool id -> [member]
        self._hms = dict(healthmonitors or {})       # hm id -> hm
        self._policies = dict(l7policies or {})      # listener id -> [policy]
        self._rules = dict(rules or {})              # policy id -> [rule]

    @property
    def lb_id(self):
        return self.lb["id"] if self.lb else None

    def listeners(self):
        if self._listeners is None:
            self._listeners = self.api.list("/lbaas/listeners", "listeners", {"loadbalancer_id": self.lb_id})
        return self._listeners

    def pools(self):
        if self._pools is None:
            self._pools = self.api.list("/lbaas/pools", "pools", {"loadbalancer_id": self.lb_id})
        return self._pools

    def pool_names(self):
        return {p["id"]: p.get("name") or p["id"] for p in self.pools()}

    def members(self, pool):
        if pool["id"] not in self._members:
            self._members[pool["id"]] = self.api.list("/lbaas/pools/%s/members" % pool["id"], "members")
        return self._members[pool["id"]]

    def prefetch_healthmonitors(self, pools):
        """One list call when several pools' monitors are needed, else one GET each."""
        ids = [p.get("healthmonitor_id") for p in pools if p.get("healthmonitor_id")]
        missing = [i for i in ids if i not in self._hms]
        if len(missing) > 1 and self.api is not None:
            for hm in self.api.list("/lbaas/healthmonitors", "healthmonitors"):
                if hm["id"] in missing:
                    self._hms[hm["id"]] = hm

    def healthmonitor(self, pool):
        hm_id = pool.get("healthmonitor_id")
        if not hm_id:
            return None
        if hm_id not in self._hms:
            found = self.api.get("/lbaas/healthmonitors/%s" % hm_id, missing_ok=True)
            self._hms[hm_id] = found.get("healthmonitor") if found else None
        return self._hms[hm_id]

    def l7policies(self, listener):
        if listener["id"] not in self._policies:
            self._policies[listener["id"]] = self.api.list("/lbaas/l7policies", "l7policies", {"listener_id": listener["id"]})
        return sorted(self._policies[listener["id"]], key=lambda p: p.get("position") or 0)

    def rules(self, policy):
        if policy["id"] not in self._rules:
            self._rules[policy["id"]] = self.api.list("/lbaas/l7policies/%s/rules" % policy["id"], "rules")
        return self._rules[policy["id"]]

    # -- finding one child by its natural key ----------------------------------------------
    def find_listener(self, ref=None, protocol=None, protocol_port=None):
        """By protocol + port (the natural key), or by 'PROTOCOL:PORT', name or ID."""
        items = self.listeners()
        if ref is not None:
            match = LISTENER_REF_RE.match(ref)
            if match:
                protocol, protocol_port = match.group(1).upper(), int(match.group(2))
            else:
                found = [li for li in items if li["id"] == ref] or [li for li in items if li.get("name") == ref]
                if len(found) > 1:
                    raise ModuleError("%d listeners of load balancer %s are named %s; use PROTOCOL:PORT or the ID"
                                      % (len(found), self.lb.get("name"), ref))
                return found[0] if found else None
        found = [li for li in items if li.get("protocol_port") == protocol_port
                 and (protocol is None or l4_protocol(li.get("protocol")) == l4_protocol(protocol))]
        if len(found) > 1:
            raise ModuleError("Load balancer %s has %d listeners on port %s; give the protocol"
                              % (self.lb.get("name"), len(found), protocol_port))
        return found[0] if found else None

    def find_pool(self, ref):
        items = self.pools()
        found = [p for p in items if p["id"] == ref] or [p for p in items if p.get("name") == ref]
        if len(found) > 1:
            raise ModuleError("%d pools of load balancer %s are named %s; pool names must be unique to be managed"
                              % (len(found), self.lb.get("name"), ref))
        return found[0] if found else None

    def find_l7policy(self, listener, ref=None, position=None):
        items = self.l7policies(listener)
        if ref is not None:
            found = [p for p in items if p["id"] == ref] or [p for p in items if p.get("name") == ref]
            if len(found) > 1:
                raise ModuleError("%d L7 policies of listener %s:%s are named %s; use the ID"
                                  % (len(found), listener.get("protocol"), listener.get("protocol_port"), ref))
            return found[0] if found else None
        found = [p for p in items if p.get("position") == position]
        return found[0] if found else None

    def known_tree(self):
        """The load balancer with the children read so far (no further GETs)."""
        out = dict(self.lb)
        if self._listeners is not None:
            out["listeners"] = []
            for li in self._listeners:
                item = dict(li)
                if li["id"] in self._policies:
                    item["l7policies"] = [dict(p, rules=self._rules[p["id"]]) if p["id"] in self._rules else dict(p)
                                          for p in self.l7policies(li)]
                out["listeners"].append(item)
        if self._pools is not None:
            out["pools"] = []
            for pool in self._pools:
                item = dict(pool)
                if pool["id"] in self._members:
                    item["members"] = self._members[pool["id"]]
                if pool.get("healthmonitor_id") in self._hms:
                    item["healthmonitor"] = self._hms[pool["healthmonitor_id"]]
                out["pools"].append(item)
        return out

    def prefetch(self, desired):
        """Read what a `loadbalancer` task manages, independent reads side by side (three
        rounds: listeners, pools and monitors; members and policies; rules), so that
        planning makes no further call. Without an API client (unit tests) a no-op."""
        if self.api is None or self.lb is None:
            return self
        managed_listeners = {listener_key(li) for li in desired.get("listeners") or [] if li.get("l7policies") is not None}
        pools = desired.get("pools") or []
        member_pools = {p["name"] for p in pools if p.get("members") is not None}
        hm_pools = {p["name"] for p in pools if p.get("healthmonitor") is not None}
        first = [self.listeners if desired.get("listeners") is not None else None,
                 self.pools if desired.get("pools") is not None or desired.get("listeners") is not None else None]
        if len(hm_pools) > 1:
            first.append(self._all_healthmonitors)
        self.api.parallel(*first)
        second = []
        if desired.get("listeners") is not None:
            second += [(lambda li=li: self.l7policies(li)) for li in self.listeners() if listener_key(li) in managed_listeners]
        for pool in self.pools() if desired.get("pools") is not None else []:
            if pool.get("name") in member_pools:
                second.append(lambda pool=pool: self.members(pool))
            if pool.get("name") in hm_pools and pool.get("healthmonitor_id") not in self._hms:
                second.append(lambda pool=pool: self.healthmonitor(pool))
        self.api.parallel(*second)
        third = []
        for li in self._listeners or []:
            if li["id"] in self._policies:
                third += [(lambda policy=policy: self.rules(policy)) for policy in self._policies[li["id"]]]
        self.api.parallel(*third)
        return self

    def _all_healthmonitors(self):
        for hm in self.api.list("/lbaas/healthmonitors", "healthmonitors"):
            self._hms.setdefault(hm["id"], hm)

    def read_desired(self, desired):
        """Read what a `loadbalancer` task manages (to report the state after a change,
        with the same GETs the plan needed and no more)."""
        if self.api is not None:
            return self.prefetch(desired)
        if desired.get("listeners") is not None:
            managed = {listener_key(li) for li in desired["listeners"] if li.get("l7policies") is not None}
            for li in self.listeners():
                if listener_key(li) in managed:
                    for policy in self.l7policies(li):
                        self.rules(policy)
        if desired.get("pools") is not None:
            members = {p["name"] for p in desired["pools"] if p.get("members") is not None}
            hms = {p["name"] for p in desired["pools"] if p.get("healthmonitor") is not None}
            self.prefetch_healthmonitors([p for p in self.pools() if p.get("name") in hms])
            for pool in self.pools():
                if pool.get("name") in members:
                    self.members(pool)
                if pool.get("name") in hms:
                    self.healthmonitor(pool)
        return self

    def problems(self):
        """Children Octavia put in ERROR (among those read)."""
        bad = []
        for li in self._listeners or []:
            if li.get("provisioning_status") == "ERROR":
                bad.append(label("listener", li))
            for policy in self._policies.get(li["id"], []):
                if policy.get("provisioning_status") == "ERROR":
                    bad.append(label("l7policy", policy, label("listener", li)))
                for rule in self._rules.get(policy["id"], []):
                    if rule.get("provisioning_status") == "ERROR":
                        bad.append(label("l7rule", L7RULE.view(rule), label("l7policy", policy)))
        for pool in self._pools or []:
            if pool.get("provisioning_status") == "ERROR":
                bad.append(label("pool", pool))
            for member in self._members.get(pool["id"], []):
                if member.get("provisioning_status") == "ERROR":
                    bad.append(label("member", member, label("pool", pool)))
            hm = self._hms.get(pool.get("healthmonitor_id"))
            if hm and hm.get("provisioning_status") == "ERROR":
                bad.append(label("health_monitor", hm, label("pool", pool)))
        return bad

    def tree(self, listeners=True, pools=True, members=True, healthmonitors=True, l7policies=True):
        """The load balancer with its children nested, as Octavia's API names them."""
        out = dict(self.lb)
        if listeners:
            out["listeners"] = []
            for li in self.listeners():
                item = dict(li)
                if l7policies:
                    item["l7policies"] = [dict(p, rules=list(self.rules(p))) for p in self.l7policies(li)]
                out["listeners"].append(item)
        if pools:
            out["pools"] = []
            if healthmonitors:
                self.prefetch_healthmonitors(self.pools())
            for pool in self.pools():
                item = dict(pool)
                if members:
                    item["members"] = list(self.members(pool))
                if healthmonitors:
                    item["healthmonitor"] = self.healthmonitor(pool)
                out["pools"].append(item)
        return out


# ---------------------------------------------------------------------------------------
# Planning
# ---------------------------------------------------------------------------------------

class Ref:
    """An object ID not known at planning time (the object is created by an earlier op)."""

    def __init__(self, kind, key):
        self.kind = kind
        self.key = key

    def __repr__(self):
        return "Ref(%s, %r)" % (self.kind, self.key)

    def __eq__(self, other):
        return isinstance(other, Ref) and (self.kind, self.key) == (other.kind, other.key)

    def __hash__(self):
        return hash((self.kind, self.key))


def resolve(value, ids):
    if isinstance(value, Ref):
        try:
            return ids[(value.kind, value.key)]
        except KeyError:
            raise ModuleError("Internal error: %s %r has no ID yet" % (value.kind, value.key)) from None
    if isinstance(value, dict):
        return {k: resolve(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, ids) for v in value]
    if isinstance(value, tuple):
        return value[0] % tuple(resolve(v, ids) for v in value[1:])
    return value


class Op:
    """One planned write."""

    def __init__(self, action, kind, what, method, path, body=None, params=None, changes=None, record=None,
                 resource=None, summary=None, detail=None, lookup=None, replan=None):
        self.action = action      # create, update, delete, batch-update, failover
        self.kind = kind
        self.what = what          # human label of the object
        self.method = method
        self.path = path          # str, or (template, Ref, ...) resolved at execution
        self.body = body
        self.params = params
        self.changes = changes or {}
        self.record = record      # (kind, key) to remember the created object's ID under
        self.resource = resource  # response key holding the created object
        self.summary = summary    # extra text for describe()
        self.detail = detail      # extra result data (the member batch's lists)
        # lookup: (collection path, plural, query, match(obj) -> bool) that finds the
        # object a create makes, to tell after an ambiguous answer (503) whether it exists
        self.lookup = lookup
        # replan(api, path) -> body or None: a member batch made again from the members
        # as they are now (another client changed the pool meanwhile: 409)
        self.replan = replan

    def describe(self):
        text = "%s %s" % (self.action, self.what)
        if self.changes:
            text += " (%s)" % ", ".join(sorted(self.changes))
        if self.summary:
            text += " (%s)" % self.summary
        return text

    def as_dict(self):
        out = {"action": self.action, "kind": self.kind, "object": self.what, "method": self.method}
        if self.changes:
            out["changes"] = {k: {"before": v[0], "after": v[1]} for k, v in self.changes.items()}
        if self.summary:
            out["summary"] = self.summary
        if self.detail:
            out.update(self.detail)
        return out

    def __repr__(self):
        return "<Op %s>" % self.describe()


# Execution order of a plan: deletes that free something the plan needs first (policies,
# whose positions the plan counts on; a listener whose default pool a listener of the
# task takes over), creates of objects others point at before the pointers, and the other
# deletes last, once what replaces them exists: a create that fails then leaves the old
# object in place.
PHASES = ("lb", "delete_policy", "delete_listener", "create_pool", "pool", "listener",
          "create_listener", "policy", "rule", "delete_rule", "delete_listener_late", "delete_hm", "delete_member",
          "delete_pool", "failover")


class Planner:
    """Turns (wanted, current) into the fewest writes, in dependency order."""

    def __init__(self, current, validator=None):
        self.current = current
        self.ops = {phase: [] for phase in PHASES}
        self.ids = {}
        self.before = {}
        self.after = {}
        self.new_pools = {}       # name -> protocol, pools this plan creates
        self.v = validator or Validator()
        if current is not None and current.lb is not None:
            self.ids[("loadbalancer", None)] = current.lb["id"]

    def add(self, phase, op):
        self.ops[phase].append(op)

    def plan(self):
        return [op for phase in PHASES for op in self.ops[phase]]

    @staticmethod
    def require_create(kind, want, what):
        """Fields Octavia needs to create an object (updates need none of them)."""
        missing = [f.name for f in SPECS[kind].fields.values() if f.create_required and want.get(f.name) is None]
        if missing:
            raise ModuleError("%s %s required to create %s"
                              % (", ".join(join_path(want.get("_path", ""), m) for m in missing),
                                 "is" if len(missing) == 1 else "are", what))

    # -- references ---------------------------------------------------------------------
    def pool_ref(self, ref, path):
        """A pool name or ID → (name, id-or-Ref); fails naming the field if unknown."""
        if ref in self.new_pools:
            return ref, Ref("pool", ref)
        pool = self.current.find_pool(ref) if self.current is not None and self.current.lb else None
        if pool is None:
            raise ModuleError("%s: pool %s is not defined in this task and does not exist in load balancer %s"
                              % (path or "pool", ref, (self.current.lb or {}).get("name") if self.current else "?"))
        return pool.get("name") or pool["id"], pool["id"]

    def pool_protocol(self, name):
        if name in self.new_pools:
            return self.new_pools[name]
        pool = self.current.find_pool(name) if self.current is not None and self.current.lb else None
        return pool.get("protocol") if pool else None

    def _refs(self, field_path):
        def refs(name):
            return self.pool_ref(name, field_path)[1]
        return refs

    def _normalize_pool_ref(self, want, field):
        """Replace a pool ID given by the task with the pool's name (option space)."""
        value = want.get(field)
        if value:
            want[field] = self.pool_ref(value, join_path(want.get("_path", ""), field))[0]

    # -- load balancer -------------------------------------------------------------------
    def loadbalancer(self, want, resolved):
        """Update the load balancer's own fields. `resolved` holds the IDs of VIP
        subnet/network/port and flavor looked up by name."""
        have = LOADBALANCER.view(self.current.lb)
        want = dict(want, **{k: v for k, v in resolved.items() if v is not None})
        if want.get("provider") and have.get("provider"):
            want["provider"] = _provider_alias(want["provider"], have["provider"])
        what = label("loadbalancer", self.current.lb)
        changes = diff_fields("loadbalancer", want, have)
        changes.pop("name", None)
        refuse_immutable("loadbalancer", what, changes)
        self.before = public(have)
        self.after = public(apply_changes(have, changes))
        if changes:
            self.add("lb", Op("update", "loadbalancer", what, "PUT", "/lbaas/loadbalancers/%s" % self.current.lb_id,
                              {"loadbalancer": LOADBALANCER.body(want, only=changes)}, changes=changes))
        return changes

    # -- listeners -----------------------------------------------------------------------
    def listeners(self, wanted, purge):
        current = list(self.current.listeners())
        by_key = {}
        for li in current:
            by_key.setdefault(listener_key(li), []).append(li)
        before, after = [], []
        matched = set()
        for want in wanted:
            found = by_key.get(listener_key(want)) or []
            have = found[0] if found else None
            if have is not None:
                matched.add(have["id"])
            b, a = self.listener(want, have, purge_l7policies=True)
            if b is not None:
                before.append(b)
            after.append(a)
        # a pool is the default pool of one listener at most: a listener whose pool a
        # listener of the task takes has to go first; any other goes after the creates
        taken = {w.get("default_pool") for w in wanted if w.get("default_pool")}
        names = self.current.pool_names() if taken else {}
        for li in current:
            if li["id"] in matched:
                continue
            view = self.listener_view(li)
            before.append(view)
            if purge:
                early = li.get("default_pool_id") and names.get(li["default_pool_id"]) in taken
                self.add("delete_listener" if early else "delete_listener_late",
                         Op("delete", "listener", label("listener", li), "DELETE", "/lbaas/listeners/%s" % li["id"]))
            else:
                after.append(view)
        return before, after

    def listener_view(self, li, policies=False):
        view = LISTENER.view(li, self.current.pool_names() if li.get("default_pool_id") else None)
        if policies:
            view["l7policies"] = [self.l7policy_view(p) for p in self.current.l7policies(li)]
        return public(view)

    def listener(self, want, have, purge_l7policies=True, parent=None):
        """Plan one listener; returns its (before, after) views for the diff."""
        what = label("listener", want, parent)
        path = want.get("_path", "")
        if want.get("default_pool"):
            self._normalize_pool_ref(want, "default_pool")
            self.v.pool_for_listener(want["protocol"], self.pool_protocol(want["default_pool"]),
                                     join_path(path, "default_pool"), want["default_pool"])
            self.v.raise_if_any()
        key = listener_key(want)
        if have is None:
            self.require_create("listener", want, what)
            body = LISTENER.body(want, refs=self._refs(join_path(path, "default_pool")))
            body["loadbalancer_id"] = self.current.lb_id
            self.add("create_listener", Op("create", "listener", what, "POST", "/lbaas/listeners", {"listener": body},
                                           record=("listener", key), resource="listener",
                                           lookup=("/lbaas/listeners", "listeners",
                                                   {"loadbalancer_id": self.current.lb_id,
                                                    "protocol_port": want["protocol_port"]},
                                                   lambda li, key=key: listener_key(li) == key)))
            after = public(LISTENER.predict(want))
            if want.get("l7policies") is not None:
                after["l7policies"] = self.l7policies(want["l7policies"], None, Ref("listener", key), what, True,
                                                      want.get("protocol"))[1]
            return None, after
        self.ids[("listener", key)] = have["id"]
        view = LISTENER.view(have, self.current.pool_names() if have.get("default_pool_id") else None)
        changes = diff_fields("listener", want, view)
        refuse_immutable("listener", what, changes)
        if changes:
            self.add("listener", Op("update", "listener", what, "PUT", "/lbaas/listeners/%s" % have["id"],
                                    {"listener": LISTENER.body(want, refs=self._refs(join_path(path, "default_pool")),
                                                               only=changes)}, changes=changes))
        before, after = public(view), public(apply_changes(view, changes))
        if want.get("l7policies") is not None:
            before["l7policies"], after["l7policies"] = self.l7policies(
                want["l7policies"], have, have["id"], what, purge_l7policies, have.get("protocol"))
        return before, after

    # -- L7 policies and rules -----------------------------------------------------------
    def l7policy_view(self, policy, rules=True):
        view = L7POLICY.view(policy, self.current.pool_names() if policy.get("redirect_pool_id") else None)
        if rules:
            view["rules"] = [public(L7RULE.view(r)) for r in self.current.rules(policy)]
        return public(view)

    def l7policies(self, wanted, listener, listener_id, parent, purge, listener_protocol=None):
        """Plan a listener's policies. Octavia keeps their positions 1..N itself: a
        delete closes the gap, a create or a move to position p shifts the others down,
        and a position beyond the end means the end. The planner replays that on the
        list it expects, so only the policies that really move get a position update
        (inserting one policy first is one create, not a create and N moves)."""
        current = self.current.l7policies(listener) if listener is not None else []
        matched = set()
        pairs = []
        for want in wanted:
            have = None
            if listener is not None:
                by_name = [p for p in current if want.get("name") and p.get("name") == want["name"]]
                if len(by_name) > 1:
                    raise ModuleError("%d L7 policies of %s are named %s; names must be unique to be managed"
                                      % (len(by_name), parent, want["name"]))
                have = by_name[0] if by_name else None
                if have is None and not want.get("name") and want.get("position") is not None:
                    have = next((p for p in current if p.get("position") == want["position"] and p["id"] not in matched), None)
            if have is not None:
                matched.add(have["id"])
            pairs.append((want, have))
        before = []
        # what stays after the deletes (which run first), in Octavia's order
        order = []
        for policy in current:
            if policy["id"] in matched:
                order.append(policy["id"])
                continue
            view = self.l7policy_view(policy)
            before.append(view)
            if purge:
                self.add("delete_policy", Op("delete", "l7policy", label("l7policy", policy, parent), "DELETE",
                                             "/lbaas/l7policies/%s" % policy["id"]))
            else:
                order.append(policy["id"])
        # The order the task wants: each policy inserted at its position (a position
        # beyond the end is the end; ties keep the task's order) among what stays.
        tokens = [have["id"] if have is not None else ("new", i) for i, (want, have) in enumerate(pairs)]
        ranked = sorted(range(len(pairs)), key=lambda i: (
            pairs[i][0].get("position") or (order.index(tokens[i]) + 1 if tokens[i] in order else MAX_POLICY_POSITION), i))
        target = [t for t in order if t not in tokens]
        for i in ranked:
            at = min(pairs[i][0].get("position") or MAX_POLICY_POSITION, len(target) + 1)
            target.insert(at - 1, tokens[i])
        # Reach it left to right: a create at, or a move to, position n fixes 1..n.
        views = {}
        index = {t: i for i, t in enumerate(tokens)}
        for at, token in enumerate(target, start=1):
            if token not in index:
                continue
            want, have = pairs[index[token]]
            key = want.get("name") or want.get("position")
            if have is None:
                order.insert(at - 1, token)
                b, a = self.l7policy(dict(want, position=at), None, listener_id, parent,
                                     listener_protocol=listener_protocol, key=key)
            else:
                now = order.index(token) + 1
                order.remove(token)
                order.insert(at - 1, token)
                b, a = self.l7policy(dict(want, position=at), dict(have, position=now), listener_id, parent,
                                     listener_protocol=listener_protocol, key=key)
                b["position"] = have.get("position")
                before.append(b)
            views[token] = a
        after = []
        for position, token in enumerate(order, start=1):
            view = views.get(token) or self.l7policy_view(next(p for p in current if p["id"] == token))
            after.append(dict(view, position=position))
        return before, after

    def l7policy(self, want, have, listener_id, parent, purge_rules=True, listener_protocol=None, key=None):
        """Plan one policy. `key` identifies it in the plan (its name, or the position the
        task gave); l7policies() passes `want` and `have` with the positions it expects
        Octavia to see at that point."""
        what = label("l7policy", want, parent)
        path = want.get("_path", "")
        if want.get("redirect_pool"):
            self._normalize_pool_ref(want, "redirect_pool")
            if listener_protocol:
                self.v.pool_for_listener(listener_protocol, self.pool_protocol(want["redirect_pool"]),
                                         join_path(path, "redirect_pool"), want["redirect_pool"])
                self.v.raise_if_any()
        pkey = (str(listener_id), key if key is not None else want.get("name") or want.get("position"))
        if have is None:
            if listener_protocol and listener_protocol not in L7_LISTENER_PROTOCOLS:
                raise ModuleError("listener: L7 policies only work on HTTP and TERMINATED_HTTPS listeners, not %s (%s)"
                                  % (listener_protocol, parent))
            self.require_create("l7policy", want, what)
            body = L7POLICY.body(want, refs=self._refs(join_path(path, "redirect_pool")))
            body["listener_id"] = listener_id
            lookup = None
            if want.get("name"):
                lookup = ("/lbaas/l7policies", "l7policies", {"listener_id": listener_id, "name": want["name"]},
                          lambda policy: True)
            self.add("policy", Op("create", "l7policy", what, "POST", "/lbaas/l7policies", {"l7policy": body},
                                  record=("l7policy", pkey), resource="l7policy", lookup=lookup))
            after = public(L7POLICY.predict(want))
            if want.get("rules") is not None:
                after["rules"] = self.rules(want["rules"], None, Ref("l7policy", pkey), what, True)[1]
            return None, after
        self.ids[("l7policy", pkey)] = have["id"]
        view = L7POLICY.view(have, self.current.pool_names() if have.get("redirect_pool_id") else None)
        changes = diff_fields("l7policy", want, view)
        refuse_immutable("l7policy", what, changes)
        if changes:
            only = set(changes)
            if "action" in changes:
                only |= {n for n in ("redirect_pool", "redirect_url", "redirect_prefix") if want.get(n)}
            self.add("policy", Op("update", "l7policy", what, "PUT", "/lbaas/l7policies/%s" % have["id"],
                                  {"l7policy": L7POLICY.body(want, refs=self._refs(join_path(path, "redirect_pool")),
                                                             only=only)}, changes=changes))
        before, after = public(view), public(apply_changes(view, changes))
        if want.get("rules") is not None:
            before["rules"], after["rules"] = self.rules(want["rules"], have, have["id"], what, purge_rules)
        return before, after

    def rules(self, wanted, policy, policy_id, parent, purge):
        current = self.current.rules(policy) if policy is not None else []
        by_key = {}
        for rule in current:
            by_key.setdefault(rule_key(L7RULE.view(rule)), rule)
        before = [public(L7RULE.view(r)) for r in current]
        after = []
        matched = set()
        for want in wanted:
            have = by_key.get(rule_key(want))
            what = label("l7rule", want, parent)
            if have is None:
                body = L7RULE.body(want)
                self.add("rule", Op("create", "l7rule", what, "POST", ("/lbaas/l7policies/%s/rules", policy_id),
                                    {"rule": body}, resource="rule",
                                    lookup=(("/lbaas/l7policies/%s/rules", policy_id), "rules", None,
                                            lambda rule, key=rule_key(want): rule_key(L7RULE.view(rule)) == key)))  # noqa: B008 (binds this rule's key)
                after.append(public(L7RULE.predict(want)))
                continue
            matched.add(have["id"])
            view = L7RULE.view(have)
            changes = diff_fields("l7rule", want, view)
            if changes:
                self.add("rule", Op("update", "l7rule", what, "PUT", "/lbaas/l7policies/%s/rules/%s" % (policy_id, have["id"]),
                                    {"rule": L7RULE.body(want, only=changes)}, changes=changes))
            after.append(public(apply_changes(view, changes)))
        for rule in current:
            if rule["id"] not in matched:
                if purge:
                    self.add("delete_rule", Op("delete", "l7rule", label("l7rule", L7RULE.view(rule), parent), "DELETE",
                                               "/lbaas/l7policies/%s/rules/%s" % (policy_id, rule["id"])))
                else:
                    after.append(public(L7RULE.view(rule)))
        return before, after

    # -- pools, members, health monitors -------------------------------------------------------
    def pools(self, wanted, purge, referenced=()):
        current = list(self.current.pools()) if self.current.lb else []
        by_name = {}
        for pool in current:
            if pool.get("name"):
                by_name.setdefault(pool["name"], []).append(pool)
        for want in wanted:
            if len(by_name.get(want["name"], [])) > 1:
                raise ModuleError("Load balancer %s has %d pools named %s; pool names must be unique to be managed"
                                  % (self.current.lb.get("name"), len(by_name[want["name"]]), want["name"]))
            if not by_name.get(want["name"]):
                self.new_pools[want["name"]] = want.get("protocol")
        needs_hm = [by_name[w["name"]][0] for w in wanted if by_name.get(w["name"]) and w.get("healthmonitor") is not None]
        self.current.prefetch_healthmonitors(needs_hm)
        before, after = [], []
        matched = set()
        for want in wanted:
            have = (by_name.get(want["name"]) or [None])[0]
            if have is not None:
                matched.add(have["id"])
            b, a = self.pool(want, have)
            if b is not None:
                before.append(b)
            after.append(a)
        for pool in current:
            if pool["id"] in matched:
                continue
            view = public(POOL.view(pool))
            before.append(view)
            if purge and (pool.get("name") or pool["id"]) not in referenced:
                self.add("delete_pool", Op("delete", "pool", label("pool", pool), "DELETE", "/lbaas/pools/%s" % pool["id"]))
            else:
                after.append(view)
        return before, after

    def pool(self, want, have, listener_id=None):
        """Plan one pool with its members and health monitor. A new pool created with
        `listener_id` becomes that listener's default pool (pool module)."""
        what = label("pool", want)
        name = want["name"]
        if have is None:
            self.require_create("pool", want, what)
            self.new_pools[name] = want.get("protocol")
            body = POOL.body(want)
            body["loadbalancer_id"] = self.current.lb_id
            if listener_id:
                body["listener_id"] = listener_id
            self.add("create_pool", Op("create", "pool", what, "POST", "/lbaas/pools", {"pool": body},
                                       record=("pool", name), resource="pool",
                                       lookup=("/lbaas/pools", "pools", {"loadbalancer_id": self.current.lb_id, "name": name},
                                               lambda pool: True)))
            after = public(POOL.predict(want))
            if want.get("members"):
                after["members"] = self.members(want["members"], [], Ref("pool", name), what, False, phase="create_pool")[1]
            if want.get("healthmonitor") is not None:
                after["healthmonitor"] = self.healthmonitor(want["healthmonitor"], None, Ref("pool", name), what,
                                                            want.get("protocol"), phase="create_pool")[1]
            return None, after
        self.ids[("pool", name)] = have["id"]
        view = POOL.view(have)
        changes = diff_fields("pool", want, view)
        refuse_immutable("pool", what, changes)
        if changes:
            body = POOL.body(want, only=changes)
            if "session_persistence" in changes and not (want.get("session_persistence") or {}).get("type"):
                body["session_persistence"] = None
            self.add("pool", Op("update", "pool", what, "PUT", "/lbaas/pools/%s" % have["id"], {"pool": body},
                                changes=changes))
        before, after = public(view), public(apply_changes(view, changes))
        if want.get("members") is not None:
            before["members"], after["members"] = self.members(
                want["members"], self.current.members(have), have["id"], what, bool(want.get("additive_only")))
        if want.get("healthmonitor") is not None:
            before["healthmonitor"], after["healthmonitor"] = self.healthmonitor(
                want["healthmonitor"], self.current.healthmonitor(have), have["id"], what, view.get("protocol"))
        return before, after

    def members(self, wanted, current, pool_id, parent, additive_only, phase="pool"):
        """All member changes of a pool in ONE batch PUT (Octavia matches members on
        address + protocol_port). Unlisted members are deleted unless additive_only."""
        by_key = {}
        for member in current:
            by_key[member_key(MEMBER.view(member))] = member
        batch, created, updated, repaired, kept = [], [], [], [], []
        after = []
        for want in wanted:
            have = by_key.get(member_key(want))
            if have is None:
                batch.append(MEMBER.body(want))
                created.append(label("member", want))
                after.append(public(MEMBER.predict(want)))
                continue
            view = MEMBER.view(have)
            changes = diff_fields("member", want, view)
            refuse_immutable("member", label("member", want, parent), changes)
            merged = apply_changes(view, changes)
            entry = MEMBER.body(merged)
            if changes:
                updated.append(label("member", want))
                batch.append(entry)
            elif have.get("provisioning_status") == "ERROR":
                # Octavia left it in ERROR (a failed flow): sending it again retries the change
                repaired.append(label("member", want))
                batch.append(entry)
            elif not additive_only:
                kept.append(entry)
            after.append(public(merged))
        listed = {member_key(w) for w in wanted}
        deleted = [label("member", MEMBER.view(m)) for m in current if member_key(MEMBER.view(m)) not in listed]
        if additive_only:
            after.extend(public(MEMBER.view(m)) for m in current if member_key(MEMBER.view(m)) not in listed)
            deleted = []
        before = [public(MEMBER.view(m)) for m in current]
        if created or updated or deleted or repaired:
            body_members = batch + kept if not additive_only else batch
            summary = []
            for word, items in (("add", created), ("update", updated), ("retry", repaired), ("delete", deleted)):
                if items:
                    summary.append("%s %d" % (word, len(items)))
            self.add(phase, Op("batch-update", "member", "members of %s" % parent, "PUT", ("/lbaas/pools/%s/members", pool_id),
                               {"members": _sorted_members(body_members)},
                               params={"additive_only": "true"} if additive_only else None,
                               summary=", ".join(summary),
                               detail={"created": created, "updated": updated, "deleted": deleted,
                                       **({"retried": repaired} if repaired else {})},
                               replan=_member_replan(wanted, additive_only)))
        return before, after

    def healthmonitor(self, want, have, pool_id, parent, pool_protocol=None, phase="pool"):
        what = label("health_monitor", want, parent)
        if pool_protocol:
            self.v.health_monitor(dict(want, type=want.get("type") or (have or {}).get("type")), pool_protocol)
            self.v.raise_if_any()
        if have is None:
            self.require_create("health_monitor", want, what)
            body = HEALTH_MONITOR.body(want)
            body["pool_id"] = pool_id
            self.add(phase, Op("create", "health_monitor", what, "POST", "/lbaas/healthmonitors",
                               {"healthmonitor": body}, resource="healthmonitor",
                               lookup=("/lbaas/healthmonitors", "healthmonitors", {"pool_id": pool_id},
                                       lambda hm: True)))
            return None, public(HEALTH_MONITOR.predict(want))
        view = HEALTH_MONITOR.view(have)
        changes = diff_fields("health_monitor", want, view)
        refuse_immutable("health_monitor", what, changes)
        if changes:
            self.add(phase, Op("update", "health_monitor", what, "PUT", "/lbaas/healthmonitors/%s" % have["id"],
                               {"healthmonitor": HEALTH_MONITOR.body(want, only=changes)}, changes=changes))
        return public(view), public(apply_changes(view, changes))


def _member_replan(wanted, additive_only):
    def replan(api, path):
        now = api.list(path, "members")
        return batch_members_body(wanted, now, additive_only)
    return replan


def _sorted_members(members):
    """Members in address order (a stable, readable batch body)."""
    def key(member):
        try:
            address = ipaddress.ip_address(member["address"])
            return (address.version, int(address), member["protocol_port"])
        except ValueError:
            return (9, 0, member["protocol_port"])
    return sorted(members, key=key)


def _provider_alias(want, have):
    """Octavia reports the default provider `octavia` as `amphora`."""
    if want == "octavia" and have == "amphora":
        return have
    return want


def tree_plan(desired, current, purge_listeners=True, purge_pools=True, resolved=None):
    """Plan a `loadbalancer` task against an existing load balancer.

    Returns (ops, before, after): the writes in order, and the diff views."""
    planner = Planner(current)
    planner.loadbalancer(desired["loadbalancer"], resolved or {})
    before, after = dict(planner.before), dict(planner.after)
    pools = desired.get("pools")
    referenced = {ref[0] for ref in _referenced_pools(desired.get("listeners"))}
    if pools is not None:
        purge = purge_pools and desired.get("pools_given", True)
        before["pools"], after["pools"] = planner.pools(pools, purge, referenced)
    if desired.get("listeners") is not None:
        before["listeners"], after["listeners"] = planner.listeners(desired["listeners"], purge_listeners)
    return planner.plan(), before, after


# ---------------------------------------------------------------------------------------
# The fully-populated create (one POST for a whole new load balancer)
# ---------------------------------------------------------------------------------------

def graph_body(desired, resolved=None):
    """Body of POST /v2/lbaas/loadbalancers with every listener, pool, member, health
    monitor, L7 policy and rule. Pools are defined once, at the load balancer level;
    listeners and policies refer to them by name ({"name": ...})."""
    lb = dict(desired["loadbalancer"])
    lb.update({k: v for k, v in (resolved or {}).items() if v is not None})
    body = LOADBALANCER.body(lb)
    for name in ("vip_subnet", "vip_network", "vip_port", "flavor"):
        api = LOADBALANCER.fields[name].api
        if api in body and not is_uuid(body[api]):
            raise ModuleError("Internal error: %s %r was not resolved to an ID" % (name, body[api]))
    pool_names = {p["name"] for p in desired.get("pools") or []}
    body["pools"] = []
    for pool in desired.get("pools") or []:
        item = POOL.body(pool)
        if pool.get("members"):
            item["members"] = [MEMBER.body(m) for m in pool["members"]]
        if pool.get("healthmonitor") is not None:
            item["healthmonitor"] = HEALTH_MONITOR.body(pool["healthmonitor"])
        body["pools"].append(item)
    body["listeners"] = []
    for listener in desired.get("listeners") or []:
        item = LISTENER.body(listener, refs=lambda name: name)
        pool = item.pop("default_pool_id", None)
        if pool:
            if pool not in pool_names:
                raise ModuleError("%s: pool %s is not defined in this task (a new load balancer has no other pools)"
                                  % (join_path(listener["_path"], "default_pool"), pool))
            item["default_pool"] = {"name": pool}
        policies = []
        for policy in listener.get("l7policies") or []:
            pitem = L7POLICY.body(policy, refs=lambda name: name)
            target = pitem.pop("redirect_pool_id", None)
            if target:
                if target not in pool_names:
                    raise ModuleError("%s: pool %s is not defined in this task"
                                      % (join_path(policy["_path"], "redirect_pool"), target))
                pitem["redirect_pool"] = {"name": target}
            if policy.get("rules"):
                pitem["rules"] = [L7RULE.body(r) for r in policy["rules"]]
            policies.append(pitem)
        if policies:
            item["l7policies"] = policies
        body["listeners"].append(item)
    if not body["pools"]:
        del body["pools"]
    if not body["listeners"]:
        del body["listeners"]
    return {"loadbalancer": body}


def predict_tree(desired):
    """The diff's `after` for a load balancer that does not exist yet."""
    after = public(LOADBALANCER.predict(desired["loadbalancer"]))
    if desired.get("pools") is not None:
        after["pools"] = []
        for pool in desired["pools"]:
            item = public(POOL.predict(pool))
            if pool.get("members") is not None:
                item["members"] = [public(MEMBER.predict(m)) for m in pool["members"]]
            if pool.get("healthmonitor") is not None:
                item["healthmonitor"] = public(HEALTH_MONITOR.predict(pool["healthmonitor"]))
            after["pools"].append(item)
    if desired.get("listeners") is not None:
        after["listeners"] = []
        for listener in desired["listeners"]:
            item = public(LISTENER.predict(listener))
            if listener.get("l7policies") is not None:
                item["l7policies"] = []
                for policy in listener["l7policies"]:
                    pitem = public(L7POLICY.predict(policy))
                    if policy.get("rules") is not None:
                        pitem["rules"] = [public(L7RULE.predict(r)) for r in policy["rules"]]
                    item["l7policies"].append(pitem)
            after["listeners"].append(item)
    return after


def batch_members_body(wanted, current=(), additive_only=False):
    """The body of PUT /v2/lbaas/pools/{id}/members for a wanted member list: every
    listed member, existing ones with their current values for options the task does
    not give (so the PUT never resets them)."""
    current = list(current)
    planner = Planner(Current(None, {"id": "-"}, pools=[], members={"-": current}))
    planner.members(wanted, current, "-", "pool", additive_only)
    ops = planner.plan()
    return ops[0].body if ops else None


# ---------------------------------------------------------------------------------------
# The module base: connection, execution of a plan, results
# ---------------------------------------------------------------------------------------

PROJECT_OPTION = {"type": "str"}


class ParentLookup:
    """Find an object's parents given by name or ID. Names are looked up inside the
    parent (a pool name in its load balancer, a policy name in its listener); an ID
    alone is enough, its parents are read from it. A load balancer's name is looked up
    in one project only: the task's `project`, or the caller's own."""

    def scope_project(self):
        """The ID of the project name lookups are limited to."""
        wanted = self.params.get("project")
        if not wanted:
            project = getattr(self.conn, "current_project_id", None)
            if not project:
                raise ModuleError("Cannot tell which project the credentials are scoped to; give project")
            return project
        own = getattr(self.conn, "current_project_id", None)
        if wanted == own:
            return own
        try:
            found = self.conn.identity.find_project(wanted, ignore_missing=True)
        except Exception as exc:  # pylint: disable=broad-except
            raise ModuleError("project: cannot look up %s (%s); give the project's ID" % (wanted, exc)) from None
        if found is None:
            raise ModuleError("project: %s not found" % wanted)
        return found.id

    def find_loadbalancer(self, ref, required=True):
        lb = self.api.find_loadbalancer(ref) if ref else None
        if lb is None and required:
            raise ModuleError("Load balancer %s not found" % ref)
        return lb

    def lookup_lb(self, ref, required=True):
        return self.find_loadbalancer(ref, required)

    def lookup_pool(self, pool_ref, lb_ref=None, required=True):
        """-> (Current of the pool's load balancer, pool) or (None, None)."""
        if lb_ref:
            lb = self.lookup_lb(lb_ref, required)
            if lb is None:
                return None, None
            current = Current(self.api, lb)
            pool = current.find_pool(pool_ref)
        elif is_uuid(pool_ref):
            found = self.api.get("/lbaas/pools/%s" % pool_ref, missing_ok=True)
            pool = found.get("pool") if found else None
            lb = self.api.get_loadbalancer(pool["loadbalancers"][0]["id"]) if pool else None
            current = Current(self.api, lb) if lb else None
        else:
            raise ModuleError("pool: %s is a name; give loadbalancer too (pool names are looked up in their load balancer)"
                              % pool_ref)
        if pool is None and required:
            raise ModuleError("Pool %s not found%s" % (pool_ref, " in load balancer %s" % lb_ref if lb_ref else ""))
        return current, pool

    def lookup_listener(self, listener_ref, lb_ref=None, required=True):
        """-> (Current, listener) or (None, None). A listener is PROTOCOL:PORT, a name or an ID."""
        if lb_ref:
            lb = self.lookup_lb(lb_ref, required)
            if lb is None:
                return None, None
            current = Current(self.api, lb)
            listener = current.find_listener(listener_ref)
        elif is_uuid(listener_ref):
            found = self.api.get("/lbaas/listeners/%s" % listener_ref, missing_ok=True)
            listener = found.get("listener") if found else None
            lb = self.api.get_loadbalancer(listener["loadbalancers"][0]["id"]) if listener else None
            current = Current(self.api, lb) if lb else None
        else:
            raise ModuleError("listener: %s is not an ID; give loadbalancer too" % listener_ref)
        if listener is None and required:
            raise ModuleError("Listener %s not found%s" % (listener_ref, " in load balancer %s" % lb_ref if lb_ref else ""))
        return current, listener

    def lookup_l7policy(self, policy_ref, listener_ref=None, lb_ref=None, required=True):
        """-> (Current, listener, policy) or (None, None, None)."""
        if listener_ref:
            current, listener = self.lookup_listener(listener_ref, lb_ref, required)
            if listener is None:
                return None, None, None
            policy = current.find_l7policy(listener, policy_ref)
        elif is_uuid(policy_ref):
            found = self.api.get("/lbaas/l7policies/%s" % policy_ref, missing_ok=True)
            policy = found.get("l7policy") if found else None
            current, listener = (self.lookup_listener(policy["listener_id"], None, required) if policy else (None, None))
        else:
            raise ModuleError("l7policy: %s is not an ID; give listener (and loadbalancer) too" % policy_ref)
        if policy is None and required:
            raise ModuleError("L7 policy %s not found" % policy_ref)
        return current, listener, policy


class LbaasModule(ParentLookup, CloudModule):
    """Base of every octavia.lbaas load-balancer module.

    A module sets ``argument_spec`` (object options from ``SPECS[kind].argspec()``),
    implements ``run()`` with ``self.api`` (counted, retrying client), ``self.current_of``
    (lazy reader of one load balancer), ``Planner`` and ``self.execute(ops, lb_id)``, and
    ends with ``self.finish(...)``, which adds ``api_calls`` and the diff."""

    wait_options = True

    def __init__(self):
        super().__init__()
        self._api = None
        self.ids = {}

    @property
    def api(self):
        if self._api is None:
            self._api = OctaviaApi(self.conn, self.deadline or Deadline(self.params.get("api_timeout") or 300),
                                   project=self.scope_project)
        return self._api

    def calls(self):
        return self._api.calls() if self._api is not None else {"writes": 0, "reads": 0}

    def find_loadbalancer(self, ref, required=True):
        lb = self.api.find_loadbalancer(ref)
        if lb is not None and lb.get("provisioning_status") == "PENDING_DELETE":
            self.api.wait_ready(lb["id"], "the deletion of load balancer %s" % ref, gone_ok=True)
            lb = None
        if lb is None and required:
            raise ModuleError("Load balancer %s not found" % ref)
        return lb

    def current_of(self, lb):
        return Current(self.api, lb)

    def execute(self, ops, lb_id, lb_status=None, ids=None, wait=None):
        """Run the plan. Before each write the load balancer must have left PENDING_*
        (Octavia rejects writes otherwise); after the last one wait for ACTIVE when
        `wait`. An op that creates the load balancer itself (record
        ("loadbalancer", None)) provides lb_id for the rest. Returns the load balancer
        as the last wait saw it (None when nothing waited)."""
        wait = self.params.get("wait", True) if wait is None else wait
        ids = dict(ids or {})
        pending = bool(lb_status and lb_status.startswith(PENDING_PREFIX))
        last = None
        done = []
        for op in ops:
            if pending and lb_id and not self.check_mode:
                self.api.wait_ready(lb_id, last or "the load balancer to be ready")
            try:
                result = self.write(op.describe(), self._perform, op, ids, lb_id)
            except ModuleError as exc:
                gone = [d.what for d in done if d.action == "delete"]
                if done:
                    exc.msg += " (Before it: %s.%s)" % ("; ".join(d.describe() for d in done),
                                                        " Gone now: %s." % ", ".join(gone) if gone else "")
                    exc.extra.setdefault("done", [d.describe() for d in done])
                raise
            done.append(op)
            if op.record and result:
                ids[op.record] = (result.get(op.resource) or {}).get("id")
                if op.record == ("loadbalancer", None):
                    lb_id = ids[op.record]
            pending = True
            last = op.describe()
        self.ids = ids
        if pending and lb_id and wait and not self.check_mode and ops:
            return self.api.wait_ready(lb_id, last)
        return None

    def _perform(self, op, ids, lb_id):
        path = resolve(op.path, ids)

        def before_retry(status):
            if status == 503 and op.method == "POST" and op.lookup:
                # the create may have happened before the answer was lost: never make two
                collection, plural, query, match = op.lookup
                found = [obj for obj in self.api.list(resolve(collection, ids), plural, resolve(query, ids))
                         if match(obj) and obj.get("provisioning_status") != "DELETED"]
                if found:
                    return ("done", {op.resource: found[0]})
            if status == 409 and op.replan is not None:
                body = op.replan(self.api, path)
                return ("done", {}) if body is None else ("body", body)
            return None

        return self.api.request(op.method, path, body=resolve(op.body, ids), params=op.params,
                                what=op.describe(), lb_id=lb_id, before_retry=before_retry)

    def fail_on_error(self, lb_id, *objects):
        """After writes: Octavia puts the load balancer back to ACTIVE even when the flow
        for a child failed, and marks that child ERROR. Fail naming them, with the status
        tree. `objects` are (label, object) pairs, None objects skipped."""
        bad = [what for what, obj in objects if obj and obj.get("provisioning_status") == "ERROR"]
        if bad and not self.check_mode:
            raise ModuleError("Octavia put %s in ERROR; the controller worker's log has the cause" % ", ".join(bad),
                              status_tree=self.api.status_tree(lb_id))

    def fail(self, msg, **result):
        result.setdefault("api_calls", self.calls())
        if self.writes:
            result.setdefault("actions", list(self.writes))
        # a task that wrote before it failed did change something
        result.setdefault("changed", self.changed)
        super().fail(msg, **result)

    def finish(self, **result):
        result["api_calls"] = self.calls()
        result.setdefault("actions", list(self.writes))
        self.before, self.after = diff_order(self.before), diff_order(self.after)
        self.exit(**result)


def _member_order(member):
    try:
        address = ipaddress.ip_address(member.get("address"))
        return (address.version, int(address), member.get("protocol_port") or 0)
    except (TypeError, ValueError):
        return (9, 0, member.get("protocol_port") or 0)


DIFF_ORDER = {
    "listeners": lambda li: (li.get("protocol_port") or 0, str(li.get("protocol"))),
    "pools": lambda pool: str(pool.get("name")),
    "members": _member_order,
    "l7policies": lambda policy: (policy.get("position") or 0, str(policy.get("name"))),
    "rules": lambda rule: tuple(str(x) for x in rule_key(rule)),
}


def diff_order(obj):
    """The diff's before and after with children in one stable order (pools by name,
    members by address, ...): Octavia lists them in its own order, the task in yours,
    and a diff of two orders of the same things is noise."""
    if isinstance(obj, dict):
        out = {}
        for key, value in obj.items():
            value = diff_order(value)
            if key in DIFF_ORDER and isinstance(value, list) and all(isinstance(v, dict) for v in value):
                value = sorted(value, key=DIFF_ORDER[key])
            out[key] = value
        return out
    if isinstance(obj, list):
        return [diff_order(v) for v in obj]
    return obj


class LbaasInfoModule(ParentLookup, CloudModule):
    """Base of the *_info modules: never fail on not-found, never write."""

    wait_options = False

    def __init__(self):
        super().__init__()
        self._api = None

    @property
    def api(self):
        if self._api is None:
            self._api = OctaviaApi(self.conn, Deadline(self.params.get("api_timeout") or 120), project=self.scope_project)
        return self._api

    def finish(self, **result):
        result["api_calls"] = self._api.calls() if self._api else {"writes": 0, "reads": 0}
        result["changed"] = False
        self.ansible.exit_json(**result)
