# Copyright: octavia.lbaas contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The option documentation of the load-balancer modules, rendered from each module's
argument spec and the engine's field docs (lbaas_specs.py), so that a field documented once
reads the same in every module that takes it (a listener's options in `listener` and under
`loadbalancer`'s `listeners`, a member's in `member`, `pool` and `loadbalancer`).

Controller side only: the doc fragment `octavia.lbaas.lb_options` renders each module's
`options` from here when Ansible reads the documentation (ansible-doc, ansible-test
validate-modules), and tools/module_docs.py writes the rest of each module's DOCUMENTATION."""

from __future__ import annotations

import importlib
import json
import re

from ansible_collections.octavia.lbaas.plugins.module_utils import cloud, lbaas_specs

# The modules whose options are rendered here (the doc fragment lb_options has a variable for each).
MODULES = ("loadbalancer", "listener", "pool", "member", "health_monitor", "l7policy", "l7rule",
           "loadbalancer_info", "listener_info", "pool_info", "member_info", "health_monitor_info", "l7policy_info",
           "flavor_profile", "flavor", "availability_zone_profile", "availability_zone", "quota", "provider_info",
           "flavor_info", "availability_zone_info")

LB_REF = "Load balancer (name or ID) the %s belongs to."
TREE_NOTE = ("When given, the list is complete: see O(purge_listeners) and O(pools[].additive_only).")


def doc(*lines):
    """An option's documentation: its description, one item a line."""
    return {"description": list(lines)}


def state_doc(what):
    return doc("V(present) creates or updates the %s, V(absent) deletes it." % what)


def filters_doc(example):
    return doc("Octavia query filters, for example C({%s})." % example)


STATS = doc("Include traffic statistics as C(stats).")


ALLOW_EMPTY = doc(
    "An empty list (for example V(members: []) or V(listeners: [])) would delete every child it manages; the task "
    "fails instead, unless this is V(true). Guards against a variable or a filter that came out empty by accident.")

