#!/usr/bin/python
# Copyright: octavia.lbaas contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Ensure the Neutron port of one Octavia health manager (controller host)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: health_manager_port
short_description: Ensure the management-network port of one Octavia controller
description:
  - Creates, updates or deletes the Neutron port through which the health manager,
    worker and housekeeping of one controller host reach the amphorae
    (device owner C(Octavia:health-mgr), bound to the host).
  - The port is found by O(name) inside the network O(network).
  - On an existing port the security groups, host binding, device owner, admin state and,
    when O(fixed_ip) or O(subnet) asks for an address the port does not have, the fixed
    IPs are updated. Changing the fixed IPs changes the controller's address.
  - In a cloud without L2 agents the port stays C(DOWN) with C(binding:vif_type)
    C(binding_failed); that is expected and not an error here.
extends_documentation_fragment: [octavia.lbaas.cloud]
author: octavia.lbaas maintainers (@octavia-lbaas)
version_added: 0.1.0
options:
  host:
    description:
      - Name of the controller host. Used for the default O(name) and the default
        O(binding_host_id).
    type: str
    required: true
  name:
    description: Name of the port. Defaults to C(octavia-health-manager-<host>-listen-port).
    type: str
  network:
    description: Name or id of the management network.
    type: str
    required: true
  subnet:
    description:
      - Name or id of the subnet of O(network) the port gets its address from. When
        omitted, Neutron picks (one address per subnet of the network).
    type: str
  fixed_ip:
    description: The address of the port; inside O(subnet) when that is given.
    type: str
  security_groups:
    description:
      - Names (inside O(project)) or ids of the security groups of the port.
      - Not managed when omitted (Neutron applies the project's C(default) group on
        creation); V([]) means none.
    type: list
    elements: str
  project:
    description:
      - Name or id of the project that owns the port and in which O(network) and
        O(security_groups) names are looked up. Defaults to the project of the credentials.
    type: str
  device_owner:
    description: Device owner of the port.
    type: str
    default: Octavia:health-mgr
  binding_host_id:
    description:
      - C(binding:host_id) of the port, the host name Neutron's agent on the controller
        knows (admin only). Defaults to O(host).
    type: str
  admin_state_up:
    description: Administrative state of the port.
    type: bool
    default: true
  state:
    description: V(absent) deletes the port.
    type: str
    choices: [present, absent]
    default: present
"""

EXAMPLES = r"""
- name: Port of controller ctl1 on lb-mgmt-net
  octavia.lbaas.health_manager_port:
    cloud: mycloud
    host: ctl1
    network: lb-mgmt-net
    subnet: lb-mgmt-subnet
    security_groups: [lb-health-mgr-sec-grp]
  register: hm_port

- name: Use its address and MAC
  ansible.builtin.debug:
    msg: "{{ hm_port.port.ip_address }} {{ hm_port.port.mac_address }}"

- name: Fixed address, bound to the host's FQDN as Neutron knows it
  octavia.lbaas.health_manager_port:
    cloud: mycloud
    host: ctl2
    binding_host_id: ctl2.example.com
    network: lb-mgmt-net
    subnet: lb-mgmt-subnet
    fixed_ip: 172.31.0.3
    security_groups: [lb-health-mgr-sec-grp]

- name: Remove the port of a retired controller
  octavia.lbaas.health_manager_port:
    cloud: mycloud
    host: ctl3
    network: lb-mgmt-net
    state: absent
"""

RETURN = r"""
port:
  description:
    - The port. In check mode before it exists, C(id), C(mac_address) and unknown
      addresses are null. Null after O(state=absent).
  returned: always
  type: dict
  contains:
    id: {description: Port id., type: str}
    name: {description: Port name., type: str}
    network_id: {description: Network id., type: str}
    project_id: {description: Owning project., type: str}
    mac_address: {description: MAC address., type: str}
    fixed_ips:
      description: "List of C({subnet_id, ip_address})."
      type: list
      elements: dict
    ip_address:
      description:
        - The controller's address; the one on O(subnet) when given, else the first IPv4
          address, else the first address.
      type: str
    security_group_ids: {description: Security groups., type: list, elements: str}
    binding_host_id: {description: Host binding., type: str}
    device_owner: {description: Device owner., type: str}
    admin_state_up: {description: Administrative state., type: bool}
    status: {description: Neutron status (C(DOWN) without agents)., type: str}
  sample:
    id: 0b6f...
    name: octavia-health-manager-ctl1-listen-port
    mac_address: "fa:16:3e:12:34:56"
    ip_address: 172.31.0.12
    fixed_ips: [{subnet_id: 9a1c..., ip_address: 172.31.0.12}]
