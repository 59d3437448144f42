# Copyright: octavia.lbaas contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The base classes of the load-balancer modules: `ParentLookup` (parents given by name
or ID, names looked up inside their parent and the task's project), `LbaasModule` (runs
a plan: waits, retries, check mode, results with api_calls and diff) and
`LbaasInfoModule`."""

from __future__ import annotations

import ipaddress

from ansible_collections.octavia.lbaas.plugins.module_utils.cloud import CloudModule, Deadline, ModuleError
from ansible_collections.octavia.lbaas.plugins.module_utils.identity_lookup import resolve_project
from ansible_collections.octavia.lbaas.plugins.module_utils.key_manager import KeyManager
from ansible_collections.octavia.lbaas.plugins.module_utils.lbaas_api import OctaviaApi
from ansible_collections.octavia.lbaas.plugins.module_utils.lbaas_fields import PENDING_PREFIX
from ansible_collections.octavia.lbaas.plugins.module_utils.lbaas_ops import Op, replace_strings, resolve, strings_in
from ansible_collections.octavia.lbaas.plugins.module_utils.lbaas_specs import CHILD_EXTRA, SPECS, label, rule_key
from ansible_collections.octavia.lbaas.plugins.module_utils.lbaas_state import Current, public
from ansible_collections.octavia.lbaas.plugins.module_utils.lbaas_validate import desire
from ansible_collections.octavia.lbaas.plugins.module_utils.tls_material import secret, secret_name
from ansible_collections.octavia.lbaas.plugins.module_utils.values import is_uuid

PROJECT_OPTION = {"type": "str"}


def info_options(*parents, **options):
    """The options of an info module that lists objects of load balancers: the project, the
    load balancer (then `parents`, the object's parents in it), the object's name or ID,
    Octavia's query filters, then the module's own `options`."""
    spec = dict(project=dict(PROJECT_OPTION), loadbalancer=dict(type="str"))
    spec.update((parent, dict(type="str")) for parent in parents)
    spec.update(name=dict(type="str"), filters=dict(type="dict", default={}), **options)
    return spec


def child_options(*parents):
    """The options that place an object of a load balancer: the project, the load balancer,
    then `parents` (the object's parents in it, outermost first): the last one is required
    (the load balancer when there are none)."""
    places = ("loadbalancer",) + parents
    spec = dict(project=dict(PROJECT_OPTION))
    spec.update((place, dict(type="str")) for place in places[:-1])
    spec[places[-1]] = dict(type="str", required=True)
    return spec


def flag(default=False):
    """A boolean option of an info module: what to include."""
    return dict(type="bool", default=default)


class ParentLookup:
    """Find an object's parents given by name or ID. Names are looked up inside the
    parent (a pool name in its load balancer, a policy name in its listener); an ID
    alone is enough, its parents are read from it. A load balancer's name is looked up
    in one project only: the task's `project`, or the caller's own."""

    def scope_project(self):
        """The ID of the project name lookups are limited to."""
        return resolve_project(self.conn, self.params.get("project"))

    def find_loadbalancer(self, ref, required=True):
        lb = self.api.find_loadbalancer(ref) if ref else None
        if lb is None and required:
            raise ModuleError("Load balancer %s not found" % ref)
        return lb

    def lookup_lb(self, ref, required=True):
        return self.find_loadbalancer(ref, required)

    def lookup_pool(self, pool_ref, lb_ref=None, required=True):
        """-> (Current of the pool's load balancer, pool) or (None, None)."""
        return self._lookup_lb_child("pool", pool_ref, lb_ref, required,
                                     "pool: %s is a name; give loadbalancer too (pool names are looked up in their "
                                     "load balancer)")

    def lookup_listener(self, listener_ref, lb_ref=None, required=True):
        """-> (Current, listener) or (None, None). A listener is PROTOCOL:PORT, a name or an ID."""
        return self._lookup_lb_child("listener", listener_ref, lb_ref, required,
                                     "listener: %s is not an ID; give loadbalancer too")

    def _lookup_lb_child(self, kind, ref, lb_ref, required, needs_lb):
        """A pool or a listener (`kind`): found in the load balancer `lb_ref`, or read by its ID
        with its load balancer. -> (Current, object) or (None, None)."""
        if lb_ref:
            lb = self.lookup_lb(lb_ref, required)
            if lb is None:
                return None, None
            current = Current(self.api, lb)
            found = getattr(current, "find_" + kind)(ref)
        elif is_uuid(ref):
            found = self.api.get("/lbaas/%ss/%s" % (kind, ref), missing_ok=True)
            found = found.get(kind) if found else None
            lb = self.api.get_loadbalancer(found["loadbalancers"][0]["id"]) if found else None
            current = Current(self.api, lb) if lb else None
        else:
            raise ModuleError(needs_lb % ref)
        if found is None and required:
            raise ModuleError("%s %s not found%s" % (kind.capitalize(), ref, " in load balancer %s" % lb_ref if lb_ref else ""))
        return current, found

    def lookup_l7policy(self, policy_ref, listener_ref=None, lb_ref=None, required=True):
        """-> (Current, listener, policy) or (None, None, None)."""
        if listener_ref:
            current, listener = self.lookup_listener(listener_ref, lb_ref, required)
            if listener is None:
                return None, None, None
            policy = current.find_l7policy(listener, policy_ref)
        elif is_uuid(policy_ref):
            found = self.api.get("/lbaas/l7policies/%s" % policy_ref, missing_ok=True)
            policy = found.get("l7policy") if found else None
            current, listener = (self.lookup_listener(policy["listener_id"], None, required) if policy else (None, None))
        else:
            raise ModuleError("l7policy: %s is not an ID; give listener (and loadbalancer) too" % policy_ref)
        if policy is None and required:
            raise ModuleError("L7 policy %s not found" % policy_ref)
        return current, listener, policy


class LbaasModule(ParentLookup, CloudModule):
    """Base of every octavia.lbaas load-balancer module.

    A module sets ``argument_spec`` (object options from ``SPECS[kind].argspec()``),
    implements ``run()`` with ``self.api`` (counted, retrying client), ``self.current_of``
    (lazy reader of one load balancer), ``Planner`` and ``self.execute(ops, lb_id)``, and
    ends with ``self.finish(...)``, which adds ``api_calls`` and the diff."""

    wait_options = True
    kind = None     # the module's object: a key of SPECS (used by validate() and finish_absent())

    def __init__(self):
        super().__init__()
        self._api = None
        self.ids = {}
        self._key_manager = None
        self.secret_refs = {}     # secret name -> its ref, or the placeholder of a new secret
        self.new_secrets = {}     # placeholder -> (name, kind, value, option, ref option): stored by execute()

    def validate(self):
        """The task's object (`self.want`) when it is to be present: checked before any API call
        (with the options its kind takes besides its fields, CHILD_EXTRA: a pool's additive_only)."""
        if self.params["state"] == "present":
            self.want = desire(self.kind, self.params, extra=CHILD_EXTRA.get(self.kind, ()))

    def resolve_certificates(self, kind, objects):
        """The PEM options of wanted `objects` (listeners or pools: Spec.secret_fields) → the
        key manager refs they stand for. A secret with the same content (found by its name,
        tls_material.secret_name) is reused; a missing one gets a placeholder that the plan
        and the diff show, and execute() stores it just before the first write (check mode:
        never). The PEM values leave the wanted object."""
        for obj in objects or []:
            for f in SPECS[kind].secret_fields.values():
                value = obj.pop(f.name, None)
                if value is None:
                    continue
                refs = [self._secret_ref(f, item) for item in (value if f.type == "list" else [value])]
                obj[f.stores] = refs if f.type == "list" else refs[0]

    def _secret_ref(self, field, value):
        """The ref of the secret holding `value` (one lookup per content), or its placeholder."""
        name = secret_name(field.pem, value)
        if name not in self.secret_refs:
            if self._key_manager is None:
                self._key_manager = KeyManager(self.conn)
            ref = self._key_manager.find(name, field.name, field.stores)
            if not ref:
                ref = "(new Barbican secret %s: its ref is known once it is stored)" % name
                self.new_secrets[ref] = (name, field.pem, value, field.name, field.stores)
            self.secret_refs[name] = ref
        return self.secret_refs[name]

    def store_secrets(self, ops):
        """Store the new secrets the plan's writes refer to, and put their refs in the writes'
        bodies and in the diff. In check mode each is a write the task would make."""
        used = strings_in([op.body for op in ops]) & set(self.new_secrets)
        refs = {}
        for placeholder in sorted(used):
            name, pem, value, option, ref_option = self.new_secrets[placeholder]
            ref = self.write("store secret %s in Barbican (%s)" % (name, option), self._key_manager.store,
                             secret(pem, value, name), option, ref_option)
            if ref:
                refs[placeholder] = ref
        if refs:
            for op in ops:
                op.body, op.changes = replace_strings(op.body, refs), replace_strings(op.changes, refs)
            self.after = replace_strings(self.after, refs)

    def finish_absent(self, current, have, parent, path=None):
        """Exit for state=absent (or a parent that does not exist): delete `have`, the object as
        Octavia returned it, when there is one. `path` is its API path (default: the spec's path/ID)."""
        spec = SPECS[self.kind]
        ops = []
        if have is not None:
            self.before, self.after = public(spec.view(have)), {}
            ops = [Op("delete", self.kind, label(self.kind, spec.view(have), parent), "DELETE",
                      path or "%s/%s" % (spec.path, have["id"]))]
            self.execute(ops, current.lb_id, current.lb.get("provisioning_status"))
        self.finish(changed=bool(ops), id=have["id"] if have else None, **{self.kind: have})

    def apply_plan(self, planner, current, ids=None):
        """Make the planner's writes (the fewest), after its before/after went into the diff."""
        ops = planner.plan()
        self.execute(ops, current.lb_id, current.lb.get("provisioning_status"), ids=ids)
        return ops

    @property
    def api(self):
        if self._api is None:
            self._api = OctaviaApi(self.conn, self.deadline or Deadline(self.params.get("api_timeout") or 300),
                                   project=self.scope_project)
        return self._api

    def calls(self):
        """The task's API calls: Octavia's and Neutron's, with the key manager's (also apart)."""
        calls = self._api.calls() if self._api is not None else {"writes": 0, "reads": 0}
        if self._key_manager is not None:
            barbican = self._key_manager.calls()
            calls = {"writes": calls["writes"] + barbican["writes"], "reads": calls["reads"] + barbican["reads"],
                     "key_manager": barbican}
        return calls

    def find_loadbalancer(self, ref, required=True):
        lb = self.api.find_loadbalancer(ref)
        if lb is not None and lb.get("provisioning_status") == "PENDING_DELETE":
            self.api.wait_ready(lb["id"], "the deletion of load balancer %s" % ref, gone_ok=True)
            lb = None
        if lb is None and required:
            raise ModuleError("Load balancer %s not found" % ref)
        return lb

    def current_of(self, lb):
        return Current(self.api, lb)

    def execute(self, ops, lb_id, lb_status=None, ids=None, wait=None):
        """Run the plan. Before each write the load balancer must have left PENDING_*
        (Octavia rejects writes otherwise); after the last one wait for ACTIVE when
        `wait`. An op that creates the load balancer itself (record
        ("loadbalancer", None)) provides lb_id for the rest. Returns the load balancer
        as the last wait saw it (None when nothing waited)."""
        wait = self.params.get("wait", True) if wait is None else wait
        if self.new_secrets and ops:
            self.store_secrets(ops)
        ids = dict(ids or {})
        pending = bool(lb_status and lb_status.startswith(PENDING_PREFIX))
        last = None
        done = []
        for op in ops:
            if pending and lb_id and not self.check_mode:
                self.api.wait_ready(lb_id, last or "the load balancer to be ready")
            try:
                result = self.write(op.describe(), self._perform, op, ids, lb_id)
            except ModuleError as exc:
                gone = [d.what for d in done if d.action == "delete"]
                if done:
                    exc.msg += " (Before it: %s.%s)" % ("; ".join(d.describe() for d in done),
                                                        " Gone now: %s." % ", ".join(gone) if gone else "")
                    exc.extra.setdefault("done", [d.describe() for d in done])
                raise
            done.append(op)
            if op.record and result:
                ids[op.record] = (result.get(op.resource) or {}).get("id")
                if op.record == ("loadbalancer", None):
                    lb_id = ids[op.record]
            pending = True
            last = op.describe()
        self.ids = ids
        if pending and lb_id and wait and not self.check_mode and ops:
            return self.api.wait_ready(lb_id, last)
        return None

    def _perform(self, op, ids, lb_id):
        path = resolve(op.path, ids)

        def before_retry(status):
            if status == 503 and op.method == "POST" and op.lookup:
                # the create may have happened before the answer was lost: never make two
                collection, plural, query, match = op.lookup
                found = [obj for obj in self.api.list(resolve(collection, ids), plural, resolve(query, ids))
                         if match(obj) and obj.get("provisioning_status") != "DELETED"]
                if found:
                    return ("done", {op.resource: found[0]})
            if status == 409 and op.replan is not None:
                body = op.replan(self.api, path)
                return ("done", {}) if body is None else ("body", body)
            return None

        return self.api.request(op.method, path, body=resolve(op.body, ids), params=op.params,
                                what=op.describe(), lb_id=lb_id, before_retry=before_retry)

    def fail_on_error(self, lb_id, *objects):
        """After writes: Octavia puts the load balancer back to ACTIVE even when the flow
        for a child failed, and marks that child ERROR. Fail naming them, with the status
        tree. `objects` are (label, object) pairs, None objects skipped."""
        bad = [what for what, obj in objects if obj and obj.get("provisioning_status") == "ERROR"]
        if bad and not self.check_mode:
            raise ModuleError("Octavia put %s in ERROR; the controller worker's log has the cause" % ", ".join(bad),
                              status_tree=self.api.status_tree(lb_id))

    def fail(self, msg, **result):
        result.setdefault("api_calls", self.calls())
        if self.writes:
            result.setdefault("actions", list(self.writes))
        # a task that wrote before it failed did change something
        result.setdefault("changed", self.changed)
        super().fail(msg, **result)

    def finish(self, **result):
        result["api_calls"] = self.calls()
        result.setdefault("actions", list(self.writes))
        self.before, self.after = diff_order(self.before), diff_order(self.after)
        self.exit(**result)


def _member_order(member):
    try:
        address = ipaddress.ip_address(member.get("address"))
        return (address.version, int(address), member.get("protocol_port") or 0)
    except (TypeError, ValueError):
        return (9, 0, member.get("protocol_port") or 0)


DIFF_ORDER = {
    "listeners": lambda li: (li.get("protocol_port") or 0, str(li.get("protocol"))),
    "pools": lambda pool: str(pool.get("name")),
    "members": _member_order,
    "l7policies": lambda policy: (policy.get("position") or 0, str(policy.get("name"))),
    "rules": lambda rule: tuple(str(x) for x in rule_key(rule)),
}


def diff_order(obj):
    """The diff's before and after with children in one stable order (pools by name,
    members by address, ...): Octavia lists them in its own order, the task in yours,
    and a diff of two orders of the same things is noise."""
    if isinstance(obj, dict):
        out = {}
        for key, value in obj.items():
            value = diff_order(value)
            if key in DIFF_ORDER and isinstance(value, list) and all(isinstance(v, dict) for v in value):
                value = sorted(value, key=DIFF_ORDER[key])
            out[key] = value
        return out
    if isinstance(obj, list):
        return [diff_order(v) for v in obj]
    return obj


class LbChildModule(LbaasModule):
    """Base of the modules of a load balancer's direct children (listener, pool): the object is
    found (`find`) in the load balancer the task names, deleted with state=absent, and otherwise
    written by `present`. Its protocol is needed to create it."""

    module_kwargs = dict(required_if=[("state", "present", ("protocol",))])

    def find(self, current):
        """The task's object as Octavia has it in `current` (its load balancer's Current), or None."""
        raise NotImplementedError

    def present(self, lb, current, have):
        """Create or update the object (`have`: as Octavia has it, or None) in the load balancer `lb`."""
        raise NotImplementedError

    def run(self):
        present = self.params["state"] == "present"
        lb = self.find_loadbalancer(self.params["loadbalancer"], required=present)
        current = self.current_of(lb) if lb else None
        have = self.find(current) if current else None
        if present:
            self.present(lb, current, have)
        else:
            self.finish_absent(current, have, None)


class LbaasInfoModule(ParentLookup, CloudModule):
    """Base of the *_info modules: never fail on not-found, never write."""

    wait_options = False

    def __init__(self):
        super().__init__()
        self._api = None

    @property
    def api(self):
        if self._api is None:
            self._api = OctaviaApi(self.conn, Deadline(self.params.get("api_timeout") or 120), project=self.scope_project)
        return self._api

    def matching_lb(self, ref):
        """The load balancer `ref` names (an ID, or a name in the task's project), or None.
        An info module does not fail on it: an ambiguous name is a warning and matches
        nothing (the caller reports an empty list)."""
        try:
            return self.api.find_loadbalancer(ref)
        except ModuleError as exc:
            if "ids" not in exc.extra:
                raise
            self.ansible.warn("%s; nothing is listed for it" % exc.msg)
            return None

    def in_loadbalancer(self, query):
        """`query` limited to the load balancer the task names (when it names one); None when
        that load balancer does not exist (nothing matches)."""
        if not self.params["loadbalancer"]:
            return query
        lb = self.matching_lb(self.params["loadbalancer"])
        return None if lb is None else dict(query, loadbalancer_id=lb["id"])

    def matching_pool(self, ref, lb_ref):
        """The pool `ref` (an ID, or a name in the load balancer `lb_ref`), or None."""
        if not lb_ref and not is_uuid(ref):
            raise ModuleError("pool: %s is a name; give loadbalancer too" % ref)
        return self.lookup_pool(ref, lb_ref, required=False)[1]

    def read(self, kind, object_id):
        """[the object of type `kind` (lbaas_specs.SPECS) with this ID], or [] when there is none."""
        spec = SPECS[kind]
        found = self.api.get("%s/%s" % (spec.path, object_id), missing_ok=True)
        return [found[spec.resource]] if found else []

    def listed(self, kind, query, name=None):
        """The objects of type `kind` that match `query` (Octavia's filters) and `name` (when
        given), in the task's project."""
        spec = SPECS[kind]
        if name:
            query = dict(query, name=name)
        return self.api.list(spec.path, spec.plural, self.api.scoped(query))

    def finish(self, **result):
        result["api_calls"] = self._api.calls() if self._api else {"writes": 0, "reads": 0}
        result["changed"] = False
        self.ansible.exit_json(**result)
