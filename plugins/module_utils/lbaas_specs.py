# Copyright: octavia.lbaas contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The Octavia object types, each declared once as a `Spec` of `Field`s (load balancer,
listener, pool, member, health monitor, L7 policy, L7 rule; and the operator's catalog:
flavor profile, flavor, availability zone profile, availability zone, quota), the module argument specs
built from them (`object_options()` and the nested tree options), and each type's
natural key and label."""

from __future__ import annotations

from ansible_collections.octavia.lbaas.plugins.module_utils.lbaas_fields import (
    ALPN_PROTOCOLS,
    CLIENT_AUTH_MODES,
    HM_HTTP_METHODS,
    HM_HTTP_VERSIONS,
    HM_TYPES,
    L7_ACTIONS,
    L7_COMPARE_TYPES,
    L7_RULE_TYPES,
    LB_ALGORITHMS,
    LISTENER_PROTOCOLS,
    MAX_CIPHERS,
    MAX_POLICY_POSITION,
    MAX_TIMEOUT_MS,
    POOL_PROTOCOLS,
    REDIRECT_HTTP_CODES,
    SESSION_PERSISTENCE_TYPES,
    TLS_VERSIONS,
    Child,
    Field,
    Spec,
    l4_protocol,
)


def _hm_http_default(value):
    def default(obj):
        return value if obj.get("type") in ("HTTP", "HTTPS") else None
    return default


def _redirect_code_default(obj):
    return 302 if obj.get("action") in ("REDIRECT_TO_URL", "REDIRECT_PREFIX") else None


def _key_name(doc):
    """The name that finds the object: required, set when it is created, never empty."""
    return Field("name", required=True, updatable=False, nonempty=True, doc=doc)


def _common(kind):
    return [
        Field("admin_state_up", "bool", default=True,
              doc="The administrative state of the %s; C(false) takes it out of service." % kind),
        Field("tags", "list", elements="str", default=[],
              doc="Tags of the %s. The list is the complete set (order does not matter)." % kind),
    ]


ADDITIONAL_VIP = [
    Field("subnet_id", check="uuid", required=True, doc="ID of the subnet of the additional VIP."),
    Field("ip_address", check="ip", doc="Fixed address of the additional VIP on that subnet; Octavia picks one if not given."),
]

LOADBALANCER = Spec(
    "loadbalancer", "load balancer", "loadbalancer", "loadbalancers", "/lbaas/loadbalancers",
    [
        _key_name("Name of the load balancer; a load balancer is found by name (or ID) in the project."),
        Field("description", default="", doc="Description of the load balancer."),
        Field("vip_subnet", api="vip_subnet_id", updatable=False,
              doc="Subnet (name or ID) to allocate the VIP on."),
        Field("vip_network", api="vip_network_id", updatable=False,
              doc="Network (name or ID) to allocate the VIP on, when no subnet is given."),
        Field("vip_port", api="vip_port_id", updatable=False,
              doc="An existing Neutron port (name or ID) to use as the VIP."),
        Field("vip_address", check="ip", updatable=False, doc="Fixed VIP address on the VIP subnet (or network)."),
        Field("additional_vips", "list", elements="dict", suboptions=ADDITIONAL_VIP, updatable=False,
              doc="More VIPs on other subnets of the VIP network (Octavia API 2.26 or later). Octavia cannot change "
                  "them: a difference on an existing load balancer fails before any write (it needs a new one)."),
        Field("vip_sg_ids", "list", elements="str", check="uuid", default=[],
              doc="IDs of security groups applied to the VIP port instead of Octavia's own (Octavia API 2.29 or "
                  "later); the list is the complete set, C([]) goes back to Octavia's. Listeners then cannot have "
                  "C(allowed_cidrs)."),
        Field("vip_qos_policy_id", check="uuid", clearable=True,
              doc="ID of the Neutron QoS policy of the VIP port; C(\"\") removes it (needs Neutron's qos extension)."),
        Field("flavor", api="flavor_id", updatable=False, doc="Octavia flavor (name or ID)."),
        Field("availability_zone", updatable=False, doc="Octavia availability zone (name)."),
        Field("provider", updatable=False,
              doc="Provider driver, for example C(amphora) or C(ovn). Octavia picks its default when not given."),
    ] + _common("load balancer"),
    key_doc="name (or ID) in the project",
)

# A certificate given as PEM text instead of a key manager ref (tls_material.py checks it
# before any call; the module stores it in Barbican as one PKCS#12 bundle, found again by
# the hash of its content in the secret's name, and sends the secret's ref to Octavia).
CERTIFICATE_BUNDLE = [
    Field("certificate", required=True, max_length=None,
          doc="The certificate, PEM. Certificates after the first one are taken as intermediates."),
    Field("private_key", required=True, no_log=True, max_length=None,
          doc="Its private key, PEM (encrypted or not). It goes into the Barbican secret only, unencrypted as "
              "Octavia reads it; it is never in results, diffs or logs."),
    Field("intermediates", max_length=None, doc="The chain of intermediate certificates, PEM, leaf side first."),
    Field("passphrase", no_log=True, max_length=None, doc="The passphrase of an encrypted C(private_key)."),
]
_STORED_NOTE = ("The module stores it in the key manager (Barbican) as a secret named after a hash of its public "
                "content, reused on later runs (the same PEM makes no new secret and no write), and sends the "
                "secret's ref as C(%s); mutually exclusive with it.")


def _certificate(name, ref, doc, many=False):
    """A certificate (with its key) given as PEM text instead of the key manager ref `ref`
    (`many`: a list of them)."""
    return Field(name, "list" if many else "dict", elements="dict" if many else None, suboptions=CERTIFICATE_BUNDLE,
                 max_length=None, stores=ref, pem="bundle", doc="%s %s" % (doc, _STORED_NOTE % ref))


def _pem_text(name, ref, kind, doc):
    """A CA certificate or a revocation list (`kind`: ca, crl) given as PEM text instead of `ref`."""
    return Field(name, max_length=None, stores=ref, pem=kind, doc="%s %s" % (doc, _STORED_NOTE % ref))


def _tls_material(certificate, ca, crl, whose, more=()):
    """The PEM text fields of one side of TLS (a listener's or a pool's Spec.secret_fields), in
    the order the module stores them: its certificate (`certificate`: name, ref and what it is),
    the certificates `more`, the CA that signs `whose` certificates and the revocation list of
    those (`ca`, `crl`: name and ref)."""
    return [
        _certificate(*certificate[:2], "%s, as PEM text (C(certificate), C(private_key), C(intermediates), "
                                       "C(passphrase))." % certificate[2]),
        *more,
        _pem_text(*ca, "ca", "The CA that signs %s certificates, PEM (one or more certificates)." % whose),
        _pem_text(*crl, "crl", "The revocation list of %s certificates, PEM; it must be signed by the CA that signs them." % whose),
    ]


LISTENER_SECRETS = _tls_material(
    certificate=("default_tls_certificate", "default_tls_container_ref",
                 "The certificate of a C(TERMINATED_HTTPS) listener"),
    ca=("client_ca_certificate", "client_ca_tls_container_ref"), crl=("client_crl", "client_crl_container_ref"),
    whose="client",
    more=[_certificate("sni_certificates", "sni_container_refs",
                       "Additional (SNI) certificates, as PEM text, each like C(default_tls_certificate).", many=True)],
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
    secret_fields=LISTENER_SECRETS,
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
        _key_name("Name of the pool; it identifies the pool in its load balancer."),
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
    secret_fields=_tls_material(
        certificate=("tls_certificate", "tls_container_ref", "The client certificate presented to members"),
        ca=("ca_certificate", "ca_tls_container_ref"), crl=("crl", "crl_container_ref"), whose="the members'"),
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

# The operator's catalog (admin API): objects outside any load balancer, found by name
# (a flavor's or an availability zone's name is unique; a profile's is not, the module
# refuses an ambiguous one). Octavia 19's types (octavia/api/v2/types/flavors.py,
# flavor_profile.py, availability_zones.py, availability_zone_profile.py, quotas.py) say
# what a PUT takes: a flavor's profile and an availability zone's profile are not in it.
PROFILE_DATA_MAX = 4096


def _profile(kind, what, a_what, resource, plural, path, example):
    """The spec of a provider profile (`kind`_profile): a name, a provider and the provider's
    settings for a `what` (`kind`_data, a JSON string in the API), which Octavia refuses to
    change while `a_what` uses the profile."""
    in_use = "Octavia refuses to change it while %s uses the profile." % a_what
    return Spec(
        kind + "_profile", what + " profile", resource, plural, path,
        [
            _key_name("Name of the %s profile; it identifies the profile (a name two profiles share is refused)." % what),
            Field("provider_name", create_required=True, nonempty=True,
                  doc="Provider driver the profile is for, for example C(amphora). " + in_use),
            Field(kind + "_data", "dict", as_json=True, create_required=True, max_length=PROFILE_DATA_MAX,
                  doc="The provider's %s settings, for example C(%s) for the amphora provider "
                      "(M(octavia.lbaas.provider_info) lists them). Compared as a dict and sent as the JSON string "
                      "Octavia stores (at most %d characters). %s" % (what, example, PROFILE_DATA_MAX, in_use)),
        ],
        key_doc="name",
    )


def _applies_profile(kind, what, plural, path, key_note, short):
    """The spec of what users pick for a load balancer (a flavor, an availability zone): found by
    name, it applies a `kind`_profile, which Octavia cannot change."""
    return Spec(
        kind, what, kind, plural, path,
        [
            _key_name("Name of the %s (%s); users give it as a load balancer's C(%s)." % (what, key_note, kind)),
            Field("description", default="", doc="Description of the %s, shown to users." % what),
            Field(kind + "_profile", api=kind + "_profile_id", create_required=True, updatable=False,
                  doc="%s profile (name or ID) the %s applies." % (what.capitalize(), short)),
            Field("enabled", "bool", default=True, doc="Whether new load balancers may use the %s." % what),
        ],
        key_doc="name",
    )


FLAVOR_PROFILE = _profile("flavor", "flavor", "a flavor", "flavorprofile", "flavorprofiles", "/lbaas/flavorprofiles",
                          "{loadbalancer_topology: ACTIVE_STANDBY}")
FLAVOR = _applies_profile("flavor", "flavor", "flavors", "/lbaas/flavors", "unique in Octavia", "flavor")
AVAILABILITY_ZONE_PROFILE = _profile("availability_zone", "availability zone", "an availability zone",
                                     "availability_zone_profile", "availability_zone_profiles",
                                     "/lbaas/availabilityzoneprofiles", "{compute_zone: az1}")
AVAILABILITY_ZONE = _applies_profile("availability_zone", "availability zone", "availability_zones",
                                     "/lbaas/availabilityzones", "Octavia's key for it: it has no ID", "zone")

# Octavia's quota limits: -1 (unlimited) .. 2000000000 (octavia/common/constants.py MIN_QUOTA, MAX_QUOTA).
QUOTA_MIN, QUOTA_MAX = -1, 2000000000
QUOTA_LIMITS = ("loadbalancer", "listener", "pool", "member", "healthmonitor", "l7policy", "l7rule")
_QUOTA_WHAT = {"loadbalancer": "load balancers", "listener": "listeners", "pool": "pools", "member": "members",
               "healthmonitor": "health monitors", "l7policy": "L7 policies", "l7rule": "L7 rules"}

QUOTA = Spec(
    "quota", "quota", "quota", "quotas", "/lbaas/quotas",
    [Field(name, "int", minimum=QUOTA_MIN, maximum=QUOTA_MAX,
           doc="How many %s the project may have; C(-1) means unlimited." % _QUOTA_WHAT[name])
     for name in QUOTA_LIMITS],
    key_doc="project",
)

CATALOG = (FLAVOR_PROFILE, FLAVOR, AVAILABILITY_ZONE_PROFILE, AVAILABILITY_ZONE, QUOTA)

SPECS = {s.kind: s for s in (LOADBALANCER, LISTENER, POOL, MEMBER, HEALTH_MONITOR, L7POLICY, L7RULE) + CATALOG}
# the PEM option that stands for each key manager ref field (default_tls_container_ref: default_tls_certificate, ...)
PEM_FOR_REF = {f.stores: f.name for spec in SPECS.values() for f in spec.secret_fields.values()}


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


# Options of nested objects that are not Octavia fields.
CHILD_EXTRA = {"pool": (Field("additive_only", "bool", default=False,
                              doc="Keep members that the list does not name (batch update with C(additive_only))."),)}
