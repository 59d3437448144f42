#!/usr/bin/python
# Copyright: octavia.lbaas contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Ensure the amphora management network and its subnet(s)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: mgmt_network
short_description: Ensure the Octavia management network and its IPv4 (and IPv6) subnet
description:
  - Creates, updates or deletes a Neutron network and its subnets as the Octavia amphora
    management network (C(lb-mgmt-net)) needs them. The network is found by O(name) inside
    O(project); each subnet by its name inside the network (or, when no subnet has that
    name, by its CIDR, and is then renamed).
  - Every input is checked before any API call (CIDR syntax and family, allocation pools
    inside the subnet and in order, gateway outside the pools, IPv6 modes).
  - What Neutron can change on an existing network or subnet is updated (description,
    MTU, port security, subnet name, allocation pools, DHCP, gateway, DNS servers). The
    CIDR or the IPv6 modes of an existing subnet and the provider attributes of an
    existing network cannot be changed; the module fails and names the option instead.
extends_documentation_fragment: [octavia.lbaas.cloud]
author: octavia.lbaas maintainers (@octavia-lbaas)
version_added: 0.1.0
options:
  name:
    description: Name of the network, unique inside O(project).
    type: str
    required: true
  description:
    description: Description of the network. Not managed when omitted.
    type: str
  state:
    description:
      - V(absent) deletes the network and with it its subnets (Neutron refuses while
        ports other than its own use them).
    type: str
    choices: [present, absent]
    default: present
  project:
    description:
      - Name or id of the project that owns the network (admin only when it is not the
        project of the credentials). Defaults to the project of the credentials.
    type: str
  mtu:
    description: MTU of the network. Not managed when omitted (Neutron picks one).
    type: int
  port_security_enabled:
    description: Port security (security groups) on ports of the network.
    type: bool
    default: true
  provider_network_type:
    description:
      - Provider network type (for example V(vxlan), V(vlan), V(flat)); admin only, and
        only when the network is created. Not managed when omitted.
    type: str
  provider_physical_network:
    description: Provider physical network (admin only; only when the network is created).
    type: str
  provider_segmentation_id:
    description: Provider segmentation id, VLAN or VNI (admin only; only when the network is created).
    type: int
  subnet:
    description:
      - The IPv4 subnet. Required when O(state=present).
    type: dict
    suboptions:
      name:
        description: Name of the subnet. Defaults to O(name) followed by C(-subnet).
        type: str
      cidr:
        description: IPv4 network of the subnet, for example V(172.31.0.0/24). Cannot change later.
        type: str
        required: true
      description:
        description: Description of the subnet. Not managed when omitted.
        type: str
      allocation_pools:
        description:
          - Ranges Neutron hands out addresses from. Each inside O(subnet.cidr), start not
            after end, no two overlapping, none containing the gateway.
          - When omitted, Neutron's default (the whole subnet but the gateway) is used on
            creation and existing pools are left as they are.
        type: list
        elements: dict
        suboptions:
          start: {description: First address of the range., type: str, required: true}
          end: {description: Last address of the range., type: str, required: true}
      enable_dhcp:
        description: Neutron DHCP on the subnet. Amphorae get their address through config drive, so off by default.
        type: bool
        default: false
      gateway_ip:
        description:
          - Gateway address, inside O(subnet.cidr) and outside the allocation pools.
          - Omitted means the subnet has no gateway (and an existing gateway is removed).
        type: str
      dns_nameservers:
        description: DNS servers of the subnet. Not managed when omitted.
        type: list
        elements: str
  ipv6_subnet:
    description:
      - An optional IPv6 subnet on the same network. Nothing is done about IPv6 when omitted
        (an existing IPv6 subnet stays unless O(purge_subnets=true)).
    type: dict
    suboptions:
      name:
        description: Name of the subnet. Defaults to O(name) followed by C(-subnet-v6).
        type: str
      cidr:
        description:
          - IPv6 network of the subnet, for example V(fd00:0:0:42::/64). Cannot change later.
          - Must be a /64 when O(ipv6_subnet.ipv6_address_mode) is V(slaac) or V(dhcpv6-stateless).
        type: str
        required: true
      description:
        description: As O(subnet.description).
        type: str
      allocation_pools:
        description: As O(subnet.allocation_pools), with IPv6 addresses.
        type: list
        elements: dict
        suboptions:
          start: {description: First IPv6 address of the range., type: str, required: true}
          end: {description: Last IPv6 address of the range., type: str, required: true}
      enable_dhcp:
        description:
          - Neutron DHCP (and router advertisements) on the subnet. Defaults to true when
            an IPv6 mode is given (Neutron requires it then), else false.
        type: bool
      gateway_ip:
        description: Gateway address; omitted means no gateway.
        type: str
      dns_nameservers:
        description: DNS servers of the subnet. Not managed when omitted.
        type: list
        elements: str
      ipv6_address_mode:
        description: How ports get their IPv6 address. Cannot change later.
        type: str
        choices: [slaac, dhcpv6-stateful, dhcpv6-stateless]
      ipv6_ra_mode:
        description:
          - Who sends router advertisements. Cannot change later. When both modes are
            given they must be equal (a Neutron rule).
        type: str
        choices: [slaac, dhcpv6-stateful, dhcpv6-stateless]
  purge_subnets:
    description:
      - Delete the subnets of the network that are neither O(subnet) nor O(ipv6_subnet)
        (for example the IPv6 subnet after IPv6 was turned off).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Management network with an IPv4 subnet, no gateway, no DHCP
  octavia.lbaas.mgmt_network:
    cloud: mycloud
    name: lb-mgmt-net
    subnet:
      name: lb-mgmt-subnet
      cidr: 172.31.0.0/24
      allocation_pools:
        - start: 172.31.0.10
          end: 172.31.0.250

