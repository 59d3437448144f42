"""Write the DOCUMENTATION blocks of the load-balancer and catalog modules: short_description, description,
author and the doc fragments. Their options are not in the block: the fragment
octavia.lbaas.lb_options.<MODULE> renders them from the argument spec and the engine's field
docs (plugins/plugin_utils/lbaas_docs.py) whenever Ansible reads the docs, so they cannot drift.
Also the end of their RETURN: the values every module of a kind returns (the object "as Octavia
returns it", where HEADERS gives its note and sample; id, api_calls, actions, plan; an info module's
api_calls, and its list when one line of INFO_LISTS documents it), below a comment that says so
(Ansible has no doc fragments for RETURN). What a module returns of its own stays above it, written
by hand.

    ./run python tools/module_docs.py [NAME...]            # print the generated DOCUMENTATION
    ./run python tools/module_docs.py --check [NAME...]    # list modules whose blocks differ (exit 1)
    ./run python tools/module_docs.py --write [NAME...]    # rewrite their DOCUMENTATION blocks and RETURN ends

Each generated block carries the GENERATED comment above it. tests/unit/tools/test_module_docs.py
fails when a committed block differs from what this tool renders."""

from __future__ import annotations

import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / ".tmp" / "collections"))

from ansible_collections.octavia.lbaas.plugins.plugin_utils.lbaas_docs import MODULES, item  # noqa: E402

