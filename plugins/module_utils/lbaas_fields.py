# Copyright: octavia.lbaas contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Octavia's vocabulary (protocols, algorithms, limits and the patterns of its input
rules) and the building blocks of the engine's declarations: `Field` (one option of an
object: type, API name, updatability, default, value check), the value checks, `Child`
and `Spec`. The object types themselves are declared in lbaas_specs.py."""

from __future__ import annotations

import copy
import ipaddress
import json
import re

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.octavia.lbaas.plugins.module_utils.values import canonical_ip, is_ip, is_uuid

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
    as_json    a dict Octavia takes and returns as a JSON string (flavor_data): kept as
               the task gives it (any JSON values), compared as a dict, sent encoded;
               max_length is the length of its encoding
    clearable  a string the task clears with "" (vip_qos_policy_id): "" skips the value
               check and is sent as null, which is how Octavia removes it
    stores     a field of `Spec.secret_fields` (PEM text, tls_material.py): the module
               stores it in the key manager and sends the secret's ref as the field
               named here (default_tls_container_ref); `pem` is its kind: bundle, ca, crl
    A list of dicts (elements dict, with suboptions: additional_vips) compares as a set,
    each wanted item on the keys the task gives.
    """

    def __init__(self, name, type="str", api=None, doc="", updatable=True, required=False,
                 create_required=False, default=None, choices=None, elements=None, ordered=False,
                 minimum=None, maximum=None, check=None, ref=None, aliases=None, subset=False,
                 suboptions=None, no_log=None, max_length=MAX_STRING, nonempty=False, as_json=False,
                 clearable=False, stores=None, pem=None):
        # every argument is the attribute of the same name; three are filled in or copied
        vars(self).update((key, value) for key, value in locals().items() if key != "self")
        self.api = api or name
        self.create_required = create_required or required
        self.aliases = list(aliases or [])

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
            if self.elements == "dict":
                return [self._subdict(item, "%s[%d]" % (path, i)) for i, item in enumerate(value)]
            items = [self._scalar(item, self.elements or "str", "%s[%d]" % (path, i))
                     for i, item in enumerate(value)]
            if not self.ordered:
                items = sorted(set(items), key=str)
            return items
        if self.type == "dict":
            if not isinstance(value, dict):
                raise Invalid("%s: must be a dict, got %r" % (path, value))
            if self.as_json:
                return self._json_dict(value, path)
            if self.suboptions:
                return self._subdict(value, path)
            out = {str(k): self._header_value(v) for k, v in value.items()}
            for key, item in out.items():
                self._length(item, "%s.%s" % (path, key))
            return out
        return self._scalar(value, self.type, path)

    def _subdict(self, value, path):
        """A dict of suboptions (session_persistence, an item of additional_vips), each coerced."""
        if not isinstance(value, dict):
            raise Invalid("%s: must be a dict, got %r" % (path, value))
        known = {f.name: f for f in self.suboptions}
        for key in value:
            if key not in known:
                raise Invalid("%s: unknown key %r (known: %s)" % (path, key, ", ".join(sorted(known))))
        out = {sub.name: sub.coerce(value.get(sub.name), join_path(path, sub.name)) for sub in self.suboptions}
        for sub in self.suboptions:
            if sub.required and out[sub.name] is None:
                raise Invalid("%s: is required" % join_path(path, sub.name))
        return out

    def _json_dict(self, value, path):
        try:
            text = self.encode(value)
        except (TypeError, ValueError) as exc:
            raise Invalid("%s: cannot be written as JSON (%s)" % (path, exc)) from None
        if self.max_length is not None and len(text) > self.max_length:
            raise Invalid("%s: is %d characters long as JSON; Octavia takes at most %d" % (path, len(text), self.max_length))
        return json.loads(text)

    @staticmethod
    def encode(value):
        """The JSON text of an as_json field's value (keys sorted: one value, one text)."""
        return json.dumps(value, sort_keys=True)

    @staticmethod
    def decode(value):
        """An as_json field as Octavia returns it (a JSON string) → the dict; anything
        that is not a JSON object is kept as it is (and so differs from any dict)."""
        if isinstance(value, str):
            try:
                decoded = json.loads(value)
            except ValueError:
                return value
            return decoded if isinstance(decoded, dict) else value
        return value

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
            if self.clearable and value == "":
                return value
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
            if self.elements == "dict":
                return len(want) == len(have) and _dicts_match(want, have)
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


