#!/usr/bin/python
# Copyright: octavia.lbaas contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
module: member_info
short_description: Read the members of an Octavia pool
description:
  - Lists the members of a pool. Never fails when nothing matches.
author: octavia.lbaas maintainers (@octavia-lbaas)
extends_documentation_fragment:
  - octavia.lbaas.cloud
  - octavia.lbaas.lb_attributes.INFO
options:
  address:
    description:
      - Only members with this address.
    type: str
  filters:
    description:
      - "Octavia query filters, for example C({operating_status: ERROR})."
    type: dict
    default: {}
  loadbalancer:
    description:
      - "Load balancer (name or ID) of the pool; needed when O(pool) is a name."
    type: str
  pool:
    description:
      - Pool (name or ID).
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
      - Only members on this port.
    type: int
"""

EXAMPLES = r"""
- name: Members of a pool that are down
  octavia.lbaas.member_info:
    loadbalancer: web
    pool: web
    filters:
      operating_status: ERROR
"""

RETURN = r"""
members:
  description: Matching members as Octavia returns them (empty when none match).
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


class MemberInfoModule(LbaasInfoModule):
    argument_spec = dict(
        project=dict(PROJECT_OPTION),
        loadbalancer=dict(type="str"),
        pool=dict(type="str", required=True),
        address=dict(type="str"),
        protocol_port=dict(type="int"),
        filters=dict(type="dict", default={}),
    )

    def run(self):
        p = self.params
        if not p["loadbalancer"] and not is_uuid(p["pool"]):
            raise ModuleError("pool: %s is a name; give loadbalancer too" % p["pool"])
        pool = self.lookup_pool(p["pool"], p["loadbalancer"], required=False)[1]
        if pool is None:
            self.finish(members=[])
            return
        query = dict(p["filters"])
        for name in ("address", "protocol_port"):
            if p[name] is not None:
                query[name] = p[name]
        self.finish(members=self.api.list("/lbaas/pools/%s/members" % pool["id"], "members", query))


def main():
    MemberInfoModule()()


if __name__ == "__main__":
    main()