- name: Dual stack, on a VLAN of the physical network "physnet1"
  octavia.lbaas.mgmt_network:
    cloud: mycloud
    name: lb-mgmt-net
    mtu: 1500
    provider_network_type: vlan
    provider_physical_network: physnet1
    provider_segmentation_id: 342
    subnet:
      cidr: 172.31.0.0/24
    ipv6_subnet:
      cidr: fd00:0:0:42::/64
      ipv6_address_mode: slaac
      ipv6_ra_mode: slaac

- name: Remove the management network and its subnets
  octavia.lbaas.mgmt_network:
    cloud: mycloud
    name: lb-mgmt-net
    state: absent
"""

RETURN = r"""
network:
  description: The network (id null in check mode before it exists; null after O(state=absent)).
  returned: always
  type: dict
  contains:
    id: {description: Network id., type: str}
    name: {description: Name., type: str}
    project_id: {description: Owning project., type: str}
    description: {description: Description., type: str}
    mtu: {description: MTU., type: int}
    port_security_enabled: {description: Port security., type: bool}
    provider_network_type: {description: Provider network type (admin only)., type: str}
    provider_physical_network: {description: Provider physical network (admin only)., type: str}
    provider_segmentation_id: {description: Provider segmentation id (admin only)., type: int}
    subnet_ids: {description: Ids of all subnets of the network., type: list, elements: str}
  sample: {id: 4f0f..., name: lb-mgmt-net, mtu: 1450, port_security_enabled: true}
subnet:
  description: The IPv4 subnet (null after O(state=absent)).
  returned: always
  type: dict
  contains:
    id: {description: Subnet id (null in check mode before it exists)., type: str}
    name: {description: Name., type: str}
    network_id: {description: Network id., type: str}
    cidr: {description: CIDR., type: str}
    ip_version: {description: 4 or 6., type: int}
    gateway_ip: {description: "Gateway; null when there is none.", type: str}
    enable_dhcp: {description: DHCP., type: bool}
    allocation_pools: {description: "List of C({start, end})", type: list, elements: dict}
    dns_nameservers: {description: DNS servers., type: list, elements: str}
    description: {description: Description., type: str}
  sample: {id: 9a1c..., cidr: 172.31.0.0/24, gateway_ip: null, enable_dhcp: false}
