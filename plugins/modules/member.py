#!/usr/bin/python
# Copyright: octavia.lbaas contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
module: member
short_description: Manage members of an Octavia pool
description:
  - Creates, updates or deletes one member (O(address) and O(protocol_port)), or a list of members (O(members)) with
    one batch update.
  - "Members are matched on address and protocol_port; no name is needed."
author: octavia.lbaas maintainers (@octavia-lbaas)
extends_documentation_fragment:
  - octavia.lbaas.cloud
  - octavia.lbaas.cloud.WAIT
  - octavia.lbaas.lb_attributes
options:
  additive_only:
    description:
      - With O(members), keep the pool's other members. V(false) makes O(members) the complete member set.
    type: bool
    default: true
  address:
    description:
      - IP address of the member. With C(protocol_port) it identifies the member in its pool.
      - This attribute cannot be updated.
    type: str
  admin_state_up:
    description:
      - "The administrative state of the member; C(false) takes it out of service."
    type: bool
  allow_empty:
    description:
      - "An empty list (for example V(members: []) or V(listeners: [])) would delete every child it manages; the task
        fails instead, unless this is V(true). Guards against a variable or a filter that came out empty by accident."
    type: bool
    default: false
  backup:
    description:
      - A backup member only gets traffic when all others are down.
    type: bool
  loadbalancer:
    description:
      - "Load balancer (name or ID) of the pool; needed when O(pool) is a name."
    type: str
  members:
    description:
      - "Several members at once, applied with one batch update. Give the member options in each item; the top-level
        member options are for a single member."
    type: list
    elements: dict
    suboptions:
      address:
        description:
          - IP address of the member. With C(protocol_port) it identifies the member in its pool.
          - This attribute cannot be updated.
        type: str
        required: true
      admin_state_up:
        description:
          - "The administrative state of the member; C(false) takes it out of service."
        type: bool
      backup:
        description:
          - A backup member only gets traffic when all others are down.
        type: bool
      monitor_address:
        description:
          - Address the health monitor probes instead of the member's C(address).
        type: str
      monitor_port:
        description:
          - Port the health monitor probes instead of the member's C(protocol_port).
        type: int
      name:
        description:
          - Name of the member.
        type: str
      protocol_port:
        description:
          - Port of the member.
          - This attribute cannot be updated.
        type: int
        required: true
      subnet_id:
        description:
          - ID of the subnet the member is reached on.
          - This attribute cannot be updated.
        type: str
      tags:
        description:
          - Tags of the member. The list is the complete set (order does not matter).
        type: list
        elements: str
      weight:
        description:
          - Relative share of the traffic (0 drains the member).
        type: int
  monitor_address:
    description:
      - Address the health monitor probes instead of the member's C(address).
    type: str
  monitor_port:
    description:
      - Port the health monitor probes instead of the member's C(protocol_port).
    type: int
  name:
    description:
      - Name of the member.
    type: str
  pool:
    description:
      - Pool (name or ID) the members belong to.
    type: str
    required: true
  project:
    description:
      - "Project (name or ID) whose load balancers (and Neutron networks, subnets and ports) names are looked up in.
        Default: the project the credentials are scoped to. An admin sees every project; a name is never matched in
        another project than this one. A new load balancer is created in this project."
      - IDs given for objects are used as they are, whatever their project.
    type: str
  protocol_port:
    description:
      - Port of the member.
      - This attribute cannot be updated.
    type: int
  state:
    description:
      - V(present) creates or updates the member(s), V(absent) deletes them.
    type: str
    default: "present"
    choices: [present, absent]
  subnet_id:
    description:
      - ID of the subnet the member is reached on.
      - This attribute cannot be updated.
    type: str
  tags:
    description:
      - Tags of the member. The list is the complete set (order does not matter).
    type: list
    elements: str
  weight:
    description:
      - Relative share of the traffic (0 drains the member).
    type: int
