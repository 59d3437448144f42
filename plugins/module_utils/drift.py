# Copyright: octavia.lbaas contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Drift between Octavia and Neutron/Nova: which load balancers and amphorae point at
ports or servers that are gone, and which Octavia-made ports and security groups no
load balancer or amphora owns any more.

Everything here is pure (no network): the module ``drift_info`` reads one list per
resource type (load balancers, amphorae, ports, security groups, servers) and hands them
to ``audit()``; ``tests/unit/plugins/modules/test_drift_info.py`` tests it without a cloud."""

from __future__ import annotations

import datetime
import re

from ansible_collections.octavia.lbaas.plugins.module_utils.values import canonical_ip

# The checks, in report order: option value -> (result key, title of the report section).
CHECKS = {
    "loadbalancer_vip_ports": ("loadbalancers_missing_vip_port",
                               "Load balancers whose VIP port is missing in Neutron"),
    "amphora_computes": ("amphorae_missing_compute",
                         "Amphorae whose compute server is missing in Nova"),
    "amphora_vrrp_ports": ("amphorae_missing_vrrp_port",
                           "Amphorae whose VRRP port is missing in Neutron"),
    "amphora_management_ports": ("amphorae_missing_management_port",
                                 "Amphorae whose management address (lb_network_ip) is on no Neutron port"),
    "orphan_ports": ("orphan_ports",
                     "Octavia ports that no load balancer or amphora references"),
    "orphan_security_groups": ("orphan_security_groups",
                               "Octavia security groups (`lb-<load balancer ID>`) whose load balancer does not exist"),
}

# What each check reads (one list call per resource type, whatever the checks).
SOURCES = ("loadbalancers", "amphorae", "ports", "security_groups", "servers")
NEEDS = {
    "loadbalancer_vip_ports": ("loadbalancers", "ports"),
    "amphora_computes": ("amphorae", "servers"),
    "amphora_vrrp_ports": ("amphorae", "ports"),
    "amphora_management_ports": ("amphorae", "ports"),
    "orphan_ports": ("loadbalancers", "amphorae", "ports"),
    "orphan_security_groups": ("loadbalancers", "security_groups"),
}

# Controller ports (the health-manager ports Octavia's deployment tools create with this
# owner) belong to no load balancer: not candidates for orphan_ports unless asked.
DEFAULT_IGNORED_OWNERS = ("Octavia:health-mgr",)
# Octavia's own names (its allowed-address-pairs network driver): the VIP port
# "octavia-lb-<LB ID>" (device_id "lb-<LB ID>"), the VRRP port of an amphora
# "octavia-lb-vrrp-<amphora ID>", and the VIP security group "lb-<LB ID>".
OCTAVIA_OWNER = "Octavia"
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
VRRP_PORT_NAME = re.compile(r"^octavia-lb-vrrp-(%s)$" % _UUID)
VIP_PORT_NAME = re.compile(r"^octavia-lb-(%s)$" % _UUID)
VIP_DEVICE_ID = re.compile(r"^lb-(%s)$" % _UUID)
SECURITY_GROUP_NAME = re.compile(r"^lb-(%s)$" % _UUID)

# States in which Octavia is in the middle of creating, changing or deleting the object:
# its ports and servers may legitimately not exist yet, or not any more.
AMPHORA_IN_FLIGHT = ("BOOTING", "PENDING_CREATE", "PENDING_UPDATE", "PENDING_DELETE")
PENDING_PREFIX = "PENDING_"

# Fields asked from Neutron (the rest of a port, bindings and all, is not needed).
PORT_FIELDS = ("id", "name", "device_owner", "device_id", "network_id", "project_id", "fixed_ips", "status",
               "created_at")
SECURITY_GROUP_FIELDS = ("id", "name", "project_id", "description", "created_at")


# -- input ---------------------------------------------------------------------------------
def check_params(params):
    """Every problem of the module's input, as messages naming the option (empty: fine).
    Pure: runs before any API call."""
    errors = []
    checks = params.get("checks")
    if checks is not None:
        if not checks:
            errors.append("checks: must not be empty (leave it out to run every check: %s)" % ", ".join(CHECKS))
        dupes = sorted({c for c in checks if checks.count(c) > 1})
        if dupes:
            errors.append("checks: %s listed more than once" % ", ".join(dupes))
    for option in ("loadbalancers", "ignore_ids", "ignore_device_owners"):
        values = params.get(option) or []
        empty = [v for v in values if not isinstance(v, str) or not v.strip()]
        if empty:
            errors.append("%s: entries must be non-empty strings, got %r" % (option, empty))
    grace = params.get("grace_period")
    if grace is not None and grace < 0:
        errors.append("grace_period: must be 0 or more seconds, got %s" % grace)
    return errors


def sources_for(checks, lb_filter=False):
    """The resource types to list for `checks` (in SOURCES order). Limiting to some load
    balancers needs their list to resolve names."""
    wanted = {source for check in checks for source in NEEDS[check]}
    if lb_filter:
        wanted.add("loadbalancers")
        if any(c.startswith("amphora_") for c in checks):
            wanted.add("amphorae")
    return [s for s in SOURCES if s in wanted]


def select_loadbalancers(loadbalancers, refs):
    """IDs of the load balancers `refs` (names or IDs) names, from the listed ones.
    Returns (ids, errors): an unknown or ambiguous name is an error naming it."""
    ids, errors = set(), []
    live = [lb for lb in loadbalancers if lb.get("provisioning_status") != "DELETED"]
    for ref in refs:
        by_id = [lb for lb in live if lb.get("id") == ref]
        found = by_id or [lb for lb in live if lb.get("name") == ref]
        if not found:
            errors.append("loadbalancers: no load balancer %s" % ref)
        elif len(found) > 1:
            errors.append("loadbalancers: %d load balancers are named %s (IDs %s); give the ID"
                          % (len(found), ref, ", ".join(sorted(lb["id"] for lb in found))))
        else:
            ids.add(found[0]["id"])
    return ids, errors


# -- helpers ---------------------------------------------------------------------------------
def parse_time(value):
    """Neutron's created_at ("2026-12-02T00:53:13Z", or without zone: UTC) -> epoch
    seconds, None when absent or unreadable."""
    if not value:
        return None
    text = str(value).strip().replace("Z", "+00:00")
    try:
        stamp = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=datetime.timezone.utc)
    return stamp.timestamp()


def port_owner(port):
    """(kind, ID) of the load balancer or amphora an Octavia port is named after, or
    (None, None)."""
    name = port.get("name") or ""
    match = VRRP_PORT_NAME.match(name)
    if match:
        return "amphora", match.group(1)
    match = VIP_PORT_NAME.match(name) or VIP_DEVICE_ID.match(port.get("device_id") or "")
    if match:
        return "loadbalancer", match.group(1)
    return None, None


def is_octavia_port(port, ignored_owners=DEFAULT_IGNORED_OWNERS):
    """Made by Octavia: its owner starts with "Octavia", or it has one of Octavia's
    port names (a VRRP port attached to a server gets Nova's owner). Ports whose owner is
    in `ignored_owners` are never candidates."""
    owner = port.get("device_owner") or ""
    if owner in ignored_owners:
        return False
    return owner.startswith(OCTAVIA_OWNER) or (port.get("name") or "").startswith("octavia-lb-")


def lb_view(lb):
    return {key: lb.get(key) for key in ("id", "name", "project_id", "provisioning_status", "operating_status",
                                         "vip_port_id", "vip_address")}


def amphora_view(amp):
    return {key: amp.get(key) for key in ("id", "loadbalancer_id", "compute_id", "status", "role", "lb_network_ip",
                                          "vrrp_port_id", "ha_port_id")}


def port_view(port):
    fixed = [canonical_ip(f.get("ip_address")) for f in port.get("fixed_ips") or []]
    return {"id": port.get("id"), "name": port.get("name"), "device_owner": port.get("device_owner"),
            "device_id": port.get("device_id"), "network_id": port.get("network_id"),
            "project_id": port.get("project_id"), "ip_addresses": fixed, "status": port.get("status"),
            "created_at": port.get("created_at")}


def group_view(group, lb_id):
    return {"id": group.get("id"), "name": group.get("name"), "project_id": group.get("project_id"),
            "loadbalancer_id": lb_id, "created_at": group.get("created_at")}


# -- the audit -------------------------------------------------------------------------------
def audit(data, checks=None, lb_ids=None, now=0.0, grace_period=0, ignore_ids=(),
          ignore_device_owners=DEFAULT_IGNORED_OWNERS):
    """Compare the lists in `data` (keys of SOURCES; a list not read is missing or None)
    and return the findings.

    checks        the checks to run (CHECKS keys), all when None;
    lb_ids        limit the load-balancer and amphora checks to these load balancers (and
                  their amphorae); None: all. The orphan checks always look at the whole
                  cloud (an orphan is what no load balancer references);
    now           epoch seconds, to age Neutron objects against `grace_period`;
    grace_period  ports and security groups younger than this many seconds are not
                  reported as orphans (Octavia may be creating their owner right now);
    ignore_ids    IDs of load balancers, amphorae, ports and security groups never reported.

    Objects Octavia is busy with (a load balancer in PENDING_*, an amphora BOOTING or
    PENDING_*) are not reported either. Whatever is left out for these reasons is listed
    in `not_judged` with the reason."""
    checks = list(CHECKS) if checks is None else list(checks)
    ignore = set(ignore_ids or ())
    ignored_owners = tuple(ignore_device_owners or ())
    lbs = [lb for lb in data.get("loadbalancers") or [] if lb.get("provisioning_status") != "DELETED"]
    amps = [a for a in data.get("amphorae") or [] if a.get("status") != "DELETED"]
    ports = data.get("ports") or []
    lb_by_id = {lb["id"]: lb for lb in lbs}
    amp_by_id = {a["id"]: a for a in amps}
    port_ids = {p["id"] for p in ports}
    port_ips = {canonical_ip(f.get("ip_address")) for p in ports for f in p.get("fixed_ips") or []}
    server_ids = {s["id"] for s in data.get("servers") or []}

    result = {CHECKS[c][0]: [] for c in checks}
    skipped = []
    skipped_keys = set()

    def skip(kind, obj, reason):
        key = (kind, obj.get("id"))
        if key not in skipped_keys:
            skipped_keys.add(key)
            skipped.append({"kind": kind, "id": obj.get("id"), "name": obj.get("name"), "reason": reason})

    def busy(kind, obj):
        """The status of a load balancer or an amphora (`kind`) Octavia is working on, else None."""
        if kind == "loadbalancer":
            status = obj.get("provisioning_status") or ""
            return status if status.startswith(PENDING_PREFIX) else None
        status = obj.get("status") or ""
        return status if status in AMPHORA_IN_FLIGHT else None

    def judged(kind, obj):
        """Whether a load balancer or an amphora something is missing for is reported; one listed
        in ignore_ids, or that Octavia is working on, is skipped instead."""
        if obj["id"] in ignore:
            skip(kind, obj, "listed in ignore_ids")
        elif busy(kind, obj):
            skip(kind, obj, "Octavia is working on it (%s)" % busy(kind, obj))
        else:
            return True
        return False

    selected_lbs = [lb for lb in lbs if lb_ids is None or lb["id"] in lb_ids]
    selected_amps = [a for a in amps if lb_ids is None or a.get("loadbalancer_id") in lb_ids]

    if "loadbalancer_vip_ports" in checks:
        for lb in selected_lbs:
            if not lb.get("vip_port_id") or lb["vip_port_id"] in port_ids:
                continue
            if judged("loadbalancer", lb):
                result["loadbalancers_missing_vip_port"].append(lb_view(lb))

    amp_checks = (("amphora_computes", "compute_id", server_ids, "amphorae_missing_compute"),
                  ("amphora_vrrp_ports", "vrrp_port_id", port_ids, "amphorae_missing_vrrp_port"),
                  ("amphora_management_ports", "lb_network_ip", port_ips, "amphorae_missing_management_port"))
    for check, field, existing, key in amp_checks:
        if check not in checks:
            continue
        for amp in selected_amps:
            value = amp.get(field)
            if field == "lb_network_ip":
                value = canonical_ip(value)
            if not value or value in existing:
                continue
            if judged("amphora", amp):
                result[key].append(amphora_view(amp))

    if "orphan_ports" in checks:
        referenced = {lb.get("vip_port_id") for lb in lbs}
        referenced |= {a.get(f) for a in amps for f in ("vrrp_port_id", "ha_port_id")}
        referenced.discard(None)
        for port in ports:
            if port["id"] in referenced or not is_octavia_port(port, ignored_owners):
                continue
            kind, owner_id = port_owner(port)
            owner = (lb_by_id if kind == "loadbalancer" else amp_by_id).get(owner_id) if kind else None
            age = _age(port, now)
            if port["id"] in ignore:
                skip("port", port, "listed in ignore_ids")
            elif owner is not None and busy(kind, owner):
                skip("port", port, "Octavia is working on its %s %s (%s)" % (
                    kind, owner_id, owner.get("provisioning_status") or owner.get("status")))
            elif grace_period > 0 and age is not None and age < grace_period:
                skip("port", port, "created %d s ago, within grace_period" % max(age, 0))
            else:
                view = port_view(port)
                view["reason"] = _orphan_port_reason(kind, owner_id, owner)
                result["orphan_ports"].append(view)

    if "orphan_security_groups" in checks:
        for group in data.get("security_groups") or []:
            match = SECURITY_GROUP_NAME.match(group.get("name") or "")
            if not match or match.group(1) in lb_by_id:
                continue
            age = _age(group, now)
            if group["id"] in ignore:
                skip("security_group", group, "listed in ignore_ids")
            elif grace_period > 0 and age is not None and age < grace_period:
                skip("security_group", group, "created %d s ago, within grace_period" % max(age, 0))
            else:
                result["orphan_security_groups"].append(group_view(group, match.group(1)))

    for items in result.values():
        items.sort(key=lambda item: (str(item.get("name") or ""), str(item.get("id"))))
    summary = {key: len(items) for key, items in result.items()}
    summary["total"] = sum(summary.values())
    result.update(summary=summary, drift=summary["total"] > 0, not_judged=skipped, checks=checks)
    return result


def _age(obj, now):
    created = parse_time(obj.get("created_at"))
    return None if created is None or not now else now - created


def _orphan_port_reason(kind, owner_id, owner):
    if kind is None:
        return "no load balancer or amphora references it"
    if owner is None:
        return "named after %s %s, which does not exist" % (kind, owner_id)
    if kind == "loadbalancer":
        return "named after load balancer %s, whose VIP port is another one (%s)" % (owner_id, owner.get("vip_port_id"))
    return "named after amphora %s, whose VRRP port is another one (%s)" % (owner_id, owner.get("vrrp_port_id"))


# -- the report ---------------------------------------------------------------------------------
def _line(key, item):
    short = item.get("name") or ""
    if key == "loadbalancers_missing_vip_port":
        return "%s (%s): %s, VIP port %s (address %s) is not in Neutron" % (
            short or "(no name)", item["id"], item.get("provisioning_status"), item.get("vip_port_id"),
            item.get("vip_address"))
    if key.startswith("amphorae_"):
        what = {"amphorae_missing_compute": "server %s is not in Nova" % item.get("compute_id"),
                "amphorae_missing_vrrp_port": "VRRP port %s is not in Neutron" % item.get("vrrp_port_id"),
                "amphorae_missing_management_port": "management address %s is on no Neutron port"
                                                    % item.get("lb_network_ip")}[key]
        return "amphora %s (%s %s of load balancer %s): %s" % (
            item["id"], item.get("status"), item.get("role") or "spare", item.get("loadbalancer_id") or "-", what)
    if key == "orphan_ports":
        return "port %s (%s, owner %s, addresses %s, created %s): %s" % (
            item["id"], short or "no name", item.get("device_owner") or "-",
            ", ".join(i for i in item.get("ip_addresses") or [] if i) or "none", item.get("created_at") or "?",
            item.get("reason"))
    return "security group %s (%s, project %s, created %s): load balancer %s does not exist" % (
        item["id"], short, item.get("project_id"), item.get("created_at") or "?", item.get("loadbalancer_id"))


def report_lines(result, cloud=None, inspected=None):
    """The audit as readable lines (Markdown: a title, one section per check with
    findings, one bullet per finding)."""
    summary = result["summary"]
    where = " of cloud %s" % cloud if cloud else ""
    head = "# Octavia drift audit%s: %s" % (
        where, "%d finding(s)" % summary["total"] if result["drift"] else "no drift")
    lines = [head]
    if inspected:   # paragraphs apart (Markdown would join adjacent lines)
        lines += ["", "Inspected: " + ", ".join("%s %s" % (n, what.replace("_", " ")) for what, n in inspected.items())]
    lines += ["", "Findings per check: " + ", ".join("%s %d" % (c, summary[CHECKS[c][0]]) for c in result["checks"])]
    for check in result["checks"]:
        key, title = CHECKS[check]
        if result[key]:
            lines.append("")
            lines.append("## %s (%d)" % (title, len(result[key])))
            lines.extend("- " + _line(key, item) for item in result[key])
    if result["not_judged"]:
        lines.append("")
        lines.append("## Not judged (%d)" % len(result["not_judged"]))
        for item in result["not_judged"]:
            named = " (%s)" % item["name"] if item.get("name") else ""
            lines.append("- %s %s%s: %s" % (item["kind"].replace("_", " "), item["id"], named, item["reason"]))
    return lines