# ansible-test validate-modules wants "Name (@github-handle)"; the project's convention is
# this plain line (see the report of the change that added these modules).
AUTHOR = "octavia.lbaas maintainers (@octavia-lbaas)"

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
        what="load balancer", results=False),  # its RETURN documents id, api_calls, actions and plan in full
    "listener": dict(
        short="Manage a listener of an Octavia load balancer",
        description=[
            "Creates, updates or deletes one listener, found by O(protocol_port) and L4 protocol (TCP, UDP or SCTP) in "
            "its load balancer, and optionally its L7 policies.",
            "A change of O(protocol) or O(protocol_port) is refused before any write: delete and create the listener.",
        ],
        what="listener", returns=dict(
            note="with C(l7policies) and their C(rules) as objects when the task manages them",
            sample=['{"id": "0b9b2f0e-8d34-4d39-9fc7-5d3c2c1f5f11", "protocol": "HTTP", "protocol_port": 80,',
                    '"provisioning_status": "ACTIVE", "default_pool_id": "3c5c0c21-9d51-4a3e-8d1b-2a4f1c6d7e80"}'])),
    "pool": dict(
        short="Manage a pool of an Octavia load balancer, with its members and health monitor",
        description=[
            "Creates, updates or deletes one pool, found by O(name) in its load balancer.",
            "O(members), when given, is the pool's member set: every difference (new, changed and removed members) "
            "is applied with one batch update (C(PUT /v2/lbaas/pools/{id}/members)).",
            "O(healthmonitor), when given, creates or updates the pool's health monitor.",
        ],
        what="pool", returns=dict(
            note="with C(members) and C(healthmonitor) as objects when the task manages them",
            sample=['{"id": "3c5c0c21-9d51-4a3e-8d1b-2a4f1c6d7e80", "name": "web", "protocol": "HTTP",',
                    '"lb_algorithm": "ROUND_ROBIN", "provisioning_status": "ACTIVE"}'])),
    "member": dict(
        short="Manage members of an Octavia pool",
        description=[
            "Creates, updates or deletes one member (O(address) and O(protocol_port)), or a list of members "
            "(O(members)) with one batch update.",
            "Members are matched on address and protocol_port; no name is needed.",
        ],
        what="member", id=dict(returned="when O(address) is given")),
    "health_monitor": dict(
        short="Manage the health monitor of an Octavia pool",
        description=[
            "Creates, updates or deletes the health monitor of a pool (a pool has at most one).",
            "The monitor type must suit the pool protocol: UDP and SCTP pools take C(UDP-CONNECT), C(SCTP), C(TCP) or "
            "C(HTTP); other pools take C(HTTP), C(HTTPS), C(PING), C(TCP) or C(TLS-HELLO).",
        ],
        what="health monitor", returns=dict(
            sample=['{"id": "c3b1a2d4-5e6f-4a8b-9c0d-1e2f3a4b5c6d", "type": "HTTP", "delay": 5, "timeout": 3,',
                    '"max_retries": 3, "url_path": "/healthz", "provisioning_status": "ACTIVE"}'])),
    "l7policy": dict(
        short="Manage an L7 policy of an Octavia listener",
        description=[
            "Creates, updates or deletes one L7 policy, found by O(name) (or O(position) for a policy without a name) "
            "in its listener, and optionally its rules.",
        ],
        what="L7 policy", returns=dict(
            note="with C(rules) as objects when the task manages them",
            sample=['{"id": "e7c1d0a2-3b4c-4d5e-8f90-a1b2c3d4e5f6", "name": "api", "action": "REDIRECT_TO_POOL",',
                    '"position": 1, "provisioning_status": "ACTIVE"}'])),
    "l7rule": dict(
        short="Manage a rule of an Octavia L7 policy",
        description=[
            "Creates, updates or deletes one L7 rule, identified by O(type), O(compare_type), O(rule_key) and O(value) "
            "in its policy; O(invert), O(admin_state_up) and O(tags) are updated in place.",
        ],
        what="L7 rule", returns=dict(
            note="its C(key) is the task's O(rule_key)",
            sample=['{"id": "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0", "type": "HEADER", "compare_type": "EQUAL_TO",',
                    '"key": "X-Api-Version", "value": "2", "invert": false}'])),
    "flavor_profile": dict(
        short="Manage an Octavia flavor profile",
        description=[
            "Creates, updates or deletes a flavor profile (admin API): the provider settings a flavor applies, found by "
            "O(name).",
            "O(flavor_data) is a dict, compared as a dict with what Octavia has, and sent as the JSON string the API "
            "takes. Before any write the task checks that the provider is enabled and that every key of O(flavor_data) "
            "is one of the provider's flavor capabilities (see M(octavia.lbaas.provider_info)).",
            "Octavia refuses to change O(provider_name) or O(flavor_data), or to delete the profile, while a flavor "
            "uses it; the task fails before any write, naming the flavors.",
        ],
        what="flavor profile", catalog=True, returns=dict(
            note="C(flavor_data) is the JSON string Octavia stores",
            sample=['{"id": "7f0b5a3c-1d2e-4f6a-8b9c-0d1e2f3a4b5c", "name": "amphora-active-standby", "provider_name": "amphora",',
                    '"flavor_data": "{\\"loadbalancer_topology\\": \\"ACTIVE_STANDBY\\"}"}'])),
    "flavor": dict(
        short="Manage an Octavia flavor",
        description=[
            "Creates, updates or deletes a flavor (admin API), found by O(name): what users pick as a load balancer's "
            "C(flavor).",
            "O(description) and O(enabled) are updated in place; Octavia cannot change a flavor's "
            "O(flavor_profile): the task fails before any write (make a new flavor).",
        ],
        what="flavor", catalog=True, returns=dict(
            sample=['{"id": "2c9d8e7f-6a5b-4c3d-2e1f-0a9b8c7d6e5f", "name": "ha", "description": "Two amphorae, active and standby",',
                    '"enabled": true, "flavor_profile_id": "7f0b5a3c-1d2e-4f6a-8b9c-0d1e2f3a4b5c"}'])),
    "availability_zone_profile": dict(
        short="Manage an Octavia availability zone profile",
        description=[
            "Creates, updates or deletes an availability zone profile (admin API): the provider settings an "
            "availability zone applies, found by O(name).",
            "O(availability_zone_data) is a dict, compared as a dict and sent as the JSON string the API takes. "
            "Before any write the task checks that the provider is enabled and that every key is one of the "
            "provider's availability zone capabilities (see M(octavia.lbaas.provider_info)).",
            "Octavia refuses to change O(provider_name) or O(availability_zone_data), or to delete the profile, while "
            "an availability zone uses it; the task fails before any write, naming them.",
        ],
        what="availability zone profile", catalog=True, returns=dict(
            note="C(availability_zone_data) is the JSON string Octavia stores",
            sample=['{"id": "5e4d3c2b-1a0f-4e9d-8c7b-6a5f4e3d2c1b", "name": "az1", "provider_name": "amphora",',
                    '"availability_zone_data": "{\\"compute_zone\\": \\"az1\\"}"}'])),
    "availability_zone": dict(
        short="Manage an Octavia availability zone",
        description=[
            "Creates, updates or deletes an availability zone (admin API), found by O(name) (Octavia's key for it: "
            "an availability zone has no ID, and its name cannot change).",
            "O(description) and O(enabled) are updated in place; Octavia cannot change its "
            "O(availability_zone_profile): the task fails before any write.",
        ],
        what="availability zone", catalog=True,
        id=dict(description="Always null: an availability zone has no ID (its name is its key)."),
        returns=dict(note="it has no ID; its name is its key",
                     sample=['{"name": "az1", "description": "First rack", "enabled": true,',
                             '"availability_zone_profile_id": "5e4d3c2b-1a0f-4e9d-8c7b-6a5f4e3d2c1b"}'])),
    "quota": dict(
        short="Manage the load-balancer quota of a project",
        description=[
            "Sets the limits of a project (admin API): how many load balancers, listeners, pools, members, health "
            "monitors, L7 policies and rules it may have; C(-1) means unlimited.",
            "Limits are compared with the ones in effect (Octavia's defaults where the project has none of its "
            "own): a limit already in effect is no write. Limits the task does not give stay as they are.",
            "O(state=absent) resets every limit of the project to Octavia's defaults; it is no write when every "
            "limit in effect equals its default already (the API cannot tell those from limits of the project's "
            "own).",
        ],
        catalog=True, id=None, plan="always"),
}


