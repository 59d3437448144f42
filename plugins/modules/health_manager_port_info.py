#!/usr/bin/python
# Copyright: octavia.lbaas contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""List the health-manager ports of a management network."""

from __future__ import annotations

DOCUMENTATION = r"""
module: health_manager_port_info
short_description: List the Octavia health-manager ports of a management network
description:
  - Finds the network O(network) and lists its ports whose device owner is
    O(device_owner). Fails, naming O(network), when there is no such network.
  - Changes nothing; used to find ports of controllers that were removed from the
    inventory, and to check the network before creating ports.
extends_documentation_fragment: [octavia.lbaas.cloud]
author: octavia.lbaas maintainers (@octavia-lbaas)
version_added: 0.1.0
options:
  network:
    description: Name or id of the management network.
    type: str
    required: true
  project:
    description:
      - Name or id of the project in which a network name is looked up. Defaults to any
        network the credentials see (the name must then be unambiguous).
    type: str
  device_owner:
    description: Device owner of the ports to list.
    type: str
    default: Octavia:health-mgr
"""

EXAMPLES = r"""
- name: Health-manager ports of lb-mgmt-net
  octavia.lbaas.health_manager_port_info:
    cloud: mycloud
    network: lb-mgmt-net
  register: hm_ports

- name: Their names
  ansible.builtin.debug:
    msg: "{{ hm_ports.ports | map(attribute='name') }}"
"""

RETURN = r"""
network:
  description: The network.
  returned: success
  type: dict
  contains:
    id: {description: Network id., type: str}
    name: {description: Network name., type: str}
    project_id: {description: Owning project., type: str}
ports:
  description:
    - The ports, sorted by name, with the keys of RV(octavia.lbaas.health_manager_port#module:port).
  returned: success
  type: list
  elements: dict
"""

from ansible_collections.octavia.lbaas.plugins.module_utils.cloud import CloudModule, ModuleError
from ansible_collections.octavia.lbaas.plugins.module_utils.identity_lookup import resolve_project
from ansible_collections.octavia.lbaas.plugins.module_utils.neutron import find_network, port_view


class HealthManagerPortInfo(CloudModule):
    argument_spec = dict(
        network=dict(type="str", required=True),
        project=dict(type="str"),
        device_owner=dict(type="str", default="Octavia:health-mgr"),
    )

    def run(self):
        p = self.params
        project_id = resolve_project(self.conn, p["project"]) if p["project"] else None
        net = find_network(self.conn, p["network"], project_id, "network")
        if net is None:
            raise ModuleError("network: no network %r%s" % (
                p["network"], " in project %s" % project_id if project_id else ""))
        ports = [port_view(port) for port in
                 self.conn.network.ports(network_id=net.id, device_owner=p["device_owner"])]
        self.exit(network=dict(id=net.id, name=net.name, project_id=net.project_id),
                  ports=sorted(ports, key=lambda v: (v["name"] or "", v["id"])))


def main():
    HealthManagerPortInfo()()


if __name__ == "__main__":
    main()
