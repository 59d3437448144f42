#!/usr/bin/python
# Copyright: octavia.lbaas contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
module: pool_info
short_description: Read pools of Octavia load balancers
description:
  - Lists pools, of one load balancer or of the project. Never fails when nothing matches.
author: octavia.lbaas maintainers (@octavia-lbaas)
extends_documentation_fragment:
  - octavia.lbaas.cloud
  - octavia.lbaas.lb_attributes.INFO
options:
  filters:
    description:
      - "Octavia query filters, for example C({protocol: HTTP})."
    type: dict
    default: {}
  healthmonitor:
    description:
      - Include the health monitor as an object.
    type: bool
    default: false
  loadbalancer:
    description:
      - Only pools of this load balancer (name or ID).
    type: str
  members:
    description:
      - Include the members as objects.
    type: bool
    default: false
  name:
    description:
      - Name or ID of the pool.
    type: str
  project:
    description:
      - "Project (name or ID) whose load balancers (and Neutron networks, subnets and ports) names are looked up in.
        Default: the project the credentials are scoped to. An admin sees every project; a name is never matched in
        another project than this one. A new load balancer is created in this project."
      - IDs given for objects are used as they are, whatever their project.
    type: str
"""

EXAMPLES = r"""
- name: Pools of a load balancer with members and health monitor
  octavia.lbaas.pool_info:
    loadbalancer: web
    members: true
    healthmonitor: true
"""

RETURN = r"""
pools:
  description: Matching pools as Octavia returns them (empty when none match).
  returned: always
  type: list
  elements: dict

api_calls:
  description: API calls the task made.
  returned: always
  type: dict
  sample: {"writes": 0, "reads": 3}
"""

from ansible_collections.octavia.lbaas.plugins.module_utils.lbaas import (
    PROJECT_OPTION,
    LbaasInfoModule,
    is_uuid,
)


class PoolInfoModule(LbaasInfoModule):
    argument_spec = dict(
        project=dict(PROJECT_OPTION),
        loadbalancer=dict(type="str"),
        name=dict(type="str"),
        filters=dict(type="dict", default={}),
        members=dict(type="bool", default=False),
        healthmonitor=dict(type="bool", default=False),
    )

    def run(self):
        p = self.params
        api = self.api
        ref = p["name"]
        query = dict(p["filters"])
        if p["loadbalancer"]:
            lb = api.get_loadbalancer(p["loadbalancer"]) if is_uuid(p["loadbalancer"]) else None
            if lb is None:
                lbs = api.list("/lbaas/loadbalancers", "loadbalancers", api.scoped({"name": p["loadbalancer"]}))
                lb = lbs[0] if len(lbs) == 1 else None
                if len(lbs) > 1:
                    self.ansible.warn("%d load balancers are named %s; give its ID" % (len(lbs), p["loadbalancer"]))
            if lb is None:
                self.finish(pools=[])
                return
            query["loadbalancer_id"] = lb["id"]
        if is_uuid(ref):
            found = api.get("/lbaas/pools/%s" % ref, missing_ok=True)
            pools = [found["pool"]] if found else []
        else:
            if ref:
                query["name"] = ref
            pools = api.list("/lbaas/pools", "pools", api.scoped(query))
        self.finish(pools=[self.expand(pool) for pool in pools])

    def expand(self, pool):
        item = dict(pool)
        if self.params["members"]:
            item["members"] = self.api.list("/lbaas/pools/%s/members" % pool["id"], "members")
        if self.params["healthmonitor"]:
            found = self.api.get("/lbaas/healthmonitors/%s" % pool["healthmonitor_id"], missing_ok=True) \
                if pool.get("healthmonitor_id") else None
            item["healthmonitor"] = found["healthmonitor"] if found else None
        return item


def main():
    PoolInfoModule()()


if __name__ == "__main__":
    main()
