# Copyright: octavia.lbaas contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The current state of one load balancer's tree (`Current`: read lazily and cached, few
GETs) and how it compares with the wanted state (`diff_fields()`, `refuse_immutable()`,
`public()`)."""

from __future__ import annotations

from ansible_collections.octavia.lbaas.plugins.module_utils.cloud import ModuleError
from ansible_collections.octavia.lbaas.plugins.module_utils.lbaas_fields import LISTENER_REF_RE, l4_protocol
from ansible_collections.octavia.lbaas.plugins.module_utils.lbaas_specs import L7RULE, SPECS, label, listener_key


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

        def check(kind, obj, parent=None, shown=None):
            if obj and obj.get("provisioning_status") == "ERROR":
                bad.append(label(kind, shown or obj, parent))

        for li in self._listeners or []:
            check("listener", li)
            for policy in self._policies.get(li["id"], []):
                check("l7policy", policy, label("listener", li))
                for rule in self._rules.get(policy["id"], []):
                    check("l7rule", rule, label("l7policy", policy), L7RULE.view(rule))
        for pool in self._pools or []:
            check("pool", pool)
            for member in self._members.get(pool["id"], []):
                check("member", member, label("pool", pool))
            check("health_monitor", self._hms.get(pool.get("healthmonitor_id")), label("pool", pool))
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
