#!/usr/bin/python
# Copyright: octavia.lbaas contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Nova flavor for amphorae: sizes, exact extra specs and exact project access."""

from __future__ import annotations

DOCUMENTATION = r"""
module: amphora_flavor
short_description: Manage the Nova flavor of Octavia amphorae
description:
  - Creates, checks or deletes a Nova flavor, its extra specs (exactly the given ones) and
    the projects a private flavor is shared with (exactly the given ones).
  - Flavors are found by name (Nova keeps flavor names unique).
  - Nova cannot change the sizes (O(vcpus), O(ram), O(disk), O(ephemeral), O(swap)) or
    O(is_public) of an existing flavor. The module refuses such a change with a message
    that names the fields, unless O(recreate=true).
  - Extra spec keys are checked before any API call. Each must match
    C(^[A-Za-z0-9_.:-]+$), be at most 255 characters and be namespaced (C(namespace:key),
    for example C(hw:cpu_policy) or C(hw_rng:allowed)); the only keys without a namespace
    that Nova knows, C(group_policy) and C(hide_hypervisor_id), are accepted too. Values
    must be strings of at most 255 characters (quote C("True") and C("2") in YAML).
author: octavia.lbaas maintainers (@octavia-lbaas)
version_added: 0.1.0
extends_documentation_fragment: [octavia.lbaas.cloud]
options:
  name:
    description: Name of the flavor.
    type: str
    required: true
  state:
    description: Whether the flavor exists.
    type: str
    choices: [present, absent]
    default: present
  vcpus:
    description: Number of virtual CPUs. Required when O(state=present).
    type: int
  ram:
    description: Memory in MiB. Required when O(state=present).
    type: int
  disk:
    description:
      - Root disk in GB; must hold the amphora image's virtual size. Required when
        O(state=present).
    type: int
  ephemeral:
    description: Ephemeral disk in GB.
    type: int
    default: 0
  swap:
    description: Swap disk in MiB.
    type: int
    default: 0
  is_public:
    description:
      - Whether every project may use the flavor. Amphora flavors are private and shared
        with the Octavia service project through O(projects).
    type: bool
    default: false
  extra_specs:
    description:
      - Extra specs of the flavor; the flavor ends up with exactly these (others are
        removed). See the description for the accepted keys and values.
    type: dict
    default: {}
  projects:
    description:
      - Projects (IDs, or names inside O(projects_domain)) that may use the private
        flavor. The flavor ends up shared with exactly these projects.
      - Must be empty when O(is_public=true).
    type: list
    elements: str
    default: []
  projects_domain:
    description: Domain (name or ID) in which the names of O(projects) are looked up.
    type: str
    default: Default
  recreate:
    description:
      - When the flavor exists with other sizes or another O(is_public), delete it and
        create it again (it gets a new ID; configurations holding the old ID must be
        updated, which the C(amphora_resources) role does through its facts).
      - Refused while servers (of any project) still use the flavor.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Amphora flavor, shared with the service project
  octavia.lbaas.amphora_flavor:
    cloud: mycloud
    name: amphora
    vcpus: 1
    ram: 1024
    disk: 3
    extra_specs:
      "hw_rng:allowed": "True"
    projects: [service]
  register: flavor

- name: Remove it
  octavia.lbaas.amphora_flavor:
    cloud: mycloud
    name: amphora
    state: absent
"""

RETURN = r"""
flavor:
  description: The flavor (the predicted one in check mode, with O(name) but no ID when it would be created).
  returned: when O(state=present)
  type: dict
  contains:
    id:
      description: ID of the flavor (null in check mode when it would be created).
      type: str
      sample: 4f0e4a4a-1a2b-4c3d-9e8f-0123456789ab
    name:
      description: Name.
      type: str
      sample: amphora
    vcpus:
      description: Virtual CPUs.
      type: int
      sample: 1
    ram:
      description: Memory in MiB.
      type: int
      sample: 1024
    disk:
      description: Root disk in GB.
      type: int
      sample: 3
    ephemeral:
      description: Ephemeral disk in GB.
      type: int
      sample: 0
    swap:
      description: Swap in MiB.
      type: int
      sample: 0
    is_public:
      description: Whether every project may use it.
      type: bool
      sample: false
    extra_specs:
      description: Extra specs.
      type: dict
      sample: {"hw_rng:allowed": "True"}
    projects:
      description: IDs of the projects the flavor is shared with.
      type: list
      elements: str
      sample: [0d8e2c5b3f8a4a7c9b1e2d3f4a5b6c7d]
recreated:
  description: Whether the flavor was deleted and created again (O(recreate=true)).
  returned: always
  type: bool
  sample: false
"""

