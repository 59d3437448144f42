#!/usr/bin/python
# Copyright: octavia.lbaas contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
module: health_monitor_info
short_description: Read Octavia health monitors
description:
  - "Lists health monitors: of one pool, of one load balancer, or of the project. Never fails when nothing matches."
author: octavia.lbaas maintainers (@octavia-lbaas)
extends_documentation_fragment:
  - octavia.lbaas.cloud
  - octavia.lbaas.lb_attributes.INFO
options:
  filters:
    description:
      - "Octavia query filters, for example C({type: HTTP})."
    type: dict
    default: {}
  loadbalancer:
    description:
      - "Load balancer (name or ID): its monitors, or the one of O(pool)."
    type: str
  name:
    description:
      - Name or ID of the health monitor.
    type: str
  pool:
    description:
      - Pool (name or ID) whose monitor to read.
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
- name: The health monitor of a pool
  octavia.lbaas.health_monitor_info:
    loadbalancer: web
    pool: web
"""

RETURN = r"""
health_monitors:
  description: Matching health monitors as Octavia returns them (empty when none match).
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
    ModuleError,
    is_uuid,
)


class HealthMonitorInfoModule(LbaasInfoModule):
    argument_spec = dict(
        project=dict(PROJECT_OPTION),
        loadbalancer=dict(type="str"),
        pool=dict(type="str"),
        name=dict(type="str"),
        filters=dict(type="dict", default={}),
    )

    def run(self):
        p = self.params
        api = self.api
        if p["pool"]:
            if not p["loadbalancer"] and not is_uuid(p["pool"]):
                raise ModuleError("pool: %s is a name; give loadbalancer too" % p["pool"])
            pool = self.lookup_pool(p["pool"], p["loadbalancer"], required=False)[1]
            found = api.get("/lbaas/healthmonitors/%s" % pool["healthmonitor_id"], missing_ok=True) \
                if pool and pool.get("healthmonitor_id") else None
            self.finish(health_monitors=[found["healthmonitor"]] if found else [])
            return
        if is_uuid(p["name"]):
            found = api.get("/lbaas/healthmonitors/%s" % p["name"], missing_ok=True)
            self.finish(health_monitors=[found["healthmonitor"]] if found else [])
            return
        query = dict(p["filters"])
        if p["name"]:
            query["name"] = p["name"]
        monitors = api.list("/lbaas/healthmonitors", "healthmonitors", api.scoped(query))
        if p["loadbalancer"]:
            lbs = [api.get_loadbalancer(p["loadbalancer"])] if is_uuid(p["loadbalancer"]) else []
            lbs = [lb for lb in lbs if lb] or api.list("/lbaas/loadbalancers", "loadbalancers",
                                                       api.scoped({"name": p["loadbalancer"]}))
            pool_ids = set()
            for lb in lbs:
                pool_ids.update(pool["id"] for pool in lb.get("pools") or [])
            monitors = [hm for hm in monitors if any(x["id"] in pool_ids for x in hm.get("pools") or [])]
        self.finish(health_monitors=monitors)


def main():
    HealthMonitorInfoModule()()


if __name__ == "__main__":
    main()