# Descriptions of options that are not Octavia fields (per module, dotted paths for nested ones).
EXTRA = {
    "loadbalancer": {
        "state": doc("V(present) creates or updates the load balancer and the tree the task gives, "
                     "V(absent) deletes the load balancer (with everything in it when O(cascade))."),
        "listeners": doc("The listeners of the load balancer.", TREE_NOTE,
                         "Each listener is matched by O(listeners[].protocol_port) and its L4 protocol."),
        "listeners.default_pool": doc(
            "The listener's default pool: a pool name (defined in O(pools), or existing in the load balancer), or a "
            "full pool definition with the keys of O(pools[]) (it is then defined here, once, and can be referred to "
            "by name elsewhere)."),
        "listeners.l7policies": doc(
            "L7 policies of the listener, in evaluation order (a policy without O(listeners[].l7policies[].position) "
            "gets its place in the list). When given, the listener has exactly these policies."),
        "listeners.l7policies.redirect_pool": doc(
            "Pool for C(REDIRECT_TO_POOL): a pool name, or a full pool definition with the keys of O(pools[])."),
        "listeners.l7policies.rules": doc("Rules of the policy; when given, the policy has exactly these rules."),
        "pools": doc("The pools of the load balancer, matched by name.",
                     "Pools not listed are deleted when O(purge_pools) (and not used by a listed listener)."),
        "pools.members": doc(
            "Members of the pool, matched on address and protocol_port. All changes of the pool's members are one "
            "batch update. Members not listed are deleted, unless O(pools[].additive_only)."),
        "pools.healthmonitor": doc("The health monitor of the pool."),
        "pools.additive_only": doc("Keep the pool's members that O(pools[].members) does not list."),
        "purge_listeners": doc("Delete listeners that O(listeners) does not list. Only when O(listeners) is given."),
        "purge_pools": doc("Delete pools that O(pools) does not list. Only when O(pools) is given."),
        "cascade": doc("With O(state=absent), delete the load balancer with all its children in one call.",
                       "Without it, Octavia refuses to delete a load balancer that has children."),
        "allow_empty": ALLOW_EMPTY,
        "failover": doc(
            "Fail the load balancer over (rebuild its amphorae) after applying the rest of the task.",
            "An explicit action: every run with V(true) fails over (and reports a change)."),
    },
    "listener": {
        "loadbalancer": doc(LB_REF % "listener"),
        "l7policies": doc("L7 policies of the listener, in evaluation order; each needs a name. "
                          "When given, the listener has exactly these policies."),
        "allow_empty": ALLOW_EMPTY,
        "l7policies.rules": doc("Rules of the policy; when given, the policy has exactly these rules."),
        "state": state_doc("listener"),
    },
    "pool": {
        "loadbalancer": doc(LB_REF % "pool"),
        "listener": doc("Make the pool the default pool of this listener: C(PROTOCOL:PORT) (for example "
                        "C(HTTP:80)), a listener name or an ID."),
        "members": doc("Members of the pool, matched on address and protocol_port; all changes are one "
                       "batch update. Members not listed are deleted unless O(additive_only)."),
        "additive_only": doc("Keep members that O(members) does not list."),
        "allow_empty": ALLOW_EMPTY,
        "healthmonitor": doc("The health monitor of the pool (created or updated)."),
        "state": state_doc("pool"),
    },
    "member": {
        "loadbalancer": doc("Load balancer (name or ID) of the pool; needed when O(pool) is a name."),
        "pool": doc("Pool (name or ID) the members belong to."),
        "members": doc(
            "Several members at once, applied with one batch update. Give the member options in each item; the "
            "top-level member options are for a single member."),
        "additive_only": doc(
            "With O(members), keep the pool's other members. V(false) makes O(members) the complete member set."),
        "allow_empty": ALLOW_EMPTY,
        "state": doc("V(present) creates or updates the member(s), V(absent) deletes them."),
    },
    "health_monitor": {
        "loadbalancer": doc("Load balancer (name or ID) of the pool; needed when O(pool) is a name."),
        "pool": doc("Pool (name or ID) the health monitor probes the members of."),
        "state": state_doc("health monitor"),
    },
    "l7policy": {
        "loadbalancer": doc("Load balancer (name or ID) of the listener; needed unless O(listener) is an ID."),
        "listener": doc("Listener of the policy: C(PROTOCOL:PORT) (for example C(HTTP:80)), a name or an ID."),
        "allow_empty": ALLOW_EMPTY,
        "rules": doc("Rules of the policy; when given, the policy has exactly these rules."),
        "state": state_doc("L7 policy"),
    },
    "l7rule": {
        "loadbalancer": doc("Load balancer (name or ID); needed unless O(listener) or O(l7policy) is an ID."),
        "listener": doc("Listener of the policy (C(PROTOCOL:PORT), name or ID); needed unless O(l7policy) "
                        "is an ID."),
        "l7policy": doc("L7 policy (name or ID) of the rule."),
        "state": state_doc("L7 rule"),
    },
    "loadbalancer_info": {
        "name": doc("Name or ID of the load balancer. All load balancers of the project when not given."),
        "filters": filters_doc("provisioning_status: ERROR"),
        "children": doc("Include listeners (with L7 policies and rules) and pools (with members and health "
                        "monitor) as objects instead of IDs."),
        "status_tree": doc("Include the status tree (C(GET /v2/lbaas/loadbalancers/{id}/status)) as C(status)."),
        "stats": STATS,
    },
    "listener_info": {
        "loadbalancer": doc("Only listeners of this load balancer (name or ID)."),
        "name": doc("C(PROTOCOL:PORT), name or ID of the listener."),
        "filters": filters_doc("protocol: HTTP"),
        "l7policies": doc("Include the L7 policies (with their rules) as objects."),
        "stats": STATS,
    },
    "pool_info": {
        "loadbalancer": doc("Only pools of this load balancer (name or ID)."),
        "name": doc("Name or ID of the pool."),
        "filters": filters_doc("protocol: HTTP"),
        "members": doc("Include the members as objects."),
        "healthmonitor": doc("Include the health monitor as an object."),
    },
    "member_info": {
        "loadbalancer": doc("Load balancer (name or ID) of the pool; needed when O(pool) is a name."),
        "pool": doc("Pool (name or ID)."),
        "address": doc("Only members with this address."),
        "protocol_port": doc("Only members on this port."),
        "filters": filters_doc("operating_status: ERROR"),
    },
    "health_monitor_info": {
        "loadbalancer": doc("Load balancer (name or ID): its monitors, or the one of O(pool)."),
        "pool": doc("Pool (name or ID) whose monitor to read."),
        "name": doc("Name or ID of the health monitor."),
        "filters": filters_doc("type: HTTP"),
    },
    "flavor_profile": {"state": doc("V(present) creates or updates the flavor profile, V(absent) deletes it "
                                    "(Octavia refuses while a flavor uses it; the task fails naming the flavors).")},
    "flavor": {"state": doc("V(present) creates or updates the flavor, V(absent) deletes it (Octavia refuses while a "
                            "load balancer uses it; the task fails naming them).")},
    "availability_zone_profile": {"state": doc(
        "V(present) creates or updates the availability zone profile, V(absent) deletes it (Octavia refuses while "
        "an availability zone uses it; the task fails naming them).")},
    "availability_zone": {"state": doc(
        "V(present) creates or updates the availability zone, V(absent) deletes it (Octavia refuses while a load "
        "balancer uses it; the task fails naming them).")},
    "quota": {
        "project": doc("Project (name or ID) whose load-balancer quota to set."),
        "state": doc("V(present) sets the limits the task gives (the others stay as they are); V(absent) resets "
                     "every limit of the project to Octavia's defaults (C([quotas]) of C(octavia.conf)) and takes "
                     "no limit."),
    },
    "provider_info": {
        "provider": doc("Only this provider, with its flavor and availability zone capabilities (what the data "
                        "of a flavor profile or an availability zone profile for it may set)."),
    },
    "flavor_info": {
        "name": doc("Name or ID of the flavor."),
        "filters": filters_doc("enabled: true"),
    },
    "availability_zone_info": {
        "name": doc("Name of the availability zone (Octavia's key for it: it has no ID)."),
        "filters": filters_doc("enabled: true"),
    },
    "l7policy_info": {
        "loadbalancer": doc("Load balancer (name or ID) of the listener; needed unless O(listener) is an ID."),
        "listener": doc("Listener (C(PROTOCOL:PORT), name or ID) whose policies to read."),
        "name": doc("Name or ID of the policy."),
        "filters": filters_doc("action: REJECT"),
        "rules": doc("Include the rules of each policy."),
    },
}