import re

from ansible_collections.octavia.lbaas.plugins.module_utils.cloud import STATE_OPTION, CloudModule, ModuleError
from ansible_collections.octavia.lbaas.plugins.module_utils.identity_lookup import find_project_id

SPEC_KEY = re.compile(r"^[A-Za-z0-9_.:-]+$")
PLAIN_SPEC_KEYS = ("group_policy", "hide_hypervisor_id")
IMMUTABLE = ("vcpus", "ram", "disk", "ephemeral", "swap", "is_public")


def check_extra_specs(specs):
    """Errors (one string each) of an extra_specs dict, empty when valid."""
    errors = []
    for key, value in specs.items():
        if not isinstance(key, str) or not SPEC_KEY.match(key) or len(key) > 255:
            errors.append("key %r is not a valid extra spec (letters, digits, '_', '.', ':', '-'; "
                          "at most 255 characters)" % (key,))
            continue
        namespace, sep, rest = key.partition(":")
        if not (sep and namespace and rest) and key not in PLAIN_SPEC_KEYS:
            errors.append("key %r is not a known extra spec: use 'namespace:key' (for example "
                          "'hw:cpu_policy') or one of %s" % (key, ", ".join(PLAIN_SPEC_KEYS)))
            continue
        if not isinstance(value, str):
            errors.append("value of %r must be a string, got %s %r (quote it in YAML)"
                          % (key, type(value).__name__, value))
        elif len(value) > 255:
            errors.append("value of %r is longer than 255 characters" % key)
    return errors


