# Copyright: octavia.lbaas contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Neutron helpers shared by the network modules: address validation without any API
call, and lookups by natural key (name inside a project or a network)."""

from __future__ import annotations

import ipaddress

from ansible_collections.octavia.lbaas.plugins.module_utils.cloud import STATE_OPTION, ModuleError
from ansible_collections.octavia.lbaas.plugins.module_utils.identity_lookup import resolve_project
from ansible_collections.octavia.lbaas.plugins.module_utils.values import canonical_ip, is_uuid


# -- an object found by name inside a project (a network, a security group) ---------------
def owned_object_options(**options):
    """The options of a module that manages one Neutron object found by its name inside a
    project: name, description, state and project, then the module's own `options`."""
    return dict(name=dict(type="str", required=True), description=dict(type="str"), state=dict(STATE_OPTION),
                project=dict(type="str"), **options)


def find_owned(conn, listing, what, params):
    """(the ID of the project `params["project"]` names (default: the caller's), the object
    `listing` (an openstacksdk list call) finds by `params["name"]` in it, or None). Fails when
    several have the name: `what` names them (for example "networks")."""
    project_id = resolve_project(conn, params["project"])
    found = only_one(listing(name=params["name"], project_id=project_id),
                     "%s named %r in project %s" % (what, params["name"], project_id), "delete the extra ones")
    return project_id, found


# -- addresses (pure; used in validate()) ------------------------------------------------
def parse_cidr(value, option, version=None):
    """An ip_network from a CIDR string; messages name the option."""
    if not isinstance(value, str) or "/" not in value:
        raise ModuleError("%s: %r is not a CIDR (address/prefix length, for example "
                          "172.31.0.0/24)" % (option, value))
    try:
        net = ipaddress.ip_network(value, strict=False)
    except ValueError as exc:
        raise ModuleError("%s: %r is not a valid CIDR: %s" % (option, value, exc)) from None
    if net.network_address != ipaddress.ip_interface(value).ip:
        raise ModuleError("%s: %r has host bits set; the network is %s"
                          % (option, value, net))
    check_version(net, option, value, version)
    return net


def parse_prefix(value, option, version=None):
    """A remote IP prefix: host bits are dropped (Neutron does the same)."""
    try:
        net = ipaddress.ip_network(value, strict=False)
    except ValueError as exc:
        raise ModuleError("%s: %r is not a valid IP prefix: %s" % (option, value, exc)) from None
    check_version(net, option, value, version)
    return net


def parse_ip(value, option, version=None):
    try:
        addr = ipaddress.ip_address(value)
    except ValueError:
        raise ModuleError("%s: %r is not a valid IP address" % (option, value)) from None
    check_version(addr, option, value, version)
    return addr


def check_version(obj, option, value, version):
    if version is not None and obj.version != version:
        raise ModuleError("%s: %r is an IPv%d %s; an IPv%d one is needed here"
                          % (option, value, obj.version,
                             "network" if hasattr(obj, "prefixlen") else "address", version))


def canonical_pools(pools):
    """Allocation pools as a sorted list of {start, end} with canonical addresses."""
    if pools is None:
        return None
    out = [{"start": canonical_ip(p["start"]), "end": canonical_ip(p["end"])} for p in pools]
    return sorted(out, key=lambda p: (ipaddress.ip_address(p["start"]),
                                      ipaddress.ip_address(p["end"])))


# -- lookups -------------------------------------------------------------------------------
def only_one(found, what, hint):
    found = list(found)
    if len(found) > 1:
        raise ModuleError("%d %s found (ids %s); %s"
                          % (len(found), what, ", ".join(sorted(o.id for o in found)), hint))
    return found[0] if found else None


def find_network(conn, name_or_id, project_id=None, option="network"):
    """A network by id, else by name (inside project_id when given)."""
    if is_uuid(name_or_id):
        net = conn.network.find_network(name_or_id, ignore_missing=True)
        if net is not None and net.id == name_or_id:
            return net
    query = dict(name=name_or_id)
    if project_id:
        query["project_id"] = project_id
    return only_one(conn.network.networks(**query),
                    "networks named %r" % name_or_id,
                    "give %s as an id, or the project" % option)


def find_subnet(conn, name_or_id, network_id, option="subnet"):
    """A subnet of network_id by id or name."""
    if is_uuid(name_or_id):
        for subnet in conn.network.subnets(network_id=network_id, id=name_or_id):
            return subnet
    return only_one(conn.network.subnets(network_id=network_id, name=name_or_id),
                    "subnets named %r in network %s" % (name_or_id, network_id),
                    "give %s as an id" % option)


def find_security_group(conn, name_or_id, project_id, option="security group"):
    """A security group by id (any project the caller sees), else by name in project_id."""
    if is_uuid(name_or_id):
        for group in conn.network.security_groups(id=name_or_id):
            return group
    return only_one(conn.network.security_groups(name=name_or_id, project_id=project_id),
                    "security groups named %r in project %s" % (name_or_id, project_id),
                    "give %s as an id" % option)


# -- views ---------------------------------------------------------------------------------
def pick_ip(fixed_ips, subnet_id=None):
    if not fixed_ips:
        return None
    if subnet_id:
        for item in fixed_ips:
            if item.get("subnet_id") == subnet_id:
                return item.get("ip_address")
    for item in fixed_ips:
        if item.get("ip_address") and ipaddress.ip_address(item["ip_address"]).version == 4:
            return item["ip_address"]
    return fixed_ips[0].get("ip_address")


def port_view(port, subnet_id=None):
    if port is None:
        return None
    fixed = [dict(subnet_id=f.get("subnet_id"), ip_address=canonical_ip(f.get("ip_address")))
             for f in port.fixed_ips or []]
    return dict(id=port.id, name=port.name, network_id=port.network_id,
                project_id=port.project_id, mac_address=port.mac_address, fixed_ips=fixed,
                ip_address=pick_ip(fixed, subnet_id),
                security_group_ids=sorted(port.security_group_ids or []),
                binding_host_id=port.binding_host_id, device_owner=port.device_owner,
                admin_state_up=port.is_admin_state_up, status=port.status)