# Which engine spec documents the fields at each nested path of a module's options.
NESTED_KIND = {
    "listeners": "listener", "listeners.l7policies": "l7policy", "listeners.l7policies.rules": "l7rule",
    "pools": "pool", "pools.members": "member", "pools.healthmonitor": "health_monitor",
    "l7policies": "l7policy", "l7policies.rules": "l7rule", "members": "member", "healthmonitor": "health_monitor",
    "rules": "l7rule",
}
TOP_KIND = {"loadbalancer": "loadbalancer", "listener": "listener", "pool": "pool", "member": "member",
            "health_monitor": "health_monitor", "l7policy": "l7policy", "l7rule": "l7rule",
            "flavor_profile": "flavor_profile", "flavor": "flavor", "availability_zone_profile": "availability_zone_profile",
            "availability_zone": "availability_zone", "quota": "quota"}


def module_spec(name):
    module = importlib.import_module("ansible_collections.octavia.lbaas.plugins.modules.%s" % name)
    cls = [c for c in vars(module).values() if isinstance(c, type) and issubclass(c, cloud.CloudModule)
           and c.__module__ == module.__name__][0]
    return module, cls


def field_doc(kind, option):
    spec = lbaas_specs.SPECS[kind]
    field = spec.fields.get(option) or spec.secret_fields.get(option)
    if field is None and kind == "pool":
        field = {f.name: f for f in lbaas_specs.CHILD_EXTRA["pool"]}.get(option)
    if field is None:
        return None, None
    lines = [field.doc]
    if not field.updatable and option != "name":
        lines.append("This attribute cannot be updated.")
    if field.create_required and not field.required:
        lines.append("Required to create the %s." % spec.label)
    return lines, field


PROJECT = doc(
    "Project (name or ID) whose load balancers (and Neutron networks, subnets and ports) names are looked up in. "
    "Default: the project the credentials are scoped to. An admin sees every project; a name is never matched "
    "in another project than this one. A new load balancer is created in this project.",
    "IDs given for objects are used as they are, whatever their project.")