class AmphoraFlavor(CloudModule):
    argument_spec = dict(
        name=dict(type="str", required=True),
        vcpus=dict(type="int"),
        ram=dict(type="int"),
        disk=dict(type="int"),
        ephemeral=dict(type="int", default=0),
        swap=dict(type="int", default=0),
        is_public=dict(type="bool", default=False),
        extra_specs=dict(type="dict", default={}),
        projects=dict(type="list", elements="str", default=[]),
        projects_domain=dict(type="str", default="Default"),
        recreate=dict(type="bool", default=False),
        state=dict(STATE_OPTION),
    )
    module_kwargs = dict(required_if=[("state", "present", ("vcpus", "ram", "disk"))])

    def validate(self):
        p = self.params
        if not p["name"].strip():
            raise ModuleError("name: must not be empty")
        if p["state"] == "absent":
            return
        for option, low in (("vcpus", 1), ("ram", 1), ("disk", 0), ("ephemeral", 0), ("swap", 0)):
            if p[option] < low:
                raise ModuleError("%s: must be at least %d, got %d" % (option, low, p[option]))
        errors = check_extra_specs(p["extra_specs"])
        if errors:
            raise ModuleError("extra_specs: " + "; ".join(errors))
        if p["is_public"] and p["projects"]:
            raise ModuleError("projects: a public flavor (is_public: true) is shared with every "
                              "project; leave projects empty or set is_public: false")

    # -- reading ---------------------------------------------------------------------
    def find(self):
        name = self.params["name"]
        found = [f for f in self.conn.compute.flavors(is_public=None) if f.name == name]
        if len(found) > 1:
            raise ModuleError("name: several flavors are named %r (%s)"
                              % (name, ", ".join(f.id for f in found)))
        return found[0] if found else None

    def describe(self, flavor):
        specs = self.conn.compute.fetch_flavor_extra_specs(flavor).extra_specs or {}
        projects = []
        if not flavor.is_public:
            projects = sorted(a["tenant_id"] for a in self.conn.compute.get_flavor_access(flavor))
        return dict(id=flavor.id, name=flavor.name, vcpus=flavor.vcpus, ram=flavor.ram,
                    disk=flavor.disk, ephemeral=flavor.ephemeral or 0, swap=flavor.swap or 0,
                    is_public=bool(flavor.is_public), extra_specs=dict(specs), projects=projects)

    # -- the flow ----------------------------------------------------------------------
    def run(self):
        p = self.params
        flavor = self.find()
        current = self.describe(flavor) if flavor else None
        self.before = current or {}
        if p["state"] == "absent":
            if flavor:
                self.write("delete flavor %s" % flavor.id, self.conn.compute.delete_flavor,
                           flavor.id, ignore_missing=True)
            self.exit(recreated=False)
            return

        project_ids = sorted({find_project_id(self.conn, project, p["projects_domain"],
                                              "projects") for project in p["projects"]})
        wanted = dict(name=p["name"], vcpus=p["vcpus"], ram=p["ram"], disk=p["disk"],
                      ephemeral=p["ephemeral"], swap=p["swap"], is_public=p["is_public"],
                      extra_specs=dict(p["extra_specs"]), projects=project_ids)
        recreated = False
        if current:
            differs = [k for k in IMMUTABLE if current[k] != wanted[k]]
            if differs:
                detail = ", ".join("%s %s -> %s" % (k, current[k], wanted[k]) for k in differs)
                if not p["recreate"]:
                    raise ModuleError(
                        "Flavor %r (%s) exists with other %s (%s): Nova cannot change them. Set "
                        "recreate: true to delete and create it again (new ID), or use another "
                        "name" % (p["name"], current["id"], "/".join(differs), detail))
                servers = list(self.conn.compute.servers(all_projects=True, flavor=current["id"]))
                if servers:
                    raise ModuleError(
                        "recreate: flavor %r (%s) is still used by %d server(s) (%s); not "
                        "deleting it" % (p["name"], current["id"], len(servers),
                                         ", ".join(s.id for s in servers[:5])))
                self.write("delete flavor %s (recreate: %s)" % (current["id"], detail),
                           self.conn.compute.delete_flavor, current["id"], ignore_missing=False)
                current, recreated = None, True

        if current is None:
            result = self.create(wanted)
        else:
            result = self.update(current, wanted)
        self.after = result
        self.exit(flavor=result, recreated=recreated)

    def create(self, wanted):
        created = self.write(
            "create flavor %s" % wanted["name"], self.conn.compute.create_flavor,
            name=wanted["name"], vcpus=wanted["vcpus"], ram=wanted["ram"], disk=wanted["disk"],
            ephemeral=wanted["ephemeral"], swap=wanted["swap"], is_public=wanted["is_public"])
        if created is None:  # check mode
            return dict(wanted, id=None)
        try:
            # Nova may grant the creating project access on its own: compare with what is.
            return self.update(self.describe(created), wanted)
        except Exception:
            # Nothing half-made: a flavor without its specs or access goes again.
            self.conn.compute.delete_flavor(created.id, ignore_missing=True)
            raise

    def update(self, current, wanted):
        fid = current["id"]
        have_specs, want_specs = current["extra_specs"], wanted["extra_specs"]
        changed_specs = {k: v for k, v in want_specs.items() if have_specs.get(k) != v}
        if changed_specs:
            self.write("set extra specs %s" % ", ".join(sorted(changed_specs)),
                       self.conn.compute.create_flavor_extra_specs, fid, changed_specs)
        for key in sorted(set(have_specs) - set(want_specs)):
            self.write("remove extra spec %s" % key,
                       self.conn.compute.delete_flavor_extra_specs_property, fid, key)
        if not wanted["is_public"]:
            for project in sorted(set(wanted["projects"]) - set(current["projects"])):
                self.write("share with project %s" % project,
                           self.conn.compute.flavor_add_tenant_access, fid, project)
            for project in sorted(set(current["projects"]) - set(wanted["projects"])):
                self.write("unshare from project %s" % project,
                           self.conn.compute.flavor_remove_tenant_access, fid, project)
        return dict(wanted, id=fid)


def main():
    AmphoraFlavor()()


if __name__ == "__main__":
    main()