"""

EXAMPLES = r"""
- name: One member, no name needed
  octavia.lbaas.member:
    loadbalancer: web
    pool: web
    address: 192.0.2.11
    protocol_port: 8080
    weight: 10

- name: Drain a member
  octavia.lbaas.member:
    loadbalancer: web
    pool: web
    address: 192.0.2.11
    protocol_port: 8080
    weight: 0

- name: Add several members with one API call (others are kept)
  octavia.lbaas.member:
    loadbalancer: web
    pool: web
    members:
      - {address: 192.0.2.21, protocol_port: 8080}
      - {address: 192.0.2.22, protocol_port: 8080, backup: true}

- name: Remove several members with one API call
  octavia.lbaas.member:
    loadbalancer: web
    pool: web
    members:
      - {address: 192.0.2.21, protocol_port: 8080}
    state: absent
"""

RETURN = r"""
member:
  description: The member as Octavia returns it (single member form).
  returned: when O(address) is given
  type: dict
  sample: {"id": "5d7d5b8e-1f5a-4f7e-a0b6-3c1f9a0e2d44", "address": "192.0.2.11", "protocol_port": 8080,
           "weight": 10, "provisioning_status": "ACTIVE"}
members:
  description: All members of the pool after the task (list form).
  returned: when O(members) is given
  type: list
  elements: dict

id:
  description: ID of the object (null when it does not exist).
  returned: when O(address) is given
  type: str
  sample: 8a1f6f39-4bb6-4a5e-8c57-2c0c5b1cbf32

api_calls:
  description: Octavia and Neutron API calls the task made (Keystone not counted). A re-run with nothing to change has
    C(writes=0).
  returned: always
  type: dict
  sample: {"writes": 0, "reads": 10}
  contains:
    writes:
      description: POST, PUT and DELETE calls (retries included).
      type: int
    reads:
      description: GET calls, including the polls of the waits.
      type: int
actions:
  description: The writes the task made, or would make in check mode, in order.
  returned: always
  type: list
  elements: str
  sample: ["create load balancer web (one fully populated create: 3 listener(s), 3 pool(s), 30 member(s))"]

plan:
  description: The writes as data (what, which fields changed, the member lists of a batch update).
  returned: when state is present
  type: list
  elements: dict
  sample: [{"action": "batch-update", "kind": "member", "object": "members of pool web", "method": "PUT",
            "summary": "add 5, delete 5", "created": ["member 10.0.5.1:80"], "updated": [],
            "deleted": ["member 10.0.1.6:80"]}]
