#!/usr/bin/python
# Copyright: octavia.lbaas contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Read Octavia amphorae (admin API), by ID or load balancer, with their statistics."""

from __future__ import annotations

DOCUMENTATION = r"""
module: amphora_info
short_description: Read Octavia amphorae, by ID or by load balancer, with their statistics
description:
  - Lists the amphorae of Octavia's C(amphora) provider through its admin API
    (C(GET /v2/octavia/amphorae)); needs a user with Octavia's admin role.
  - "Amphorae Octavia marked DELETED are not returned. The list is sorted by load balancer,
    then standby (C(BACKUP)) before C(STANDALONE) before C(MASTER): the order in which
    C(octavia.lbaas.amphora) fails them over."
  - Never fails when nothing matches (an unknown ID or load balancer gives an empty list);
    an O(id) that is not a UUID is refused before any API call.
author: octavia.lbaas maintainers (@octavia-lbaas)
version_added: 0.1.0
extends_documentation_fragment: [octavia.lbaas.cloud, octavia.lbaas.lb_attributes.INFO]
options:
  id:
    description:
      - ID of one amphora.
    type: str
  loadbalancer:
    description:
      - Load balancer (name or ID) whose amphorae to list. With O(id), the amphora must
        belong to it.
    type: str
  filters:
    description:
      - "Octavia query filters on amphora fields, for example C({status: ERROR}) or
        C({role: MASTER}) or C({image_id: <ID>})."
    type: dict
    default: {}
  stats:
    description:
      - Include each amphora's per-listener statistics
        (C(GET /v2/octavia/amphorae/{id}/stats)) as C(stats); null when Octavia has none
        for it (no heartbeat with statistics received yet).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: The amphorae of a load balancer, with their statistics
  octavia.lbaas.amphora_info:
    cloud: mycloud
    loadbalancer: web
    stats: true
  register: web_amphorae

- name: Amphorae in ERROR, anywhere
  octavia.lbaas.amphora_info:
    cloud: mycloud
    filters:
      status: ERROR

- name: Amphorae still on an old image
  octavia.lbaas.amphora_info:
    cloud: mycloud
    filters:
      image_id: 5b1c8a4e-0d7f-4c4e-9d55-1f7a3c2b9e10
"""

RETURN = r"""
amphorae:
  description:
    - Matching amphorae as Octavia returns them (C(id), C(loadbalancer_id), C(compute_id),
      C(lb_network_ip), C(role), C(status), C(image_id), C(cert_expiration), ...), empty
      when none match; with C(stats) when O(stats).
  returned: always
  type: list
  elements: dict
  sample: [{"id": "370629b9-1404-46f4-9e14-affe47026eae", "loadbalancer_id": "c17bdc40-efc6-4747-84b3-067e0df441f2",
            "role": "BACKUP", "status": "ALLOCATED", "image_id": "dc490cc2-a2a8-4734-9b53-3db15bfbb05e",
            "lb_network_ip": "192.0.2.11", "cert_expiration": "2026-12-22T08:17:40",
            "stats": [{"listener_id": "9d1c...", "active_connections": 0, "bytes_in": 0, "bytes_out": 0,
                       "request_errors": 0, "total_connections": 0, "loadbalancer_id": "c17bdc40-..."}]}]
api_calls: {description: "API calls the task made (only reads).", returned: always, type: dict, sample: {"writes": 0, "reads": 3}}
"""

from ansible_collections.octavia.lbaas.plugins.module_utils.amphora import AMPHORAE, failover_order
from ansible_collections.octavia.lbaas.plugins.module_utils.cloud import ModuleError
from ansible_collections.octavia.lbaas.plugins.module_utils.lbaas_module import LbaasInfoModule
from ansible_collections.octavia.lbaas.plugins.module_utils.values import is_uuid


class AmphoraInfoModule(LbaasInfoModule):
    argument_spec = dict(
        id=dict(type="str"),
        loadbalancer=dict(type="str"),
        filters=dict(type="dict", default={}),
        stats=dict(type="bool", default=False),
    )

    def validate(self):
        p = self.params
        if p["id"] is not None and not is_uuid(p["id"]):
            raise ModuleError("id: %r is not an amphora ID (a UUID)" % p["id"])
        if p["loadbalancer"] is not None and not p["loadbalancer"].strip():
            raise ModuleError("loadbalancer: must not be empty")

    def run(self):
        p = self.params
        api = self.api
        lb_id = None
        if p["loadbalancer"]:
            lb = api.find_loadbalancer(p["loadbalancer"])
            if lb is None:
                self.finish(amphorae=[])
                return
            lb_id = lb["id"]
        if p["id"]:
            found = api.get("%s/%s" % (AMPHORAE, p["id"]), missing_ok=True, what="read amphora %s" % p["id"])
            amps = [found["amphora"]] if found and found.get("amphora") else []
        else:
            query = dict(p["filters"])
            if lb_id:
                query["loadbalancer_id"] = lb_id
            amps = api.list(AMPHORAE, "amphorae", query)
        amps = [a for a in amps if a.get("status") != "DELETED" and (lb_id is None or a.get("loadbalancer_id") == lb_id)
                and all(str(a.get(k)) == str(v) for k, v in p["filters"].items() if k in a)]
        amps = failover_order(amps)
        if p["stats"]:
            def reader(amp_id):
                return lambda: api.get("%s/%s/stats" % (AMPHORAE, amp_id), missing_ok=True,
                                       what="read the statistics of amphora %s" % amp_id)

            stats = api.parallel(*[reader(a["id"]) for a in amps])
            for amp, found in zip(amps, stats):
                amp["stats"] = found.get("amphora_stats") if found else None
        self.finish(amphorae=amps)


def main():
    AmphoraInfoModule()()


if __name__ == "__main__":
    main()
