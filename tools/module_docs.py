"""Render the DOCUMENTATION of the load-balancer modules from their argument specs and the
engine's field docs, so the two cannot drift apart.

    ./run python tools/module_docs.py [NAME...]            # print the generated DOCUMENTATION
    ./run python tools/module_docs.py --check [NAME...]    # list modules whose block differs (exit 1)
    ./run python tools/module_docs.py --write [NAME...]    # rewrite their DOCUMENTATION blocks

Each generated block carries the GENERATED comment above it. tests/unit/tools/test_module_docs.py
fails when a committed block differs from what this tool renders."""

from __future__ import annotations

import importlib
import json
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / ".tmp" / "collections"))

from ansible_collections.octavia.lbaas.plugins.module_utils import cloud, lbaas_specs  # noqa: E402

MODULES = ("loadbalancer", "listener", "pool", "member", "health_monitor", "l7policy", "l7rule",
           "loadbalancer_info", "listener_info", "pool_info", "member_info", "health_monitor_info", "l7policy_info")

# ansible-test validate-modules wants "Name (@github-handle)"; the project's convention is
# this plain line (see the report of the change that added these modules).
AUTHOR = "octavia.lbaas maintainers (@octavia-lbaas)"
LB_REF = "Load balancer (name or ID) the %s belongs to."
STATE = {"description": ["V(present) creates or updates the %s, V(absent) deletes it."]}
TREE_NOTE = ("When given, the list is complete: see O(purge_listeners) and O(pools[].additive_only).")

HEADERS = {
    "loadbalancer": dict(
        short="Manage an Octavia load balancer and its whole tree",
        description=[
            "Creates, updates or deletes an Octavia load balancer, and, declaratively, its listeners, pools, members, "
            "health monitors, L7 policies and rules in one task.",
            "A new load balancer is created with B(one) fully populated API call (Octavia's graph create) and one wait.",
            "On later runs the module reads the tree (a few GETs), diffs it against the task and writes only what differs: "
            "each object is matched by its natural key inside its parent (listener = L4 protocol + port, pool = name, "
            "member = address + port, L7 policy = name, rule = type + compare_type + key + value); all member changes of a "
            "pool are one batch update.",
            "Options not given are left as they are. A change Octavia cannot make (for example a listener's protocol or "
            "the VIP subnet) fails before any write, naming the object and the field.",
            "Every write waits for the load balancer to leave C(PENDING_*), polling after 0.25 s and backing off to 2 s; "
            "409 (immutable) and 503 (busy) answers are retried with jittered backoff, all within O(timeout).",
        ],
        notes=["The result's RV(api_calls) counts Octavia and Neutron API calls; a re-run with nothing to change makes "
               "no write."],
        what="load balancer"),
    "listener": dict(
        short="Manage a listener of an Octavia load balancer",
        description=[
            "Creates, updates or deletes one listener, found by O(protocol_port) and L4 protocol (TCP, UDP or SCTP) in "
            "its load balancer, and optionally its L7 policies.",
            "A change of O(protocol) or O(protocol_port) is refused before any write: delete and create the listener.",
        ],
        what="listener"),
    "pool": dict(
        short="Manage a pool of an Octavia load balancer, with its members and health monitor",
        description=[
            "Creates, updates or deletes one pool, found by O(name) in its load balancer.",
            "O(members), when given, is the pool's member set: every difference (new, changed and removed members) "
            "is applied with one batch update (C(PUT /v2/lbaas/pools/{id}/members)).",
            "O(healthmonitor), when given, creates or updates the pool's health monitor.",
        ],
        what="pool"),
    "member": dict(
        short="Manage members of an Octavia pool",
        description=[
            "Creates, updates or deletes one member (O(address) and O(protocol_port)), or a list of members "
            "(O(members)) with one batch update.",
            "Members are matched on address and protocol_port; no name is needed.",
        ],
        what="member"),
    "health_monitor": dict(
        short="Manage the health monitor of an Octavia pool",
        description=[
            "Creates, updates or deletes the health monitor of a pool (a pool has at most one).",
            "The monitor type must suit the pool protocol: UDP and SCTP pools take C(UDP-CONNECT), C(SCTP), C(TCP) or "
            "C(HTTP); other pools take C(HTTP), C(HTTPS), C(PING), C(TCP) or C(TLS-HELLO).",
        ],
        what="health monitor"),
    "l7policy": dict(
        short="Manage an L7 policy of an Octavia listener",
        description=[
            "Creates, updates or deletes one L7 policy, found by O(name) (or O(position) for a policy without a name) "
            "in its listener, and optionally its rules.",
        ],
        what="L7 policy"),
    "l7rule": dict(
        short="Manage a rule of an Octavia L7 policy",
        description=[
            "Creates, updates or deletes one L7 rule, identified by O(type), O(compare_type), O(rule_key) and O(value) "
            "in its policy; O(invert), O(admin_state_up) and O(tags) are updated in place.",
        ],
        what="L7 rule"),
    "loadbalancer_info": dict(
        short="Read Octavia load balancers, with their tree, status and statistics",
        description=["Lists load balancers, or finds one by name or ID. Never fails when nothing matches."],
        info=True),
    "listener_info": dict(
        short="Read listeners of Octavia load balancers",
        description=["Lists listeners, of one load balancer or of the project. Never fails when nothing matches."],
        info=True),
    "pool_info": dict(
        short="Read pools of Octavia load balancers",
        description=["Lists pools, of one load balancer or of the project. Never fails when nothing matches."],
        info=True),
    "member_info": dict(
        short="Read the members of an Octavia pool",
        description=["Lists the members of a pool. Never fails when nothing matches."],
        info=True),
    "health_monitor_info": dict(
        short="Read Octavia health monitors",
        description=["Lists health monitors: of one pool, of one load balancer, or of the project. "
                     "Never fails when nothing matches."],
        info=True),
    "l7policy_info": dict(
        short="Read the L7 policies of an Octavia listener",
        description=["Lists L7 policies with their rules, of one listener or of the project. "
                     "Never fails when nothing matches."],
        info=True),
}

