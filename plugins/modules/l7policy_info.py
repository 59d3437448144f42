#!/usr/bin/python
# Copyright: octavia.lbaas contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
module: l7policy_info
short_description: Read the L7 policies of an Octavia listener
description:
  - Lists L7 policies with their rules, of one listener or of the project. Never fails when nothing matches.
author: octavia.lbaas maintainers (@octavia-lbaas)
extends_documentation_fragment:
  - octavia.lbaas.cloud
  - octavia.lbaas.lb_attributes.INFO
options:
  filters:
    description:
      - "Octavia query filters, for example C({action: REJECT})."
    type: dict
    default: {}
  listener:
    description:
      - "Listener (C(PROTOCOL:PORT), name or ID) whose policies to read."
    type: str
  loadbalancer:
    description:
      - "Load balancer (name or ID) of the listener; needed unless O(listener) is an ID."
    type: str
  name:
    description:
      - Name or ID of the policy.
    type: str
  project:
    description:
      - "Project (name or ID) whose load balancers (and Neutron networks, subnets and ports) names are looked up in.
        Default: the project the credentials are scoped to. An admin sees every project; a name is never matched in
        another project than this one. A new load balancer is created in this project."
      - IDs given for objects are used as they are, whatever their project.
    type: str
  rules:
    description:
      - Include the rules of each policy.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: L7 policies of a listener, with their rules
  octavia.lbaas.l7policy_info:
    loadbalancer: web
    listener: HTTP:80
"""

RETURN = r"""
l7policies:
  description: Matching L7 policies as Octavia returns them, in position order, with C(rules) when O(rules)
    (empty when none match).
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


class L7PolicyInfoModule(LbaasInfoModule):
    argument_spec = dict(
        project=dict(PROJECT_OPTION),
        loadbalancer=dict(type="str"),
        listener=dict(type="str"),
        name=dict(type="str"),
        filters=dict(type="dict", default={}),
        rules=dict(type="bool", default=True),
    )

    def run(self):
        p = self.params
        api = self.api
        query = dict(p["filters"])
        if is_uuid(p["name"]):
            found = api.get("/lbaas/l7policies/%s" % p["name"], missing_ok=True)
            self.finish(l7policies=[self.expand(found["l7policy"])] if found else [])
            return
        if p["listener"]:
            if not p["loadbalancer"] and not is_uuid(p["listener"]):
                raise ModuleError("listener: %s is not an ID; give loadbalancer too" % p["listener"])
            listener = self.lookup_listener(p["listener"], p["loadbalancer"], required=False)[1]
            if listener is None:
                self.finish(l7policies=[])
                return
            query["listener_id"] = listener["id"]
        elif p["loadbalancer"]:
            raise ModuleError("loadbalancer alone does not select L7 policies; give listener too")
        if p["name"]:
            query["name"] = p["name"]
        policies = sorted(api.list("/lbaas/l7policies", "l7policies", api.scoped(query)), key=lambda pol: pol.get("position") or 0)
        self.finish(l7policies=[self.expand(pol) for pol in policies])

    def expand(self, policy):
        if not self.params["rules"]:
            return policy
        return dict(policy, rules=self.api.list("/lbaas/l7policies/%s/rules" % policy["id"], "rules"))


def main():
    L7PolicyInfoModule()()


if __name__ == "__main__":
    main()