# The info modules: (name, short_description, what it lists). Each only reads, and none fails when nothing matches.
INFO = (
    ("loadbalancer_info", "Read Octavia load balancers, with their tree, status and statistics",
     "load balancers, or finds one by name or ID"),
    ("listener_info", "Read listeners of Octavia load balancers", "listeners, of one load balancer or of the project"),
    ("pool_info", "Read pools of Octavia load balancers", "pools, of one load balancer or of the project"),
    ("member_info", "Read the members of an Octavia pool", "the members of a pool"),
    ("health_monitor_info", "Read Octavia health monitors",
     "health monitors: of one pool, of one load balancer, or of the project"),
    ("l7policy_info", "Read the L7 policies of an Octavia listener",
     "L7 policies with their rules, of one listener or of the project"),
    ("provider_info", "Read Octavia's provider drivers and their capabilities",
     "the enabled provider drivers; with O(provider), also the keys a flavor profile and an availability zone "
     "profile for it may set"),
    ("flavor_info", "Read Octavia flavors", "the flavors (what users pick as a load balancer's C(flavor)), or finds "
     "one by name or ID"),
    ("availability_zone_info", "Read Octavia availability zones",
     "the availability zones (what users pick as a load balancer's C(availability_zone)), or finds one by name"),
)
HEADERS.update((name, dict(short=short, description=["Lists %s. Never fails when nothing matches." % lists], info=True))
               for name, short, lists in INFO)

# The list an info module returns, where one line documents it (no sample; written with its api_calls): its key
# and what it holds.
INFO_LISTS = {"listener_info": ("listeners", "listeners"), "pool_info": ("pools", "pools"),
              "health_monitor_info": ("health_monitors", "health monitors")}


def documentation(name):
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
    fragments = ["octavia.lbaas.cloud"]
    if info:
        fragments.append("octavia.lbaas.lb_attributes.INFO")
    else:
        # the catalog objects (flavors, quotas, ...) have no provisioning status: nothing to wait for
        fragments += ([] if head.get("catalog") else ["octavia.lbaas.cloud.WAIT"]) + ["octavia.lbaas.lb_attributes"]
    fragments.append("octavia.lbaas.lb_options.%s" % name.upper())
    lines.append("extends_documentation_fragment: [%s]" % ", ".join(fragments))
    return "\n".join(lines) + "\n"


def entry(key, description, returned="always", type="str", more=""):
    """A RETURN value in one line (flow style)."""
    return '%s: {description: "%s", returned: %s, type: %s%s}' % (key, description, returned, type, more)


def wrapped(first, text, rest, width=118):
    """`first` + `text` (a plain YAML scalar) as lines of at most `width` characters, the next ones
    starting with `rest` (YAML folds them back into one line)."""
    words = text.split(" ")
    lines, current = [], first + words[0]
    for word in words[1:]:
        if len(current) + 1 + len(word) > width:
            lines.append(current)
            current = rest + word
        else:
            current += " " + word
    return lines + [current]


