# Copyright: octavia.lbaas contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The operator's catalog of Octavia (admin API, outside any load balancer): flavor
profiles, flavors, availability zone profiles, availability zones and quotas, on the
engine's specs (lbaas_specs.py), validation (desire()), diff (diff_fields(),
refuse_immutable()) and client (OctaviaApi).

`CatalogModule` is the base of the modules that manage one named catalog object: it finds
the object by name, checks references (a flavor's profile, by name or ID), the provider
and the provider's capabilities before any write, refuses what Octavia cannot or will not
do (a flavor's profile, a profile in use), and makes one write at most. These objects have
no provisioning status: a write is done when Octavia answers it, so there is nothing to
wait for."""

from __future__ import annotations

from ansible_collections.octavia.lbaas.plugins.module_utils.cloud import Deadline, ModuleError
from ansible_collections.octavia.lbaas.plugins.module_utils.lbaas_api import OctaviaApi
from ansible_collections.octavia.lbaas.plugins.module_utils.lbaas_module import LbaasInfoModule, LbaasModule
from ansible_collections.octavia.lbaas.plugins.module_utils.lbaas_ops import Op
from ansible_collections.octavia.lbaas.plugins.module_utils.lbaas_specs import SPECS, STATE_OPTION, object_options
from ansible_collections.octavia.lbaas.plugins.module_utils.lbaas_state import apply_changes, diff_fields, public, refuse_immutable
from ansible_collections.octavia.lbaas.plugins.module_utils.lbaas_validate import desire
from ansible_collections.octavia.lbaas.plugins.module_utils.values import is_uuid

# Octavia's page links of the profiles are named after the singular (types/flavor_profile.py,
# types/availability_zone_profile.py); the other listings use `<plural>_links`.
LINKS = {"flavor_profile": "flavorprofile_links", "availability_zone_profile": "availability_zone_profile_links"}

# What a reference option names, and which profile data its provider validates.
REFS = {"flavor_profile": "flavor_profile", "availability_zone_profile": "availability_zone_profile"}
CAPABILITIES = {"flavor_data": "flavor_capabilities", "availability_zone_data": "availability_zone_capabilities"}
# Who uses a catalog object: (kind that refers to it, its field, how the users are listed).
USERS = {
    "flavor_profile": ("flavor", "flavor_profile_id"),
    "availability_zone_profile": ("availability_zone", "availability_zone_profile_id"),
}


def catalog_list(api, kind, params=None):
    spec = SPECS[kind]
    return api.list(spec.path, spec.plural, params, links=LINKS.get(kind))


def find_by_name(api, kind, name, option="name"):
    """The catalog object named `name`, or None; a name two objects share is refused."""
    found = [obj for obj in catalog_list(api, kind, {"name": name}) if obj.get("name") == name]
    if len(found) > 1:
        raise ModuleError("%s: %d %ss are named %s (%s); rename one of them, or give the ID"
                          % (option, len(found), SPECS[kind].label, name, ", ".join(o.get("id", "?") for o in found)),
                          ids=[o.get("id") for o in found])
    return found[0] if found else None


def find_ref(api, kind, ref, option):
    """A referenced catalog object given by name or ID, or None."""
    if is_uuid(ref):
        found = api.get("%s/%s" % (SPECS[kind].path, ref), missing_ok=True)
        if found:
            return found[SPECS[kind].resource]
    return find_by_name(api, kind, ref, option)


def enabled_providers(api):
    return {p.get("name"): p.get("description") for p in api.list("/lbaas/providers", "providers")}


def capabilities(api, provider, which):
    """{name: description} of a provider's flavor or availability zone capabilities,
    None when the provider does not say (Octavia answers 501 for a driver that has no list)."""
    try:
        found = api.get("/lbaas/providers/%s/%s" % (provider, which))
    except ModuleError as exc:
        if exc.extra.get("status_code") in (400, 404, 501):
            return None
        raise
    return {c.get("name"): c.get("description") for c in found.get(which) or []}


def catalog_options(kind):
    """The options of a module that manages one named catalog object: the object's fields
    (SPECS[kind]), `name` required, and `state`."""
    return dict(**object_options(kind, required=("name",)), state=STATE_OPTION)


class CatalogModule(LbaasModule):
    """One named catalog object: `kind` (a key of SPECS) and its argument spec; the rest
    is here. `name` is the natural key; `state: absent` deletes."""

    kind = None
    wait_options = False

    @property
    def api(self):
        if self._api is None:
            self._api = OctaviaApi(self.conn, Deadline(self.params.get("api_timeout") or 300))
        return self._api

    @property
    def spec(self):
        return SPECS[self.kind]

    def validate(self):
        self.want = None
        if self.params["state"] == "present":
            self.want = desire(self.kind, self.params)

    def what(self, name=None):
        return "%s %s" % (self.spec.label, name or self.params["name"])

    def path_of(self, obj):
        # an availability zone has no ID: its name is its key in the API
        return "%s/%s" % (self.spec.path, obj.get("id") or obj["name"])

    # -- checks before any write --------------------------------------------------------------
    def resolve_refs(self, want):
        """Reference options (a flavor's profile) given by name or ID → the ID. In check
        mode a profile that does not exist yet (an earlier task of the play would create it)
        is a warning: the plan goes on with the name."""
        for option, kind in REFS.items():
            if option not in self.spec.fields or want.get(option) is None:
                continue
            found = find_ref(self.api, kind, want[option], option)
            if found is not None:
                want[option] = found["id"]
            elif self.check_mode:
                self.ansible.warn("%s: %s %s does not exist (yet); check mode goes on with its name"
                                  % (option, SPECS[kind].label, want[option]))
            else:
                raise ModuleError("%s: %s %s not found" % (option, SPECS[kind].label, want[option]))
        return want

    def check_provider(self, want, have_view):
        """The provider must be enabled, and the profile data may only use keys the
        provider lists as its capabilities (when it lists them). Octavia would refuse
        both with a 400; this names the option and the keys it knows."""
        provider = want.get("provider_name") or (have_view or {}).get("provider_name")
        if provider is None:
            return
        if want.get("provider_name") is not None:
            providers = enabled_providers(self.api)
            if provider not in providers:
                raise ModuleError("provider_name: provider %s is not enabled in Octavia (enabled: %s)"
                                  % (provider, ", ".join(sorted(providers)) or "none"))
        for option, which in CAPABILITIES.items():
            data = want.get(option)
            if option not in self.spec.fields or data is None:
                continue
            known = capabilities(self.api, provider, which)
            unknown = sorted(set(data) - set(known)) if known is not None else []
            if unknown:
                raise ModuleError("%s: %s not among the %s of provider %s (%s)"
                                  % (option, ", ".join(unknown), which.replace("_", " "), provider,
                                     ", ".join(sorted(known)) or "none"))

    def users(self, obj):
        """The catalog objects that refer to `obj` (the flavors of a flavor profile)."""
        if self.kind not in USERS:
            return []
        kind, field = USERS[self.kind]
        return [o for o in catalog_list(self.api, kind) if o.get(field) == obj.get("id")]

    def refuse_in_use(self, obj, verb, fields=None):
        users = self.users(obj)
        if users:
            kind = SPECS[USERS[self.kind][0]]
            raise ModuleError(
                "Cannot %s %s: %s %s use%s it (%s), and Octavia refuses to %s a profile in use. %s"
                % (verb, self.what(obj.get("name")), len(users), kind.label + ("s" if len(users) > 1 else ""),
                   "" if len(users) > 1 else "s", ", ".join(sorted(u.get("name") or u.get("id") for u in users)),
                   verb,
                   "Make a new profile and a new %s instead." % kind.label if fields else
                   "Delete the %s first." % (kind.label + "s" if len(users) > 1 else kind.label)),
                in_use_by=sorted(u.get("name") or u.get("id") for u in users), fields=fields or [])

    def refuse_delete_in_use(self, obj):
        """Load balancers that use a flavor or an availability zone (Octavia refuses to
        delete it then, with a 409)."""
        field = {"flavor": "flavor_id", "availability_zone": "availability_zone"}.get(self.kind)
        if field is None:
            return self.refuse_in_use(obj, "delete")
        value = obj.get("id") or obj.get("name")
        lbs = [lb for lb in self.api.list("/lbaas/loadbalancers", "loadbalancers", {field: value})
               if lb.get(field) == value and lb.get("provisioning_status") != "DELETED"]
        if lbs:
            many = len(lbs) > 1
            raise ModuleError("Cannot delete %s: %d load balancer%s use%s it (%s). Delete %s first, or set "
                              "enabled: false to keep new load balancers off it."
                              % (self.what(obj.get("name")), len(lbs), "s" if many else "", "" if many else "s",
                                 ", ".join(sorted(lb.get("name") or lb["id"] for lb in lbs)), "them" if many else "it"),
                              in_use_by=sorted(lb["id"] for lb in lbs))
        return None

    # -- the flow ---------------------------------------------------------------------------
    def write_op(self, op):
        spec = self.spec

        def before_retry(status):
            # a create whose answer was lost (503) may have happened: never make two
            if status == 503 and op.method == "POST":
                found = find_by_name(self.api, self.kind, self.params["name"])
                if found:
                    return ("done", {spec.resource: found})
            return None

        return self.write(op.describe(), self.api.request, op.method, op.path, body=op.body,
                          what=op.describe(), before_retry=before_retry)

    def run(self):
        spec = self.spec
        name = self.params["name"]
        have = find_by_name(self.api, self.kind, name)
        have_view = public(spec.view(have)) if have else None
        result_key = self.kind
        if self.params["state"] == "absent":
            ops = []
            if have is not None:
                self.refuse_delete_in_use(have)
                ops = [Op("delete", self.kind, self.what(), "DELETE", self.path_of(have))]
                self.before, self.after = have_view, {}
                for op in ops:
                    self.write_op(op)
            self.finish(changed=bool(ops), **{result_key: have, "id": (have or {}).get("id")})
            return
        want = self.resolve_refs(dict(self.want))
        if have is None:
            self.require_create(want)
            self.check_provider(want, None)
            body = spec.body(want)
            op = Op("create", self.kind, self.what(), "POST", spec.path, {spec.resource: body}, resource=spec.resource)
            self.before, self.after = {}, public(spec.predict(want))
        else:
            changes = diff_fields(self.kind, want, have_view)
            refuse_immutable(self.kind, self.what(), changes)
            data_changes = sorted(set(changes) & ({"provider_name"} | set(CAPABILITIES)))
            if data_changes:
                self.refuse_in_use(have, "change %s of" % ", ".join(data_changes), data_changes)
                self.check_provider({k: want.get(k) for k in data_changes}, have_view)
            op = None
            if changes:
                op = Op("update", self.kind, self.what(), "PUT", self.path_of(have),
                        {spec.resource: spec.body(want, only=changes)}, changes=changes, resource=spec.resource)
            self.before, self.after = have_view, apply_changes(have_view, changes)
        ops = [op] if op else []
        obj = have
        for item in ops:
            answer = self.write_op(item)
            if answer:
                obj = answer.get(spec.resource) or obj
        self.finish(changed=bool(ops), plan=[o.as_dict() for o in ops],
                    **{result_key: obj, "id": (obj or {}).get("id")})

    def require_create(self, want):
        missing = [f.name for f in self.spec.fields.values() if f.create_required and want.get(f.name) is None]
        if missing:
            raise ModuleError("%s %s required to create %s"
                              % (", ".join(missing), "is" if len(missing) == 1 else "are", self.what()))


class CatalogInfoModule(LbaasInfoModule):
    """Lists the catalog objects of one `kind` (flavors, availability zones), or finds one
    by name (or by ID, when the kind has IDs); never fails when nothing matches. Users
    read these too: Octavia lists the enabled ones to every project. They are returned
    under the kind's plural, as Octavia names the list (`flavors`)."""

    kind = None
    argument_spec = dict(
        name=dict(type="str"),
        filters=dict(type="dict", default={}),
    )

    def run(self):
        spec = SPECS[self.kind]
        ref = self.params["name"]
        found = []
        if ref and is_uuid(ref):
            answer = self.api.get("%s/%s" % (spec.path, ref), missing_ok=True)
            found = [answer[spec.resource]] if answer else []
        if not found:
            query = dict(self.params["filters"])
            if ref:
                query["name"] = ref
            found = [obj for obj in catalog_list(self.api, self.kind, query or None)
                     if not ref or obj.get("name") == ref]
        self.finish(**{spec.plural: sorted(found, key=lambda obj: (str(obj.get("name")), str(obj.get("id"))))})
