# Copyright: octavia.lbaas contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Input of the load-balancer modules: coercion and validation of the whole task before
any API call (`Validator`, `desire()`, `desire_tree()`, `desire_members()`), raising one
ModuleError that lists every problem with the path of its field."""

from __future__ import annotations

import re

from ansible_collections.octavia.lbaas.plugins.module_utils import tls_material
from ansible_collections.octavia.lbaas.plugins.module_utils.cloud import ModuleError
from ansible_collections.octavia.lbaas.plugins.module_utils.lbaas_fields import (
    AMPHORA_LB_ALGORITHMS,
    AMPHORA_PROVIDERS,
    COOKIE_VALUE_RE,
    DN_FIELD_RE,
    HEADER_NAME_RE,
    HEADER_VALUE_RE,
    HM_TYPES_FOR_HAPROXY_POOL,
    HM_TYPES_FOR_LVS_POOL,
    HTTP_INSERT_HEADERS,
    L7_LISTENER_PROTOCOLS,
    LVS_PROTOCOLS,
    MAX_RULES_PER_POLICY,
    POOLS_FOR_LISTENER,
    QUOTED_HEADER_VALUE_RE,
    SSL_INSERT_HEADERS,
    Invalid,
    join_path,
)
from ansible_collections.octavia.lbaas.plugins.module_utils.lbaas_specs import (
    CHILD_EXTRA,
    LOADBALANCER,
    PEM_FOR_REF,
    SPECS,
    listener_key,
    member_key,
    rule_key,
)
from ansible_collections.octavia.lbaas.plugins.module_utils.lbaas_vip import check_additional_vips, check_vip_sgs


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
        known = set(spec.fields) | set(spec.secret_fields) | set(spec.children) | {f.name for f in extra}
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
        for f in spec.secret_fields.values():
            out[f.name] = tls_material.pem_option(self, f, data.get(f.name), join_path(path, f.name), out)
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
        given = _given(obj)
        tls_refs = given("default_tls_container_ref") or given("sni_container_refs")
        if proto == "TERMINATED_HTTPS" and not tls_refs:
            self.error(p("default_tls_container_ref"),
                       "a TERMINATED_HTTPS listener needs a certificate (default_tls_container_ref or sni_container_refs, "
                       "or default_tls_certificate or sni_certificates)")
        if proto not in ("TERMINATED_HTTPS", "PROMETHEUS"):
            for name in ("default_tls_container_ref", "sni_container_refs", "client_ca_tls_container_ref",
                         "default_tls_certificate", "sni_certificates", "client_ca_certificate"):
                if obj.get(name):
                    self.error(p(name), "certificates are only allowed on TERMINATED_HTTPS listeners, not %s" % proto)
        if obj.get("client_authentication") not in (None, "NONE") and not given("client_ca_tls_container_ref"):
            self.error(p("client_ca_tls_container_ref"), "client_authentication %s needs a client CA "
                       "(client_ca_tls_container_ref or client_ca_certificate)" % obj["client_authentication"])
        if given("client_crl_container_ref") and not given("client_ca_tls_container_ref"):
            self.error(p("client_crl" if obj.get("client_crl") else "client_crl_container_ref"),
                       "a revocation list needs client_ca_tls_container_ref or client_ca_certificate")
        if given("client_ca_tls_container_ref") and not tls_refs:
            self.error(p("client_ca_tls_container_ref"), "a client CA needs default_tls_container_ref or "
                                                         "sni_container_refs (or their PEM options)")
        tls_material.crl_for_ca(self, obj, "client_crl", "client_ca_certificate")
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
        given = _given(obj)
        if given("crl_container_ref") and not given("ca_tls_container_ref"):
            self.error(p("crl" if obj.get("crl") else "crl_container_ref"),
                       "a revocation list needs ca_tls_container_ref or ca_certificate")
        tls_material.crl_for_ca(self, obj, "crl", "ca_certificate")
        if proto in LVS_PROTOCOLS:
            for name in ("tls_enabled", "tls_container_ref", "ca_tls_container_ref", "tls_certificate", "ca_certificate"):
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


def _given(obj):
    """obj's value of a ref field, or of the PEM option that stands for it."""
    def given(name):
        return obj.get(name) or obj.get(PEM_FOR_REF.get(name, ""))
    return given


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


def _inline_pool(v, pools, item, key, path, why=""):
    """A pool defined where it is used (``item[key]`` a dict: a listener's default_pool, a policy's
    redirect_pool): coerced, marked ``_inline`` and added to ``pools``; ``item[key]`` becomes its
    name. Octavia references pools by name, so an inline pool without one is an error."""
    inline = v.coerce("pool", item[key], path, CHILD_EXTRA["pool"])
    if inline is None:
        return
    inline["_inline"] = True
    pools.append(inline)
    item[key] = inline.get("name") or ""
    if not inline.get("name"):
        v.error(join_path(path, "name"), "an inline pool needs a name" + why)
        v.bad.add(join_path(path, "name"))


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
                    _inline_pool(v, pools, item, "default_pool", join_path(path, "default_pool"),
                                 " (Octavia references pools by name)")
                if isinstance(item, dict) and isinstance(item.get("l7policies"), list):
                    item = dict(item)
                    policies = []
                    for j, policy in enumerate(item["l7policies"]):
                        if isinstance(policy, dict) and isinstance(policy.get("redirect_pool"), dict):
                            policy = dict(policy)
                            _inline_pool(v, pools, policy, "redirect_pool", "%s.l7policies[%d].redirect_pool" % (path, j))
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
        check_vip_sgs(v, listeners, lb.get("vip_sg_ids"))
        check_additional_vips(v, lb)
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


def desire(kind, params, creating=False, validator=None, extra=()):
    """One object of a single-object module (listener, pool, member, ...) → wanted dict."""
    v = validator or Validator()
    spec = SPECS[kind]
    data = {k: params.get(k) for k in list(spec.fields) + list(spec.secret_fields)}
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
