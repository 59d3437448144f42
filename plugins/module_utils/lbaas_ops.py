# Copyright: octavia.lbaas contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The writes of a plan: `Op` (one API call, with the ID references `Ref` it resolves at
run time) and the order of the plan's phases; and the fully-populated create of a new
load balancer, one POST with the whole tree (`graph_body()`, and `predict_tree()`, what
the diff shows for it)."""

from __future__ import annotations

from ansible_collections.octavia.lbaas.plugins.module_utils.cloud import ModuleError
from ansible_collections.octavia.lbaas.plugins.module_utils.lbaas_fields import join_path
from ansible_collections.octavia.lbaas.plugins.module_utils.lbaas_specs import HEALTH_MONITOR, L7POLICY, L7RULE, LISTENER, LOADBALANCER, MEMBER, POOL, SPECS
from ansible_collections.octavia.lbaas.plugins.module_utils.lbaas_state import public
from ansible_collections.octavia.lbaas.plugins.module_utils.values import is_uuid


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


def strings_in(value):
    """Every string in a body (dicts, lists), as a set."""
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return set().union(*(strings_in(v) for v in value)) if value else set()
    return set()


def replace_strings(value, mapping):
    """A body (or a diff view) with each string that is a key of `mapping` replaced by its
    value (the placeholders of new key manager secrets by their refs)."""
    if isinstance(value, str):
        return mapping.get(value, value)
    if isinstance(value, dict):
        return {k: replace_strings(v, mapping) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(replace_strings(v, mapping) for v in value)
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


# ---------------------------------------------------------------------------------------
# The fully-populated create (one POST for a whole new load balancer)
# ---------------------------------------------------------------------------------------

def _pool_by_name(spec, obj, field, pool_names, why=""):
    """The body of a listener or an L7 policy inside a new load balancer's: its pool (`field`,
    default_pool or redirect_pool) is referred to by name, and must be one of the task's pools."""
    body = spec.body(obj, refs=lambda name: name)
    pool = body.pop(field + "_id", None)
    if pool:
        if pool not in pool_names:
            raise ModuleError("%s: pool %s is not defined in this task%s" % (join_path(obj["_path"], field), pool, why))
        body[field] = {"name": pool}
    return body


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
        item = _pool_by_name(LISTENER, listener, "default_pool", pool_names, " (a new load balancer has no other pools)")
        policies = []
        for policy in listener.get("l7policies") or []:
            pitem = _pool_by_name(L7POLICY, policy, "redirect_pool", pool_names)
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


def predicted(kind, want):
    """What Octavia will report for a new `kind` made from `want`, with the children the task
    gives (spec.children: a pool's members and health monitor, a listener's policies, their rules)."""
    spec = SPECS[kind]
    item = public(spec.predict(want))
    for child in spec.children.values():
        value = want.get(child.name)
        if value is not None:
            item[child.name] = [predicted(child.kind, v) for v in value] if child.many else predicted(child.kind, value)
    return item


def predict_tree(desired):
    """The diff's `after` for a load balancer that does not exist yet."""
    after = public(LOADBALANCER.predict(desired["loadbalancer"]))
    for name, kind in (("pools", "pool"), ("listeners", "listener")):
        if desired.get(name) is not None:
            after[name] = [predicted(kind, item) for item in desired[name]]
    return after
