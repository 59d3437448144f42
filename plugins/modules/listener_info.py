#!/usr/bin/python
# Copyright: octavia.lbaas contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
module: listener_info
short_description: Read listeners of Octavia load balancers
description:
  - Lists listeners, of one load balancer or of the project. Never fails when nothing matches.
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
  l7policies:
    description:
      - Include the L7 policies (with their rules) as objects.
    type: bool
    default: false
  loadbalancer:
    description:
      - Only listeners of this load balancer (name or ID).
    type: str
  name:
    description:
      - "C(PROTOCOL:PORT), name or ID of the listener."
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
"""

EXAMPLES = r"""
- name: The listeners of a load balancer, with their L7 policies
  octavia.lbaas.listener_info:
    loadbalancer: web
    l7policies: true

- name: One listener by protocol and port, with statistics
  octavia.lbaas.listener_info:
    loadbalancer: web
    name: HTTP:80
    stats: true
"""

RETURN = r"""
listeners:
  description: Matching listeners as Octavia returns them (empty when none match).
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
    LISTENER_REF_RE,
    PROJECT_OPTION,
    LbaasInfoModule,
    is_uuid,
    l4_protocol,
)


class ListenerInfoModule(LbaasInfoModule):
    argument_spec = dict(
        project=dict(PROJECT_OPTION),
        loadbalancer=dict(type="str"),
        name=dict(type="str"),
        filters=dict(type="dict", default={}),
        l7policies=dict(type="bool", default=False),
        stats=dict(type="bool", default=False),
    )

    def run(self):
        p = self.params
        api = self.api
        ref = p["name"]
        query = dict(p["filters"])
        match = LISTENER_REF_RE.match(ref or "")
        if p["loadbalancer"]:
            lbs = self.matching_lbs(p["loadbalancer"])
            if not lbs:
                self.finish(listeners=[])
                return
            query["loadbalancer_id"] = lbs[0]["id"]
        elif is_uuid(ref):
            found = api.get("/lbaas/listeners/%s" % ref, missing_ok=True)
            self.finish(listeners=[self.expand(found["listener"])] if found else [])
            return
        if ref and not match and not is_uuid(ref):
            query["name"] = ref
        listeners = api.list("/lbaas/listeners", "listeners", api.scoped(query))
        if match:
            proto, port = match.group(1).upper(), int(match.group(2))
            listeners = [li for li in listeners if li["protocol_port"] == port and l4_protocol(li["protocol"]) == l4_protocol(proto)]
        elif is_uuid(ref):
            listeners = [li for li in listeners if li["id"] == ref]
        self.finish(listeners=[self.expand(li) for li in listeners])

    def matching_lbs(self, ref):
        if is_uuid(ref):
            found = self.api.get_loadbalancer(ref)
            if found:
                return [found]
        return self.api.list("/lbaas/loadbalancers", "loadbalancers", self.api.scoped({"name": ref}))

    def expand(self, listener):
        item = dict(listener)
        if self.params["l7policies"]:
            policies = self.api.list("/lbaas/l7policies", "l7policies", {"listener_id": listener["id"]})
            item["l7policies"] = [dict(pol, rules=self.api.list("/lbaas/l7policies/%s/rules" % pol["id"], "rules"))
                                  for pol in sorted(policies, key=lambda pol: pol.get("position") or 0)]
        if self.params["stats"]:
            item["stats"] = (self.api.get("/lbaas/listeners/%s/stats" % listener["id"], missing_ok=True) or {}).get("stats")
        return item


def main():
    ListenerInfoModule()()


if __name__ == "__main__":
    main()
