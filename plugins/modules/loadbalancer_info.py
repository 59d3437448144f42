#!/usr/bin/python
# Copyright: octavia.lbaas contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
module: loadbalancer_info
short_description: Read Octavia load balancers, with their tree, status and statistics
description:
  - Lists load balancers, or finds one by name or ID. Never fails when nothing matches.
author: octavia.lbaas maintainers (@octavia-lbaas)
extends_documentation_fragment:
  - octavia.lbaas.cloud
  - octavia.lbaas.lb_attributes.INFO
options:
  children:
    description:
      - Include listeners (with L7 policies and rules) and pools (with members and health monitor) as objects instead
        of IDs.
    type: bool
    default: false
  filters:
    description:
      - "Octavia query filters, for example C({provisioning_status: ERROR})."
    type: dict
    default: {}
  name:
    description:
      - Name or ID of the load balancer. All load balancers of the project when not given.
    type: str
  project:
    description:
      - "Project (name or ID) whose load balancers (and Neutron networks, subnets and ports) names are looked up in.
        Default: the project the credentials are scoped to. An admin sees every project; a name is never matched in
        another project than this one. A new load balancer is created in this project."
      - IDs given for objects are used as they are, whatever their project.
    type: str
  stats:
    description:
      - Include traffic statistics as C(stats).
    type: bool
    default: false
  status_tree:
    description:
      - "Include the status tree (C(GET /v2/lbaas/loadbalancers/{id}/status)) as C(status)."
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: One load balancer with its tree, status and statistics
  octavia.lbaas.loadbalancer_info:
    name: web
    children: true
    status_tree: true
    stats: true
  register: web

- name: Load balancers in ERROR
  octavia.lbaas.loadbalancer_info:
    filters:
      provisioning_status: ERROR
"""

RETURN = r"""
loadbalancers:
  description: Matching load balancers as Octavia returns them (empty when none match), with C(listeners) and
    C(pools) as objects when O(children), C(status) when O(status_tree), C(stats) when O(stats).
  returned: always
  type: list
  elements: dict
  sample: [{"id": "8a1f6f39-4bb6-4a5e-8c57-2c0c5b1cbf32", "name": "web", "provisioning_status": "ACTIVE",
            "operating_status": "ONLINE", "vip_address": "192.0.2.100"}]

api_calls:
  description: API calls the task made.
  returned: always
  type: dict
  sample: {"writes": 0, "reads": 3}
"""

from ansible_collections.octavia.lbaas.plugins.module_utils.lbaas import (
    PROJECT_OPTION,
    Current,
    LbaasInfoModule,
    is_uuid,
)


class LoadBalancerInfoModule(LbaasInfoModule):
    argument_spec = dict(
        project=dict(PROJECT_OPTION),
        name=dict(type="str"),
        filters=dict(type="dict", default={}),
        children=dict(type="bool", default=False),
        status_tree=dict(type="bool", default=False),
        stats=dict(type="bool", default=False),
    )

    def run(self):
        p = self.params
        api = self.api
        lbs = []
        if p["name"] and is_uuid(p["name"]):
            found = api.get_loadbalancer(p["name"])
            lbs = [found] if found else []
        if not lbs:
            query = dict(p["filters"])
            if p["name"]:
                query["name"] = p["name"]
            lbs = api.list("/lbaas/loadbalancers", "loadbalancers", api.scoped(query))
        out = []
        for lb in lbs:
            item = Current(api, lb).tree() if p["children"] else dict(lb)
            if p["status_tree"]:
                item["status"] = (api.status_tree(lb["id"]) or {}).get("loadbalancer")
            if p["stats"]:
                item["stats"] = (api.get("/lbaas/loadbalancers/%s/stats" % lb["id"], missing_ok=True) or {}).get("stats")
            out.append(item)
        self.finish(loadbalancers=out)


def main():
    LoadBalancerInfoModule()()


if __name__ == "__main__":
    main()