"""

import ipaddress

from ansible_collections.octavia.lbaas.plugins.module_utils.cloud import STATE_OPTION, CloudModule, ModuleError, same_value
from ansible_collections.octavia.lbaas.plugins.module_utils.identity_lookup import resolve_project
from ansible_collections.octavia.lbaas.plugins.module_utils.neutron import (
    find_network,
    find_security_group,
    find_subnet,
    only_one,
    parse_ip,
    port_view,
)


class HealthManagerPort(CloudModule):
    argument_spec = dict(
        host=dict(type="str", required=True),
        name=dict(type="str"),
        network=dict(type="str", required=True),
        subnet=dict(type="str"),
        fixed_ip=dict(type="str"),
        security_groups=dict(type="list", elements="str"),
        project=dict(type="str"),
        device_owner=dict(type="str", default="Octavia:health-mgr"),
        binding_host_id=dict(type="str"),
        admin_state_up=dict(type="bool", default=True),
        state=dict(STATE_OPTION),
    )

    def validate(self):
        p = self.params
        if not p["host"].strip():
            raise ModuleError("host: must not be empty")
        self.name = p["name"] or "octavia-health-manager-%s-listen-port" % p["host"]
        self.binding_host = p["binding_host_id"] or p["host"]
        self.fixed_ip = parse_ip(p["fixed_ip"], "fixed_ip") if p["fixed_ip"] else None
        if len(set(p["security_groups"] or [])) != len(p["security_groups"] or []):
            raise ModuleError("security_groups: %s lists a group twice" % p["security_groups"])

    def run(self):
        p = self.params
        project_id = resolve_project(self.conn, p["project"]) if p["project"] else None
        net = find_network(self.conn, p["network"], project_id, "network")
        if net is None and p["state"] == "absent":
            self.exit(port=None)  # no network, no port
            return
        if net is None:
            raise ModuleError("network: no network %r%s" % (
                p["network"], " in project %s" % project_id if project_id else ""))
        port = only_one(self.conn.network.ports(network_id=net.id, name=self.name),
                        "ports named %r in network %s" % (self.name, net.id),
                        "delete the extra ones")
        self.before = self.describe(port)
        if p["state"] == "absent":
            if port is not None:
                self.write("delete port %s" % port.id, self.conn.network.delete_port, port,
                           ignore_missing=True)
            self.after = {}
            self.exit(port=None)
            return

        subnet = None
        if p["subnet"]:
            subnet = find_subnet(self.conn, p["subnet"], net.id, "subnet")
            if subnet is None:
                raise ModuleError("subnet: no subnet %r in network %s (%s)"
                                  % (p["subnet"], net.name, net.id))
        if self.fixed_ip is not None:
            if subnet is not None and self.fixed_ip not in ipaddress.ip_network(subnet.cidr):
                raise ModuleError("fixed_ip: %s is not inside subnet %s (%s)"
                                  % (self.fixed_ip, subnet.name, subnet.cidr))
        group_ids = None
        if p["security_groups"] is not None:
            group_project = project_id or self.conn.current_project_id
            group_ids = []
            for index, ref in enumerate(p["security_groups"]):
                group = find_security_group(self.conn, ref, group_project,
                                            "security_groups[%d]" % index)
                if group is None:
                    raise ModuleError("security_groups[%d]: no security group %r in project %s"
                                      % (index, ref, group_project))
                group_ids.append(group.id)
        wanted_fixed = None
        if self.fixed_ip is not None or subnet is not None:
            item = {}
            if subnet is not None:
                item["subnet_id"] = subnet.id
            if self.fixed_ip is not None:
                item["ip_address"] = str(self.fixed_ip)
            wanted_fixed = [item]

        wanted = dict(device_owner=p["device_owner"], binding_host_id=self.binding_host,
                      is_admin_state_up=p["admin_state_up"])
        if group_ids is not None:
            wanted["security_group_ids"] = sorted(set(group_ids))
        subnet_id = subnet.id if subnet else None

        if port is None:
            kwargs = dict(wanted, name=self.name, network_id=net.id)
            if project_id:
                kwargs["project_id"] = project_id
            if wanted_fixed:
                kwargs["fixed_ips"] = wanted_fixed
            created = self.write("create port %s" % self.name, self.conn.network.create_port,
                                 **kwargs)
            if created is not None:
                view = port_view(self.conn.network.get_port(created.id), subnet_id)
            else:
                fixed = [dict(subnet_id=subnet_id,
                              ip_address=str(self.fixed_ip) if self.fixed_ip else None)] \
                    if wanted_fixed else []
                view = dict(id=None, name=self.name, network_id=net.id,
                            project_id=project_id or self.conn.current_project_id,
                            mac_address=None, fixed_ips=fixed,
                            ip_address=str(self.fixed_ip) if self.fixed_ip else None,
                            security_group_ids=wanted.get("security_group_ids", []),
                            binding_host_id=self.binding_host, device_owner=p["device_owner"],
                            admin_state_up=p["admin_state_up"], status=None)
        else:
            update = {}
            for field, want in wanted.items():
                if not same_value(want, getattr(port, field)):
                    update[field] = want
            if wanted_fixed and not self.has_address(port, subnet_id):
                update["fixed_ips"] = wanted_fixed
            if update:
                self.write("update port %s: %s" % (port.id, ", ".join(sorted(update))),
                           self.conn.network.update_port, port, **update)
            if update and not self.check_mode:
                view = port_view(self.conn.network.get_port(port.id), subnet_id)
            else:
                view = port_view(port, subnet_id)
                for field, want in update.items():
                    key = {"is_admin_state_up": "admin_state_up"}.get(field, field)
                    if key == "fixed_ips":
                        want = [dict(subnet_id=w.get("subnet_id"),
                                     ip_address=w.get("ip_address")) for w in want]
                        view["ip_address"] = want[0]["ip_address"]
                    view[key] = want
        self.after = {k: v for k, v in view.items() if k not in ("status",)}
        self.exit(port=view)

    def has_address(self, port, subnet_id):
        for item in port.fixed_ips or []:
            if subnet_id and item.get("subnet_id") != subnet_id:
                continue
            if self.fixed_ip is not None and \
                    ipaddress.ip_address(item.get("ip_address")) != self.fixed_ip:
                continue
            return True
        return False

    @staticmethod
    def describe(port):
        view = port_view(port)
        if view is None:
            return {}
        view.pop("status")
        return view


def main():
    HealthManagerPort()()


if __name__ == "__main__":
    main()