ALLOW_EMPTY = {"description": [
    "An empty list (for example V(members: []) or V(listeners: [])) would delete every child it manages; the task "
    "fails instead, unless this is V(true). Guards against a variable or a filter that came out empty by accident."]}

# Descriptions of options that are not Octavia fields (per module, dotted paths for nested ones).
EXTRA = {
    "loadbalancer": {
        "state": {"description": ["V(present) creates or updates the load balancer and the tree the task gives, "
                                  "V(absent) deletes the load balancer (with everything in it when O(cascade))."]},
        "listeners": {"description": ["The listeners of the load balancer.", TREE_NOTE,
                                      "Each listener is matched by O(listeners[].protocol_port) and its L4 protocol."]},
        "listeners.default_pool": {"description": [
            "The listener's default pool: a pool name (defined in O(pools), or existing in the load balancer), or a "
            "full pool definition with the keys of O(pools[]) (it is then defined here, once, and can be referred to "
            "by name elsewhere)."]},
        "listeners.l7policies": {"description": [
            "L7 policies of the listener, in evaluation order (a policy without O(listeners[].l7policies[].position) "
            "gets its place in the list). When given, the listener has exactly these policies."]},
        "listeners.l7policies.redirect_pool": {"description": [
            "Pool for C(REDIRECT_TO_POOL): a pool name, or a full pool definition with the keys of O(pools[])."]},
        "listeners.l7policies.rules": {"description": ["Rules of the policy; when given, the policy has exactly these rules."]},
        "pools": {"description": ["The pools of the load balancer, matched by name.",
                                  "Pools not listed are deleted when O(purge_pools) (and not used by a listed listener)."]},
        "pools.members": {"description": [
            "Members of the pool, matched on address and protocol_port. All changes of the pool's members are one "
            "batch update. Members not listed are deleted, unless O(pools[].additive_only)."]},
        "pools.healthmonitor": {"description": ["The health monitor of the pool."]},
        "pools.additive_only": {"description": ["Keep the pool's members that O(pools[].members) does not list."]},
        "purge_listeners": {"description": ["Delete listeners that O(listeners) does not list. Only when O(listeners) is given."]},
        "purge_pools": {"description": ["Delete pools that O(pools) does not list. Only when O(pools) is given."]},
        "cascade": {"description": ["With O(state=absent), delete the load balancer with all its children in one call.",
                                    "Without it, Octavia refuses to delete a load balancer that has children."]},
        "allow_empty": ALLOW_EMPTY,
        "failover": {"description": [
            "Fail the load balancer over (rebuild its amphorae) after applying the rest of the task.",
            "An explicit action: every run with V(true) fails over (and reports a change)."]},
    },
    "listener": {
        "loadbalancer": {"description": [LB_REF % "listener"]},
        "l7policies": {"description": ["L7 policies of the listener, in evaluation order; each needs a name. "
                                       "When given, the listener has exactly these policies."]},
        "allow_empty": ALLOW_EMPTY,
        "l7policies.rules": {"description": ["Rules of the policy; when given, the policy has exactly these rules."]},
        "state": STATE,
    },
    "pool": {
        "loadbalancer": {"description": [LB_REF % "pool"]},
        "listener": {"description": ["Make the pool the default pool of this listener: C(PROTOCOL:PORT) (for example "
                                     "C(HTTP:80)), a listener name or an ID."]},
        "members": {"description": ["Members of the pool, matched on address and protocol_port; all changes are one "
                                    "batch update. Members not listed are deleted unless O(additive_only)."]},
        "additive_only": {"description": ["Keep members that O(members) does not list."]},
        "allow_empty": ALLOW_EMPTY,
        "healthmonitor": {"description": ["The health monitor of the pool (created or updated)."]},
        "state": STATE,
    },
    "member": {
        "loadbalancer": {"description": ["Load balancer (name or ID) of the pool; needed when O(pool) is a name."]},
        "pool": {"description": ["Pool (name or ID) the members belong to."]},
        "members": {"description": [
            "Several members at once, applied with one batch update. Give the member options in each item; the "
            "top-level member options are for a single member."]},
        "additive_only": {"description": [
            "With O(members), keep the pool's other members. V(false) makes O(members) the complete member set."]},
        "allow_empty": ALLOW_EMPTY,
        "state": {"description": ["V(present) creates or updates the member(s), V(absent) deletes them."]},
    },
    "health_monitor": {
        "loadbalancer": {"description": ["Load balancer (name or ID) of the pool; needed when O(pool) is a name."]},
        "pool": {"description": ["Pool (name or ID) the health monitor probes the members of."]},
        "state": STATE,
    },
    "l7policy": {
        "loadbalancer": {"description": ["Load balancer (name or ID) of the listener; needed unless O(listener) is an ID."]},
        "listener": {"description": ["Listener of the policy: C(PROTOCOL:PORT) (for example C(HTTP:80)), a name or an ID."]},
        "allow_empty": ALLOW_EMPTY,
        "rules": {"description": ["Rules of the policy; when given, the policy has exactly these rules."]},
        "state": STATE,
    },
    "l7rule": {
        "loadbalancer": {"description": ["Load balancer (name or ID); needed unless O(listener) or O(l7policy) is an ID."]},
        "listener": {"description": ["Listener of the policy (C(PROTOCOL:PORT), name or ID); needed unless O(l7policy) "
                                     "is an ID."]},
        "l7policy": {"description": ["L7 policy (name or ID) of the rule."]},
        "state": STATE,
    },
    "loadbalancer_info": {
        "name": {"description": ["Name or ID of the load balancer. All load balancers of the project when not given."]},
        "filters": {"description": ["Octavia query filters, for example C({provisioning_status: ERROR})."]},
        "children": {"description": ["Include listeners (with L7 policies and rules) and pools (with members and health "
                                     "monitor) as objects instead of IDs."]},
        "status_tree": {"description": ["Include the status tree (C(GET /v2/lbaas/loadbalancers/{id}/status)) as C(status)."]},
        "stats": {"description": ["Include traffic statistics as C(stats)."]},
    },
    "listener_info": {
        "loadbalancer": {"description": ["Only listeners of this load balancer (name or ID)."]},
        "name": {"description": ["C(PROTOCOL:PORT), name or ID of the listener."]},
        "filters": {"description": ["Octavia query filters, for example C({protocol: HTTP})."]},
        "l7policies": {"description": ["Include the L7 policies (with their rules) as objects."]},
        "stats": {"description": ["Include traffic statistics as C(stats)."]},
    },
    "pool_info": {
        "loadbalancer": {"description": ["Only pools of this load balancer (name or ID)."]},
        "name": {"description": ["Name or ID of the pool."]},
        "filters": {"description": ["Octavia query filters, for example C({protocol: HTTP})."]},
        "members": {"description": ["Include the members as objects."]},
        "healthmonitor": {"description": ["Include the health monitor as an object."]},
    },
    "member_info": {
        "loadbalancer": {"description": ["Load balancer (name or ID) of the pool; needed when O(pool) is a name."]},
        "pool": {"description": ["Pool (name or ID)."]},
        "address": {"description": ["Only members with this address."]},
        "protocol_port": {"description": ["Only members on this port."]},
        "filters": {"description": ["Octavia query filters, for example C({operating_status: ERROR})."]},
    },
    "health_monitor_info": {
        "loadbalancer": {"description": ["Load balancer (name or ID): its monitors, or the one of O(pool)."]},
        "pool": {"description": ["Pool (name or ID) whose monitor to read."]},
        "name": {"description": ["Name or ID of the health monitor."]},
        "filters": {"description": ["Octavia query filters, for example C({type: HTTP})."]},
    },
    "l7policy_info": {
        "loadbalancer": {"description": ["Load balancer (name or ID) of the listener; needed unless O(listener) is an ID."]},
        "listener": {"description": ["Listener (C(PROTOCOL:PORT), name or ID) whose policies to read."]},
        "name": {"description": ["Name or ID of the policy."]},
        "filters": {"description": ["Octavia query filters, for example C({action: REJECT})."]},
        "rules": {"description": ["Include the rules of each policy."]},
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
            "health_monitor": "health_monitor", "l7policy": "l7policy", "l7rule": "l7rule"}


def module_spec(name):
    module = importlib.import_module("ansible_collections.octavia.lbaas.plugins.modules.%s" % name)
    cls = [c for c in vars(module).values() if isinstance(c, type) and issubclass(c, cloud.CloudModule)
           and c.__module__ == module.__name__][0]
    return module, cls


def field_doc(kind, option):
    spec = lbaas_specs.SPECS[kind]
    field = spec.fields.get(option)
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


PROJECT = {"description": [
    "Project (name or ID) whose load balancers (and Neutron networks, subnets and ports) names are looked up in. "
    "Default: the project the credentials are scoped to. An admin sees every project; a name is never matched "
    "in another project than this one. A new load balancer is created in this project.",
    "IDs given for objects are used as they are, whatever their project."]}


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
            if name == "session_persistence":
                out.extend(render_session_persistence(opt["options"], indent + 4))
            else:
                out.extend(render_options(module, opt["options"], full, NESTED_KIND.get(full), indent + 4))
    return out


def render_session_persistence(spec, indent):
    fields = {f.name: f for f in lbaas_specs.SESSION_PERSISTENCE}
    out = []
    pad = " " * indent
    for name in sorted(spec):
        opt = spec[name]
        out.append("%s%s:" % (pad, name))
        out.append("%s  description:" % pad)
        out.extend(item("%s    " % pad, fields[name].doc))
        out.append("%s  type: %s" % (pad, opt["type"]))
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


def documentation(name):
    cls = module_spec(name)[1]
    head = HEADERS[name]
    info = head.get("info")
    lines = ["", "module: %s" % name, "short_description: %s" % head["short"], "description:"]
    for text in head["description"]:
        lines += item("  ", text)
    if head.get("notes"):
        lines.append("notes:")
        for text in head["notes"]:
            lines += item("  ", text)
    lines.append("author: %s" % AUTHOR)
    lines.append("extends_documentation_fragment:")
    lines.append("  - octavia.lbaas.cloud")
    if not info:
        lines.append("  - octavia.lbaas.cloud.WAIT")
        lines.append("  - octavia.lbaas.lb_attributes")
    else:
        lines.append("  - octavia.lbaas.lb_attributes.INFO")
    lines.append("options:")
    lines += render_options(name, dict(cls.argument_spec), kind=TOP_KIND.get(name))
    return "\n".join(lines) + "\n"


GENERATED = ("# DOCUMENTATION is generated by tools/module_docs.py from the argument spec: do not edit it here,\n"
             "# change the spec (or the tool) and run ./run python tools/module_docs.py --write %s\n")
BLOCK = re.compile(r'(?:# DOCUMENTATION is generated by [^\n]*\n# [^\n]*\n)?DOCUMENTATION = r""".*?"""', re.S)


def rendered(name):
    """The module's source with its generated DOCUMENTATION block (and the GENERATED comment)."""
    path = ROOT / "plugins" / "modules" / ("%s.py" % name)
    text = path.read_text()
    block = GENERATED % name + 'DOCUMENTATION = r"""%s"""' % documentation(name)
    return path, text, BLOCK.sub(lambda m: block, text, count=1)


def write(name):
    path, text, new = rendered(name)
    if new != text:
        path.write_text(new)
        return True
    return False


def main(argv):
    names = [a for a in argv if not a.startswith("-")] or MODULES
    stale = []
    for name in names:
        if "--write" in argv:
            print("%s: %s" % (name, "rewritten" if write(name) else "up to date"))
        elif "--check" in argv:
            path, text, new = rendered(name)
            if new != text:
                stale.append(name)
                print("%s: differs from the generated DOCUMENTATION" % path.relative_to(ROOT))
        else:
            print(documentation(name))
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