ipv6_subnet:
  description:
    - The IPv6 subnet, with the keys of RV(subnet) and C(ipv6_address_mode), C(ipv6_ra_mode).
    - Null when O(ipv6_subnet) is not given.
  returned: always
  type: dict
"""

import ipaddress

from ansible_collections.octavia.lbaas.plugins.module_utils.cloud import CloudModule, ModuleError, same_value
from ansible_collections.octavia.lbaas.plugins.module_utils.neutron import canonical_pools, find_owned, only_one, owned_object_options, parse_cidr, parse_ip
from ansible_collections.octavia.lbaas.plugins.module_utils.values import canonical_ip

POOL_SPEC = dict(start=dict(type="str", required=True), end=dict(type="str", required=True))
SUBNET_SPEC = dict(
    name=dict(type="str"),
    cidr=dict(type="str", required=True),
    description=dict(type="str"),
    allocation_pools=dict(type="list", elements="dict", options=POOL_SPEC),
    enable_dhcp=dict(type="bool", default=False),
    gateway_ip=dict(type="str"),
    dns_nameservers=dict(type="list", elements="str"),
)
IPV6_MODES = ["slaac", "dhcpv6-stateful", "dhcpv6-stateless"]
IPV6_SUBNET_SPEC = dict(SUBNET_SPEC)
IPV6_SUBNET_SPEC.update(
    enable_dhcp=dict(type="bool"),
    ipv6_address_mode=dict(type="str", choices=IPV6_MODES),
    ipv6_ra_mode=dict(type="str", choices=IPV6_MODES),
)

NETWORK_FIELDS = ("description", "mtu", "port_security_enabled")
PROVIDER_FIELDS = ("provider_network_type", "provider_physical_network",
                   "provider_segmentation_id")
SUBNET_UPDATABLE = ("name", "description", "allocation_pools", "enable_dhcp", "gateway_ip",
                    "dns_nameservers")
# our key -> openstacksdk attribute
SDK_NAMES = dict(port_security_enabled="is_port_security_enabled", enable_dhcp="is_dhcp_enabled")


def network_view(net):
    if net is None:
        return None
    view = dict(id=net.id, name=net.name, project_id=net.project_id,
                description=net.description, mtu=net.mtu,
                port_security_enabled=net.is_port_security_enabled,
                subnet_ids=sorted(net.subnet_ids or []))
    for field in PROVIDER_FIELDS:
        view[field] = getattr(net, field)
    if view["provider_segmentation_id"] is not None:
        view["provider_segmentation_id"] = int(view["provider_segmentation_id"])
    return view


def subnet_view(subnet):
    if subnet is None:
        return None
    view = dict(id=subnet.id, name=subnet.name, network_id=subnet.network_id,
                cidr=subnet.cidr, ip_version=subnet.ip_version,
                gateway_ip=canonical_ip(subnet.gateway_ip),
                enable_dhcp=subnet.is_dhcp_enabled,
                allocation_pools=canonical_pools(subnet.allocation_pools or []),
                dns_nameservers=list(subnet.dns_nameservers or []),
                description=subnet.description)
    if subnet.ip_version == 6:
        view.update(ipv6_address_mode=subnet.ipv6_address_mode,
                    ipv6_ra_mode=subnet.ipv6_ra_mode)
    return view


def sdk_kwargs(wanted):
    return {SDK_NAMES.get(k, k): v for k, v in wanted.items()}


class MgmtNetwork(CloudModule):
    argument_spec = owned_object_options(
        mtu=dict(type="int"),
        port_security_enabled=dict(type="bool", default=True),
        provider_network_type=dict(type="str"),
        provider_physical_network=dict(type="str"),
        provider_segmentation_id=dict(type="int"),
        subnet=dict(type="dict", options=SUBNET_SPEC),
        ipv6_subnet=dict(type="dict", options=IPV6_SUBNET_SPEC),
        purge_subnets=dict(type="bool", default=False),
    )
    module_kwargs = dict(required_if=[("state", "present", ["subnet"])])

    # -- input -------------------------------------------------------------------------
    def validate(self):
        p = self.params
        if p["mtu"] is not None and not 68 <= p["mtu"] <= 65535:
            raise ModuleError("mtu: %d is not a valid MTU (68 to 65535)" % p["mtu"])
        if p["provider_segmentation_id"] is not None and p["provider_network_type"] is None:
            raise ModuleError("provider_segmentation_id needs provider_network_type")
        if p["provider_physical_network"] is not None and p["provider_network_type"] is None:
            raise ModuleError("provider_physical_network needs provider_network_type")
        self.wanted_subnets = []
        if p["state"] == "absent":
            return
        self.wanted_subnets.append(self.check_subnet("subnet", p["subnet"], 4,
                                                     p["name"] + "-subnet"))
        if p["ipv6_subnet"]:
            self.wanted_subnets.append(self.check_subnet("ipv6_subnet", p["ipv6_subnet"], 6,
                                                         p["name"] + "-subnet-v6"))
            if self.wanted_subnets[0]["name"] == self.wanted_subnets[1]["name"]:
                raise ModuleError("subnet.name and ipv6_subnet.name are both %r; the subnets "
                                  "of a network need different names"
                                  % self.wanted_subnets[0]["name"])

    @staticmethod
    def check_subnet(option, spec, version, default_name):
        net = parse_cidr(spec["cidr"], option + ".cidr", version)
        if version == 4 and net.prefixlen > 30:
            raise ModuleError("%s.cidr: %s is too small for a management network (at most "
                              "/30)" % (option, net))
        if version == 6 and net.prefixlen > 126:
            raise ModuleError("%s.cidr: %s is too small (at most /126)" % (option, net))
        first = net.network_address + 1
        last = net.broadcast_address - 1 if version == 4 else net.broadcast_address
        wanted = dict(name=spec["name"] or default_name, cidr=str(net), ip_version=version,
                      description=spec["description"], enable_dhcp=spec["enable_dhcp"],
                      gateway_ip=None, allocation_pools=None,
                      dns_nameservers=spec["dns_nameservers"])
        gateway = None
        if spec["gateway_ip"]:
            gateway = parse_ip(spec["gateway_ip"], option + ".gateway_ip", version)
            if gateway not in net or gateway == net.network_address or (
                    version == 4 and gateway == net.broadcast_address):
                raise ModuleError("%s.gateway_ip: %s is not a host address of %s.cidr %s"
                                  % (option, gateway, option, net))
            wanted["gateway_ip"] = str(gateway)
        if spec["allocation_pools"] is not None:
            ranges = []
            for index, pool in enumerate(spec["allocation_pools"]):
                where = "%s.allocation_pools[%d]" % (option, index)
                start = parse_ip(pool["start"], where + ".start", version)
                end = parse_ip(pool["end"], where + ".end", version)
                if start > end:
                    raise ModuleError("%s: start %s is after end %s" % (where, start, end))
                if not (first <= start and end <= last):
                    raise ModuleError("%s: %s-%s is not inside %s.cidr %s (usable %s-%s)"
                                      % (where, start, end, option, net, first, last))
                if gateway is not None and start <= gateway <= end:
                    raise ModuleError("%s.gateway_ip: %s is inside %s (%s-%s); the gateway "
                                      "must be outside every allocation pool"
                                      % (option, gateway, where, start, end))
                for other_index, (o_start, o_end) in enumerate(ranges):
                    if start <= o_end and o_start <= end:
                        raise ModuleError("%s: %s-%s overlaps %s.allocation_pools[%d] %s-%s"
                                          % (where, start, end, option, other_index,
                                             o_start, o_end))
                ranges.append((start, end))
            wanted["allocation_pools"] = canonical_pools(
                [{"start": str(s), "end": str(e)} for s, e in ranges])
        for index, server in enumerate(spec["dns_nameservers"] or []):
            parse_ip(server, "%s.dns_nameservers[%d]" % (option, index))
        if version == 6:
            address_mode, ra_mode = spec["ipv6_address_mode"], spec["ipv6_ra_mode"]
            if address_mode and ra_mode and address_mode != ra_mode:
                raise ModuleError("%s: ipv6_ra_mode %s with ipv6_address_mode %s is not valid; "
                                  "when both are set they must be equal"
                                  % (option, ra_mode, address_mode))
            if (address_mode or ra_mode) in ("slaac", "dhcpv6-stateless") \
                    and net.prefixlen != 64:
                raise ModuleError("%s.cidr: %s must be a /64 for SLAAC address modes"
                                  % (option, net))
            enable_dhcp = spec["enable_dhcp"]
            if enable_dhcp is None:
                enable_dhcp = bool(address_mode or ra_mode)
            elif not enable_dhcp and (address_mode or ra_mode):
                raise ModuleError("%s.enable_dhcp must be true when ipv6_address_mode or "
                                  "ipv6_ra_mode is set (a Neutron rule)" % option)
            wanted.update(enable_dhcp=enable_dhcp, ipv6_address_mode=address_mode,
                          ipv6_ra_mode=ra_mode)
        wanted["_option"] = option
        return wanted

    # -- the flow ----------------------------------------------------------------------
    def run(self):
        p = self.params
        project_id, net = find_owned(self.conn, self.conn.network.networks, "networks", p)
        if p["state"] == "absent":
            self.before = self.describe(net)
            if net is not None:
                self.write("delete network %s" % net.id, self.conn.network.delete_network,
                           net, ignore_missing=True)
            self.after = {}
            self.exit(network=None, subnet=None, ipv6_subnet=None)
            return

        subnets = list(self.conn.network.subnets(network_id=net.id)) if net else []
        plan = [self.plan_subnet(wanted, subnets) for wanted in self.wanted_subnets]
        matched = {step[1].id for step in plan if step[1] is not None}
        stale = [s for s in subnets if s.id not in matched] if p["purge_subnets"] else []
        if net is not None:
            self.before = dict(network={k: v for k, v in network_view(net).items()
                                        if k != "subnet_ids"})
            for wanted, subnet, _update in plan:
                if subnet is not None:
                    self.before[wanted["_option"]] = subnet_view(subnet)
            if stale:
                self.before["other_subnets"] = [subnet_view(s) for s in stale]
        net_wanted = {k: p[k] for k in NETWORK_FIELDS if p[k] is not None}
        provider = {k: p[k] for k in PROVIDER_FIELDS if p[k] is not None}

        if net is None:
            kwargs = dict(net_wanted, **provider)
            net = self.write("create network %s" % p["name"], self.conn.network.create_network,
                             name=p["name"], project_id=project_id, **sdk_kwargs(kwargs))
            net_result = dict(network_view(net)) if net else dict(
                id=None, name=p["name"], project_id=project_id, subnet_ids=[],
                description=p["description"] or "", mtu=p["mtu"],
                port_security_enabled=p["port_security_enabled"],
                **{k: p[k] for k in PROVIDER_FIELDS})
        else:
            current = network_view(net)
            for field, want in provider.items():
                if not same_value(want, current[field]):
                    raise ModuleError(
                        "%s: network %s has %r, not %r, and Neutron cannot change it; delete "
                        "the network first (state=absent) or leave %s out"
                        % (field, net.id, current[field], want, field))
            update = {k: v for k, v in net_wanted.items() if not same_value(v, current[k])}
            if update:
                net = self.write("update network %s: %s" % (net.id, ", ".join(sorted(update))),
                                 self.conn.network.update_network, net,
                                 **sdk_kwargs(update)) or net
                current.update(update)
                net_result = current if self.check_mode else network_view(net)
            else:
                net_result = current

        results = {}
        for wanted, subnet, update in plan:
            results[wanted["_option"]] = self.apply_subnet(wanted, subnet, update, net_result["id"])
        for subnet in stale:
            self.write("delete subnet %s (%s)" % (subnet.id, subnet.cidr),
                       self.conn.network.delete_subnet, subnet, ignore_missing=True)
        if not self.check_mode and net_result["id"]:
            net_result = network_view(self.conn.network.get_network(net_result["id"]))
        self.after = dict(network={k: v for k, v in net_result.items() if k != "subnet_ids"})
        for option, view in results.items():
            self.after[option] = view
        self.exit(network=net_result, subnet=results.get("subnet"),
                  ipv6_subnet=results.get("ipv6_subnet"))

    def plan_subnet(self, wanted, subnets):
        """(wanted, existing subnet or None, {field: value} to update); raises on changes
        Neutron cannot make, before anything is written."""
        option = wanted["_option"]
        version = wanted["ip_version"]
        same_family = [s for s in subnets if s.ip_version == version]
        subnet = only_one([s for s in same_family if s.name == wanted["name"]],
                          "subnets named %r in the network" % wanted["name"],
                          "delete the extra ones")
        if subnet is None:
            subnet = only_one([s for s in same_family
                               if ipaddress.ip_network(s.cidr) == ipaddress.ip_network(
                                   wanted["cidr"])],
                              "subnets with CIDR %s" % wanted["cidr"], "delete the extra ones")
        if subnet is None:
            return wanted, None, None
        current = subnet_view(subnet)
        if ipaddress.ip_network(current["cidr"]) != ipaddress.ip_network(wanted["cidr"]):
            raise ModuleError(
                "%s.cidr: subnet %r (%s) has CIDR %s, not %s; Neutron cannot change the CIDR of a "
                "subnet. Delete the network (state=absent) or the subnet first, or use "
                "another %s.name" % (option, subnet.name, subnet.id, current["cidr"],
                                     wanted["cidr"], option))
        if version == 6:
            for field in ("ipv6_address_mode", "ipv6_ra_mode"):
                if wanted[field] != current[field]:
                    raise ModuleError(
                        "%s.%s: subnet %r (%s) has %r, not %r; Neutron cannot change it. "
                        "Delete the subnet first (purge_subnets with another name) or keep %r"
                        % (option, field, subnet.name, subnet.id, current[field],
                           wanted[field], current[field]))
        update = {}
        for field in SUBNET_UPDATABLE:
            want = wanted[field]
            if want is None and field != "gateway_ip":
                continue
            if not same_value(want, current[field]):
                update[field] = want
        return wanted, subnet, update

    def apply_subnet(self, wanted, subnet, update, network_id):
        fields = {k: v for k, v in wanted.items() if not k.startswith("_")}
        if subnet is None:
            kwargs = {k: v for k, v in fields.items() if v is not None}
            kwargs["gateway_ip"] = fields["gateway_ip"]  # None: no gateway
            created = self.write("create subnet %s (%s)" % (fields["name"], fields["cidr"]),
                                 self.conn.network.create_subnet, network_id=network_id,
                                 **sdk_kwargs(kwargs))
            if created is not None:
                return subnet_view(created)
            view = dict(fields, id=None, network_id=network_id)
            view["description"] = view["description"] or ""
            view["dns_nameservers"] = view["dns_nameservers"] or []
            view["allocation_pools"] = view["allocation_pools"] or []
            return view
        if update:
            updated = self.write("update subnet %s: %s" % (subnet.id, ", ".join(sorted(update))),
                                 self.conn.network.update_subnet, subnet,
                                 **sdk_kwargs(update))
            if updated is not None:
                return subnet_view(updated)
            return dict(subnet_view(subnet), **update)
        return subnet_view(subnet)

    def describe(self, net):
        """Everything state=absent deletes."""
        if net is None:
            return {}
        out = dict(network={k: v for k, v in network_view(net).items() if k != "subnet_ids"})
        out["subnets"] = [subnet_view(s) for s in self.conn.network.subnets(network_id=net.id)]
        return out


def main():
    MgmtNetwork()()


if __name__ == "__main__":
    main()