def returned_object(name):
    """The module's object as Octavia returns it, with the note and the sample of HEADERS[name]["returns"]."""
    head = HEADERS[name]
    returns = head["returns"]
    text = "The %s as Octavia returns it%s." % (head["what"], " (%s)" % returns["note"] if returns.get("note") else "")
    assert ": " not in text and " #" not in text, "not a plain YAML scalar: %s" % text
    sample = ["  sample: " + returns["sample"][0]] + ["           " + line for line in returns["sample"][1:]]
    return (["%s:" % name] + wrapped("  description: ", text, "    ")
            + ["  returned: always (null when absent)", "  type: dict"] + sample)


def results(name):
    """The values every load-balancer and catalog module returns besides its object (documented in
    full in loadbalancer's RETURN), or every info module: the end of its RETURN. First the module's
    object, where HEADERS documents it (`returns`)."""
    head = HEADERS[name]
    if head.get("info"):
        listed = []
        if name in INFO_LISTS:
            key, what = INFO_LISTS[name]
            listed.append(entry(key, "Matching %s as Octavia returns them (empty when none match)." % what, type="list",
                                more=", elements: dict"))
        return listed + [entry("api_calls", "API calls the task made (only reads).", type="dict",
                               more=', sample: {"writes": 0, "reads": 3}')]
    lines = returned_object(name) + [""] if head.get("returns") else []
    if head.get("id", {}) is not None:       # the quota has no ID
        id_doc = dict(head.get("id", {}))
        id_doc.setdefault("description", "ID of the %s (null when it does not exist)." % head.get("what"))
        lines.append(entry("id", **id_doc))
    calls = "Octavia" if head.get("catalog") else "Octavia and Neutron"
    return lines + [
        entry("api_calls", "%s API calls the task made, as in M(octavia.lbaas.loadbalancer)." % calls, type="dict"),
        entry("actions", "The writes the task made, or would make in check mode, in order.", type="list",
              more=", elements: str"),
        entry("plan", "The writes as data, as in M(octavia.lbaas.loadbalancer).",
              returned=head.get("plan", "when state is present"), type="list", more=", elements: dict"),
    ]


RESULTS = "# written by tools/module_docs.py (--write %s), as in every module of its kind: do not edit below\n"
RETURN_BLOCK = re.compile(r'(RETURN = r""")(.*?)(""")', re.S)
RESULT_KEYS = ("id:", "api_calls:", "actions:", "plan:")


def return_block(name, block):
    """`block` (a RETURN's text) with the generated results at its end: what the module writes by
    hand comes before the RESULTS comment (the first time, before the results it ends with)."""
    own = block.split(RESULTS % name)[0].rstrip("\n").split("\n")
    while own and (not own[-1] or own[-1].startswith(RESULT_KEYS)):
        own.pop()
    return ("\n".join(own) + "\n" if own else "") + "\n" + RESULTS % name + "\n".join(results(name)) + "\n"


GENERATED = ("# DOCUMENTATION is generated by tools/module_docs.py (its options: the doc fragment lb_options, from the\n"
             "# argument spec): do not edit it here; change the tool and run ./run python tools/module_docs.py --write %s\n")
BLOCK = re.compile(r'(?:# DOCUMENTATION is generated by [^\n]*\n# [^\n]*\n)?DOCUMENTATION = r""".*?"""', re.S)


def rendered(name):
    """The module's source with its generated DOCUMENTATION block (and the GENERATED comment)."""
    path = ROOT / "plugins" / "modules" / ("%s.py" % name)
    text = path.read_text()
    block = GENERATED % name + 'DOCUMENTATION = r"""%s"""' % documentation(name)
    new = BLOCK.sub(lambda m: block, text, count=1)
    if HEADERS[name].get("results", True):
        new = RETURN_BLOCK.sub(lambda m: m.group(1) + return_block(name, m.group(2)) + m.group(3), new, count=1)
    return path, text, new


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
                print("%s: differs from the generated DOCUMENTATION or RETURN" % path.relative_to(ROOT))
        else:
            print(documentation(name))
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