def describe(module, path, kind):
    extra = EXTRA.get(module, {}).get(path)
    if extra:
        return list(extra["description"])
    if path == "project":
        return list(PROJECT["description"])
    option = path.rsplit(".", 1)[-1]
    if kind:
        lines = field_doc(kind, option)[0]
        if lines:
            return lines
    raise KeyError("no description for %s option %s" % (module, path))


def suboption_fields(option):
    return {f.name: f for f in option.suboptions} if option.suboptions else {}


def render_options(module, spec, path="", kind=None, indent=2):
    out = []
    for name in sorted(spec):
        opt = spec[name]
        full = "%s.%s" % (path, name) if path else name
        pad = " " * indent
        out.append("%s%s:" % (pad, name))
        lines = describe(module, full, kind)
        out.append("%s  description:" % pad)
        for line in lines:
            out.extend(item("%s    " % pad, line))
        out.append("%s  type: %s" % (pad, opt["type"]))
        if opt.get("elements"):
            out.append("%s  elements: %s" % (pad, opt["elements"]))
        if opt.get("required"):
            out.append("%s  required: true" % pad)
        if "default" in opt:
            out.append("%s  default: %s" % (pad, json.dumps(opt["default"])))
        if opt.get("choices"):
            out.append("%s  choices: [%s]" % (pad, ", ".join(scalar(c) for c in opt["choices"])))
        if opt.get("aliases"):
            out.append("%s  aliases: [%s]" % (pad, ", ".join(opt["aliases"])))
        if opt.get("options"):
            out.append("%s  suboptions:" % pad)
            if name in FIELD_SUBOPTIONS:
                out.extend(render_field_suboptions(FIELD_SUBOPTIONS[name], opt["options"], indent + 4))
            else:
                out.extend(render_options(module, opt["options"], full, NESTED_KIND.get(full), indent + 4))
    return out


# Fields whose value is a dict (or list of dicts) of suboptions declared in lbaas_specs.
FIELD_SUBOPTIONS = {"session_persistence": lbaas_specs.SESSION_PERSISTENCE,
                    "additional_vips": lbaas_specs.ADDITIONAL_VIP,
                    **{name: lbaas_specs.CERTIFICATE_BUNDLE
                       for name in ("default_tls_certificate", "sni_certificates", "tls_certificate")}}


def render_field_suboptions(declared, spec, indent):
    fields = {f.name: f for f in declared}
    out = []
    pad = " " * indent
    for name in sorted(spec):
        opt = spec[name]
        out.append("%s%s:" % (pad, name))
        out.append("%s  description:" % pad)
        out.extend(item("%s    " % pad, fields[name].doc))
        out.append("%s  type: %s" % (pad, opt["type"]))
        if opt.get("required"):
            out.append("%s  required: true" % pad)
        if opt.get("choices"):
            out.append("%s  choices: [%s]" % (pad, ", ".join(scalar(c) for c in opt["choices"])))
    return out


def item(pad, text, width=118):
    """A YAML list item, wrapped (YAML folds the continuation lines back into one)."""
    words = scalar(text).split(" ")
    lines, current = [], ""
    for word in words:
        if current and len(pad) + 2 + len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = "%s %s" % (current, word) if current else word
    lines.append(current)
    return ["%s- %s" % (pad, lines[0])] + ["%s  %s" % (pad, rest) for rest in lines[1:]]


def scalar(value):
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    text = str(value)
    if re.match(r"^[A-Za-z0-9(][A-Za-z0-9 ,.()_/'=+-]*$", text) and not text.endswith(" ") and text.lower() not in (
            "yes", "no", "true", "false", "null", "on", "off"):
        return text
    return json.dumps(text)


def options_fragment(name):
    """The doc fragment text (`options:`) of the module `name`."""
    cls = module_spec(name)[1]
    return "\n".join(["", "options:"] + render_options(name, dict(cls.argument_spec), kind=TOP_KIND.get(name))) + "\n"


def options_fragments(cls):
    """Class decorator of the doc fragment lb_options: a variable per module of MODULES (its
    name in capitals) holding the module's options. (Set here rather than assigned in the
    class body: ansible-test's yamllint reads every assignment there as a YAML literal.)"""
    for name in MODULES:
        setattr(cls, name.upper(), options_fragment(name))
    return cls
