# Copyright: octavia.lbaas contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Planning: `Planner` turns (wanted, current) into the fewest writes in dependency order,
refusing changes Octavia cannot make, with before/after views for --diff; `tree_plan()`
plans a whole `loadbalancer` task; `batch_members_body()` is the batch member update of
a pool."""

from __future__ import annotations

import ipaddress

from ansible_collections.octavia.lbaas.plugins.module_utils.cloud import ModuleError
from ansible_collections.octavia.lbaas.plugins.module_utils.lbaas_fields import L7_LISTENER_PROTOCOLS, MAX_POLICY_POSITION, join_path
from ansible_collections.octavia.lbaas.plugins.module_utils.lbaas_ops import PHASES, Op, Ref
from ansible_collections.octavia.lbaas.plugins.module_utils.lbaas_specs import (
    HEALTH_MONITOR,
    L7POLICY,
    L7RULE,
    LISTENER,
    LOADBALANCER,
    MEMBER,
    POOL,
    SPECS,
    label,
    listener_key,
    member_key,
    rule_key,
)
from ansible_collections.octavia.lbaas.plugins.module_utils.lbaas_state import Current, apply_changes, diff_fields, public, refuse_immutable
from ansible_collections.octavia.lbaas.plugins.module_utils.lbaas_validate import Validator, _referenced_pools


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

    def view(self, kind, obj):
        """`obj` in option space; the load balancer's pool names (a listener's default pool, a
        policy's redirect pool) are read only when it refers to a pool."""
        spec = SPECS[kind]
        refers = any(f.ref == "pool" and obj.get(f.api) for f in spec.fields.values())
        return spec.view(obj, self.current.pool_names() if refers else None)

    def compare(self, kind, want, have, what):
        """-> (`have` in option space, the changes `want` makes to it); fails before any write on
        a change Octavia cannot make."""
        view = self.view(kind, have)
        changes = diff_fields(kind, want, view)
        refuse_immutable(kind, what, changes)
        return view, changes

    def listener_view(self, li, policies=False):
        view = self.view("listener", li)
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
        view, changes = self.compare("listener", want, have, what)
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
        view = self.view("l7policy", policy)
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
        view, changes = self.compare("l7policy", want, have, what)
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
        view, changes = self.compare("pool", want, have, what)
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
        view, changes = self.compare("health_monitor", want, have, what)
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


def batch_members_body(wanted, current=(), additive_only=False):
    """The body of PUT /v2/lbaas/pools/{id}/members for a wanted member list: every
    listed member, existing ones with their current values for options the task does
    not give (so the PUT never resets them)."""
    current = list(current)
    planner = Planner(Current(None, {"id": "-"}, pools=[], members={"-": current}))
    planner.members(wanted, current, "-", "pool", additive_only)
    ops = planner.plan()
    return ops[0].body if ops else None