def _dicts_match(want, have):
    """Every wanted dict matches a distinct current one on the keys it gives."""
    left = list(have)
    for item in want:
        for i, candidate in enumerate(left):
            if isinstance(candidate, dict) and all(v is None or candidate.get(k) == v for k, v in item.items()):
                del left[i]
                break
        else:
            return False
    return True


def _check_port(value, path):
    if not 1 <= value <= 65535:
        raise Invalid("%s: %s is not a port (1..65535)" % (path, value))
    return value


def _check(ok, what):
    """A value check: ``ok(value)`` is true, or Invalid says the value is not `what`."""
    def check(value, path):
        if not ok(value):
            raise Invalid("%s: %r is not %s" % (path, value, what))
        return value
    return check


def _check_address(what):
    """A check of an IP address (or a netmask written as one); the value becomes its canonical form."""
    def check(value, path):
        address = canonical_ip(value)
        if address is None or not is_ip(address):
            raise Invalid("%s: %r is not %s" % (path, value, what))
        return address
    return check


def _check_cidr(value, path):
    try:
        ipaddress.ip_network(str(value).strip(), strict=False)
    except ValueError:
        raise Invalid("%s: %r is not a CIDR" % (path, value)) from None
    return str(value).strip()


CHECKS = {
    "port": _check_port,
    "ip": _check_address("an IP address"),
    "cidr": _check_cidr,
    "url": _check(lambda value: re.match(r"^https?://[^\s/?#]+[^\s]*$", value) and not URL_BAD_CHARS_RE.search(value),
                  "an http(s) URL (no spaces or control characters)"),
    "url_path": _check(lambda value: value.startswith("/") and not re.search(r"\s", value),
                       "a URL path (it must start with / and have no spaces)"),
    "expected_codes": _check(EXPECTED_CODES_RE.match, "a status code, list (200,202) or range (200-204)"),
    "uuid": _check(is_uuid, "an ID (UUID)"),
    "ciphers": _check(CIPHERS_RE.match, "an OpenSSL cipher string: Octavia takes letters, digits and - + ! : @ = _ . "
                                        "only (no spaces; separate ciphers with ':')"),
    "domain_name": _check(DOMAIN_NAME_RE.match, "a domain name"),
    "cookie_name": _check(lambda value: not BAD_COOKIE_NAME_RE.search(value),
                          "a cookie name (no spaces, quotes, separators such as , ; / = or brackets)"),
    "netmask": _check_address("a netmask written as an address (for example 255.255.255.0)"),
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

    def __init__(self, kind, title, resource, plural, path, fields, children=(), parent_field=None, key_doc="",
                 secret_fields=()):
        self.kind = kind
        self.label = title
        self.resource = resource      # body/response key: {"listener": {...}}
        self.plural = plural          # list response key: {"listeners": [...]}
        self.path = path              # collection path; may contain %s for the parent id
        self.fields = {f.name: f for f in fields}
        self.children = {c.name: c for c in children}
        self.parent_field = parent_field
        self.key_doc = key_doc
        # options that are not Octavia's: PEM text the module turns into a key manager ref
        # (Field.stores) before planning; view, predict, body and diffs never see them
        self.secret_fields = {f.name: f for f in secret_fields}

    def argspec(self, nested=False, skip=()):
        return {name: f.argspec(nested) for name, f in list(self.fields.items()) + list(self.secret_fields.items())
                if name not in skip}

    def view(self, api_obj, pool_names=None):
        """The current object in option space: option names, references as pool names,
        Octavia's defaults where it returned nothing."""
        out = {}
        for f in self.fields.values():
            value = api_obj.get(f.api)
            if f.ref == "pool" and value:
                value = (pool_names or {}).get(value, value)
            elif value is not None and f.check == "ip":
                value = canonical_ip(value) if is_ip(value) else value
            if f.type == "dict" and f.suboptions and isinstance(value, dict):
                value = {sub.name: value.get(sub.api) for sub in f.suboptions}
            elif f.elements == "dict" and f.suboptions and isinstance(value, list):
                value = [{sub.name: item.get(sub.api) for sub in f.suboptions} for item in value if isinstance(item, dict)]
            elif f.as_json:
                value = f.decode(value)
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
            elif f.as_json and value is not None:
                value = f.encode(value)
            elif f.clearable and value == "":
                value = None
            elif f.elements == "dict" and value is not None:
                value = [{k: v for k, v in item.items() if v is not None} for item in value]
            out[f.api] = value
        return out
