# Copyright: octavia.lbaas contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Checks of the VIP of a load balancer against its listeners and its network: the VIP's
addresses (and additional VIPs) against allowed_cidrs, a fixed VIP address against its
subnet, custom VIP security groups against allowed_cidrs. They take the `Validator`
collecting the problems, and are run where the data is known: on the task alone, or
before any write once the load balancer (or its subnet) has been read."""

from __future__ import annotations

import ipaddress

from ansible_collections.octavia.lbaas.plugins.module_utils.lbaas_fields import join_path
from ansible_collections.octavia.lbaas.plugins.module_utils.values import is_ip


def vip_addresses(lb):
    """The VIP addresses of an existing load balancer (its VIP and additional VIPs)."""
    found = [lb.get("vip_address")] + [v.get("ip_address") for v in lb.get("additional_vips") or [] if isinstance(v, dict)]
    return [a for a in found if a and is_ip(a)]


def check_cidrs_for_vip(validator, listeners, addresses):
    """allowed_cidrs of another IP version than every VIP: Octavia refuses them on a
    listener of an existing load balancer, and a fully populated create would keep
    them without effect."""
    versions = {ipaddress.ip_address(a).version for a in addresses if is_ip(a)}
    if not versions:
        return
    for li in listeners or []:
        for cidr in li.get("allowed_cidrs") or []:
            version = ipaddress.ip_network(cidr, strict=False).version
            if version not in versions:
                validator.error(join_path(li.get("_path", ""), "allowed_cidrs"),
                                "%s is an IPv%d CIDR but the load balancer's VIP is IPv%s"
                                % (cidr, version, "/".join(str(v) for v in sorted(versions))))


def check_vip_address(validator, address, subnets, field="vip_address"):
    """A fixed VIP address must be a usable host address of the VIP subnet (or of one
    subnet of the VIP network)."""
    ip = ipaddress.ip_address(address)
    nets = [ipaddress.ip_network(sub["cidr"], strict=False) for sub in subnets if sub and sub.get("cidr")]
    if not nets:
        return
    inside = [net for net in nets if ip.version == net.version and ip in net]
    if not inside:
        where = "the VIP subnet" if len(nets) == 1 else "any subnet of the VIP network"
        validator.error(field, "%s is not in %s (%s)" % (address, where, ", ".join(str(n) for n in nets)))
        return
    net = inside[0]
    if ip.version == 4 and net.prefixlen < 31 and ip in (net.network_address, net.broadcast_address):
        validator.error(field, "%s is the %s address of %s, not a host address"
                        % (address, "network" if ip == net.network_address else "broadcast", net))


def check_vip_sgs(validator, listeners, sg_ids, where=None):
    """Octavia refuses allowed_cidrs on a listener of a load balancer with custom VIP
    security groups (vip_sg_ids): the security groups decide who may connect."""
    if not sg_ids:
        return
    for li in listeners or []:
        if li.get("allowed_cidrs"):
            validator.error(join_path(li.get("_path", ""), "allowed_cidrs"),
                            "cannot be used with the load balancer's vip_sg_ids%s (Octavia refuses allowed_cidrs when "
                            "custom VIP security groups decide who may connect)" % (where or ""))


def check_additional_vips(validator, lb, vip_subnet_id=None):
    """Octavia binds one VIP per subnet: an additional VIP may not repeat a subnet (nor the
    VIP's own, `vip_subnet_id` once resolved to its ID)."""
    seen = {vip_subnet_id or lb.get("vip_subnet"): "vip_subnet"}
    for i, vip in enumerate(lb.get("additional_vips") or []):
        where = "additional_vips[%d].subnet_id" % i
        if vip.get("subnet_id") in seen:
            validator.error(where, "subnet %s is already used by %s; Octavia binds one VIP per subnet"
                            % (vip["subnet_id"], seen[vip["subnet_id"]]))
        else:
            seen[vip.get("subnet_id")] = where