"""

from ansible_collections.octavia.lbaas.plugins.module_utils.lbaas import (
    ALLOW_EMPTY_OPTION,
    MEMBER,
    PROJECT_OPTION,
    STATE_OPTION,
    LbaasModule,
    ModuleError,
    Op,
    Planner,
    desire,
    desire_members,
    diff_fields,
    label,
    member_key,
    members_option,
    object_options,
    public,
    refuse_immutable,
)


class MemberModule(LbaasModule):
    argument_spec = dict(
        project=dict(PROJECT_OPTION),
        loadbalancer=dict(type="str"),
        pool=dict(type="str", required=True),
        **object_options("member"),
        members=members_option(),
        additive_only=dict(type="bool", default=True),
        allow_empty=dict(ALLOW_EMPTY_OPTION),
        state=STATE_OPTION,
    )
    module_kwargs = dict(
        required_one_of=[("address", "members")],
        mutually_exclusive=[("address", "members")],
        required_together=[("address", "protocol_port")],
    )

    def validate(self):
        p = self.params
        if p["members"] is not None:
            extra = [name for name in MEMBER.fields if p.get(name) is not None]
            if extra:
                raise ModuleError("%s: with members, give the member options in each item of members" % ", ".join(extra))
            if p["members"] == [] and p["state"] == "present" and not p["additive_only"] and not p["allow_empty"]:
                raise ModuleError("members: an empty list with additive_only false deletes every member of the pool; "
                                  "set allow_empty: true if that is what you mean")
            self.wanted = desire_members(p["members"])
        else:
            self.want = desire("member", p, creating=p["state"] == "present")

    def run(self):
        p = self.params
        present = p["state"] == "present"
        current, pool = self.lookup_pool(p["pool"], p["loadbalancer"], required=present)
        if pool is None:
            self.finish(changed=False, member=None, members=[])
            return
        lb = current.lb
        parent = label("pool", pool)
        existing = current.members(pool)
        path = "/lbaas/pools/%s/members" % pool["id"]
        if p["members"] is not None:
            ops = self.plan_list(current, pool, existing, parent, path, present)
        else:
            ops = self.plan_one(existing, parent, path, present)
        self.execute(ops, lb["id"], lb.get("provisioning_status"))
        members = current.members(pool) if not (ops and not self.check_mode) else self.api.list(path, "members")
        if ops:
            # the members this task sent: Octavia runs one flow for all of them
            sent = set()
            for op in ops:
                if op.action == "batch-update":
                    sent |= {member_key(m) for m in op.body["members"]}
                elif op.action != "delete":
                    sent.add(member_key(self.want))
            self.fail_on_error(lb["id"], *[(label("member", m, parent), m)
                                           for m in members if member_key(MEMBER.view(m)) in sent])
        if p["members"] is not None:
            self.finish(changed=bool(ops), members=members, plan=[op.as_dict() for op in ops])
            return
        key = member_key(self.want)
        found = [m for m in members if member_key(MEMBER.view(m)) == key]
        self.finish(changed=bool(ops), member=found[0] if found else None, id=found[0]["id"] if found else None,
                    plan=[op.as_dict() for op in ops])

    def plan_one(self, existing, parent, path, present):
        want = self.want
        have = next((m for m in existing if member_key(MEMBER.view(m)) == member_key(want)), None)
        what = label("member", want, parent)
        if not present:
            if have is None:
                return []
            self.before, self.after = public(MEMBER.view(have)), {}
            return [Op("delete", "member", what, "DELETE", "%s/%s" % (path, have["id"]))]
        if have is None:
            self.before, self.after = {}, public(MEMBER.predict(want))
            return [Op("create", "member", what, "POST", path, {"member": MEMBER.body(want)}, resource="member",
                       lookup=(path, "members", None, lambda m: member_key(MEMBER.view(m)) == member_key(want)))]
        view = MEMBER.view(have)
        changes = diff_fields("member", want, view)
        refuse_immutable("member", what, changes)
        self.before = public(view)
        self.after = public(dict(view, **{k: v[1] for k, v in changes.items()}))
        if not changes:
            return []
        return [Op("update", "member", what, "PUT", "%s/%s" % (path, have["id"]),
                   {"member": MEMBER.body(want, only=changes)}, changes=changes)]

    def plan_list(self, current, pool, existing, parent, path, present):
        planner = Planner(current)
        if present:
            before, after = planner.members(self.wanted, existing, pool["id"], parent, self.params["additive_only"])
            self.before, self.after = {"members": before}, {"members": after}
            return planner.plan()
        listed = {member_key(m) for m in self.wanted}
        gone = [m for m in existing if member_key(MEMBER.view(m)) in listed]
        self.before = {"members": [public(MEMBER.view(m)) for m in existing]}
        self.after = {"members": [public(MEMBER.view(m)) for m in existing if m not in gone]}
        if not gone:
            return []
        keep = [MEMBER.body(MEMBER.view(m)) for m in existing if m not in gone]
        return [Op("batch-update", "member", "members of %s" % parent, "PUT", path, {"members": keep},
                   summary="delete %d" % len(gone), detail={"deleted": [label("member", MEMBER.view(m)) for m in gone]})]


def main():
    MemberModule()()


if __name__ == "__main__":
    main()
