#!/usr/bin/python
# Copyright: octavia.lbaas contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Ensure a Neutron security group and its exact set of rules."""

from __future__ import annotations

DOCUMENTATION = r"""
module: security_group
short_description: Ensure a Neutron security group and exactly its rules
description:
  - Creates, updates or deletes a security group found by O(name) inside O(project), and
    makes its rules the ones listed in O(rules).
  - Security group rules cannot be changed in Neutron; a rule that differs is deleted and
    created again.
  - "Neutron gives every new group two default egress rules (egress, any protocol, IPv4 and
    IPv6, any destination). Unless O(purge_default_egress=true) these two are treated as
    wanted: they are neither reported nor removed, whether or not they are listed. With
    O(purge_default_egress=true) they are removed unless O(rules) lists them."
  - Every rule is checked before any API call (protocol and port combinations, ranges,
    prefix family against O(rules[].ethertype), duplicates).
extends_documentation_fragment: [octavia.lbaas.cloud]
author: octavia.lbaas maintainers (@octavia-lbaas)
version_added: 0.1.0
options:
  name:
    description: Name of the security group, unique inside O(project).
    type: str
    required: true
  description:
    description: Description of the group. Not managed when omitted (empty on creation).
    type: str
  state:
    description: V(absent) deletes the group (Neutron refuses while ports use it).
    type: str
    choices: [present, absent]
    default: present
  project:
    description:
      - Name or id of the project that owns the group (admin only when it is not the
        project of the credentials). Defaults to the project of the credentials.
    type: str
  rules:
    description:
      - The rules of the group. When omitted the rules are not managed at all.
    type: list
    elements: dict
    suboptions:
      direction:
        description: Direction of the traffic the rule allows.
        type: str
        choices: [ingress, egress]
        default: ingress
      ethertype:
        description:
          - Address family. Defaults to the family of O(rules[].remote_ip_prefix), else V(IPv4).
        type: str
        choices: [IPv4, IPv6]
      protocol:
        description:
          - IP protocol by name (V(tcp), V(udp), V(icmp), V(ipv6-icmp), V(sctp), ...) or
            number (V(0) to V(255)). Omitted or V(any) means any protocol.
          - With V(IPv6), V(icmp) and V(icmpv6) mean V(ipv6-icmp) (Neutron stores them so).
        type: str
      port_range_min:
        description:
          - First port (1-65535) for V(tcp), V(udp), V(sctp), V(dccp), V(udplite); the
            ICMP type (0-255) for ICMP.
        type: int
      port_range_max:
        description:
          - Last port for port protocols (defaults to O(rules[].port_range_min), a single
            port); the ICMP code (0-255, omitted means any code) for ICMP.
        type: int
      remote_ip_prefix:
        description:
          - Source (ingress) or destination (egress) prefix. Omitted means any address.
            Host bits are dropped (C(10.0.0.5/24) is C(10.0.0.0/24)).
          - V(0.0.0.0/0) and V(::/0) are the same as omitting it.
        type: str
      remote_group:
        description:
          - Name (inside O(project)) or id of a security group whose members the rule
            allows; the group's own name means itself. Excludes O(rules[].remote_ip_prefix).
        type: str
  purge_rules:
    description:
      - Delete the rules of the group that O(rules) does not list (the default egress
        rules only with O(purge_default_egress)).
    type: bool
    default: true
  purge_default_egress:
    description:
      - Also delete Neutron's default egress rules (any protocol, any destination, IPv4
        and IPv6) when O(rules) does not list them. Needs O(purge_rules).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Amphora security group (ICMP and the agent port from the management network)
  octavia.lbaas.security_group:
    cloud: mycloud
    name: lb-mgmt-sec-grp
    project: service
    rules:
      - protocol: icmp
        remote_ip_prefix: 172.31.0.0/24
      - protocol: tcp
        port_range_min: 9443
        remote_ip_prefix: 172.31.0.0/24
      - ethertype: IPv6
        protocol: tcp
        port_range_min: 9443
        remote_ip_prefix: fd00:0:0:42::/64

- name: Health manager group, default egress rules removed, only outgoing heartbeats
  octavia.lbaas.security_group:
    cloud: mycloud
    name: lb-health-mgr-sec-grp
    purge_default_egress: true
    rules:
      - protocol: udp
        port_range_min: 5555
      - direction: egress
        protocol: udp
        port_range_min: 1
        port_range_max: 65535

- name: Delete a group
  octavia.lbaas.security_group:
    cloud: mycloud
    name: lb-old-sec-grp
    state: absent
"""

RETURN = r"""
security_group:
  description: The group (id null in check mode before it exists; null after O(state=absent)).
  returned: always
  type: dict
  contains:
    id: {description: Group id., type: str}
    name: {description: Name., type: str}
    description: {description: Description., type: str}
    project_id: {description: Owning project., type: str}
    rules:
      description: Every rule of the group, the default egress rules included.
      type: list
      elements: dict
      contains:
        id: {description: Rule id (null in check mode for a rule not created yet)., type: str}
        direction: {description: V(ingress) or V(egress)., type: str}
        ethertype: {description: V(IPv4) or V(IPv6)., type: str}
        protocol: {description: "Protocol as Neutron stores it; null for any.", type: str}
        port_range_min: {description: First port or ICMP type., type: int}
        port_range_max: {description: Last port or ICMP code., type: int}
        remote_ip_prefix: {description: "Remote prefix; null for any.", type: str}
        remote_group_id: {description: Remote group., type: str}
  sample:
    id: 5e1b...
    name: lb-health-mgr-sec-grp
    rules:
      - {id: 77c1..., direction: ingress, ethertype: IPv4, protocol: udp, port_range_min: 5555,
         port_range_max: 5555, remote_ip_prefix: null, remote_group_id: null}
"""

import re
from types import SimpleNamespace

from ansible_collections.octavia.lbaas.plugins.module_utils.cloud import CloudModule, ModuleError
from ansible_collections.octavia.lbaas.plugins.module_utils.neutron import find_owned, find_security_group, owned_object_options, parse_prefix

RULE_SPEC = dict(
    direction=dict(type="str", default="ingress", choices=["ingress", "egress"]),
    ethertype=dict(type="str", choices=["IPv4", "IPv6"]),
    protocol=dict(type="str"),
    port_range_min=dict(type="int"),
    port_range_max=dict(type="int"),
    remote_ip_prefix=dict(type="str"),
    remote_group=dict(type="str"),
)

# The protocol names Neutron accepts, with their numbers.
PROTOCOLS = {
    "ah": 51, "dccp": 33, "egp": 8, "esp": 50, "gre": 47, "hopopt": 0, "icmp": 1,
    "igmp": 2, "ipip": 4, "ipv6-encap": 41, "ipv6-frag": 44, "ipv6-icmp": 58,
    "icmpv6": 58, "ipv6-nonxt": 59, "ipv6-opts": 60, "ipv6-route": 43, "ospf": 89,
    "pgm": 113, "rsvp": 46, "sctp": 132, "tcp": 6, "udp": 17, "udplite": 136, "vrrp": 112,
}
PORT_PROTOCOLS = {6, 17, 33, 132, 136}
ICMP = {1, 58}
SELF = object()


def protocol_number(value):
    """Number of a protocol (name or number text); None for any."""
    if value in (None, "", "any"):
        return None
    value = str(value).lower()
    if value.isdigit():
        return int(value)
    return PROTOCOLS.get(value)


def rule_key(direction, ethertype, protocol, pmin, pmax, prefix, group_id):
    """What makes two rules the same, whatever the spelling of protocol and prefix."""
    number = protocol_number(protocol)
    if ethertype == "IPv6" and number == 1 and str(protocol).lower() == "icmp":
        number = 58
    if prefix in ("0.0.0.0/0", "::/0"):
        prefix = None
    if prefix is not None:
        prefix = str(parse_prefix(prefix, "remote_ip_prefix"))
    return (direction, ethertype, number if number is not None else str(protocol or ""),
            pmin, pmax, prefix, group_id)


def current_key(rule):
    return rule_key(rule.direction, rule.ether_type, rule.protocol, rule.port_range_min,
                    rule.port_range_max, rule.remote_ip_prefix, rule.remote_group_id)


def rule_view(rule):
    return dict(id=rule.id, direction=rule.direction, ethertype=rule.ether_type,
                protocol=rule.protocol, port_range_min=rule.port_range_min,
                port_range_max=rule.port_range_max, remote_ip_prefix=rule.remote_ip_prefix,
                remote_group_id=rule.remote_group_id)


def is_default_egress(rule):
    return (rule.direction == "egress" and rule.protocol in (None, "", "any")
            and rule.port_range_min is None and rule.port_range_max is None
            and rule.remote_ip_prefix in (None, "0.0.0.0/0", "::/0")
            and rule.remote_group_id is None
            and getattr(rule, "remote_address_group_id", None) is None)


def sort_key(view):
    return tuple("" if v is None else str(v) for k, v in sorted(view.items()) if k != "id")


class SecurityGroup(CloudModule):
    argument_spec = owned_object_options(
        rules=dict(type="list", elements="dict", options=RULE_SPEC),
        purge_rules=dict(type="bool", default=True),
        purge_default_egress=dict(type="bool", default=False),
    )

    # -- input -------------------------------------------------------------------------
    def validate(self):
        p = self.params
        if p["purge_default_egress"] and not p["purge_rules"]:
            raise ModuleError("purge_default_egress needs purge_rules: true")
        self.wanted = []
        seen = {}
        for index, rule in enumerate(p["rules"] or []):
            wanted = self.check_rule("rules[%d]" % index, rule)
            key = self.partial_key(wanted)
            if key in seen:
                raise ModuleError("rules[%d] is the same rule as rules[%d]" % (index, seen[key]))
            seen[key] = index
            self.wanted.append(wanted)

    @staticmethod
    def partial_key(wanted):
        return (wanted["direction"], wanted["ethertype"], wanted["protocol"],
                wanted["port_range_min"], wanted["port_range_max"],
                wanted["remote_ip_prefix"], wanted["remote_group"])

    @staticmethod
    def check_rule(where, rule):
        out = dict(direction=rule["direction"], remote_group=rule["remote_group"],
                   remote_ip_prefix=None)
        prefix = None
        if rule["remote_ip_prefix"]:
            if rule["remote_group"]:
                raise ModuleError("%s: remote_ip_prefix and remote_group exclude each other"
                                  % where)
            prefix = parse_prefix(rule["remote_ip_prefix"], where + ".remote_ip_prefix")
        ethertype = rule["ethertype"] or ("IPv%d" % prefix.version if prefix else "IPv4")
        if prefix is not None:
            if "IPv%d" % prefix.version != ethertype:
                raise ModuleError("%s.remote_ip_prefix: %s is an IPv%d prefix but ethertype is "
                                  "%s" % (where, rule["remote_ip_prefix"], prefix.version,
                                          ethertype))
            if prefix.prefixlen:
                out["remote_ip_prefix"] = str(prefix)
        out["ethertype"] = ethertype

        protocol = rule["protocol"]
        if protocol is not None:
            protocol = protocol.strip().lower()
        if protocol in (None, "", "any"):
            protocol = None
            number = None
        elif protocol.isdigit():
            number = int(protocol)
            if not 0 <= number <= 255:
                raise ModuleError("%s.protocol: %s is not an IP protocol number (0 to 255)"
                                  % (where, protocol))
        elif protocol in PROTOCOLS:
            number = PROTOCOLS[protocol]
        else:
            raise ModuleError("%s.protocol: unknown protocol %r; use a number (0-255), any, or "
                              "one of %s" % (where, rule["protocol"], ", ".join(sorted(PROTOCOLS))))
        if number == 58 and ethertype == "IPv4":
            raise ModuleError("%s.protocol: %s is ICMP for IPv6 but ethertype is IPv4"
                              % (where, protocol))
        if ethertype == "IPv6" and protocol in ("icmp", "icmpv6"):
            protocol, number = "ipv6-icmp", 58
        out["protocol"] = protocol

        pmin, pmax = rule["port_range_min"], rule["port_range_max"]
        if number in PORT_PROTOCOLS:
            if pmin is None and pmax is not None:
                raise ModuleError("%s: port_range_max without port_range_min" % where)
            if pmin is not None:
                if pmax is None:
                    pmax = pmin
                for name, value in (("port_range_min", pmin), ("port_range_max", pmax)):
                    if not 1 <= value <= 65535:
                        raise ModuleError("%s.%s: %d is not a port (1 to 65535)"
                                          % (where, name, value))
                if pmin > pmax:
                    raise ModuleError("%s: port_range_min %d is above port_range_max %d"
                                      % (where, pmin, pmax))
        elif number in ICMP:
            if pmin is None and pmax is not None:
                raise ModuleError("%s: an ICMP code (port_range_max) needs an ICMP type "
                                  "(port_range_min)" % where)
            for name, value in (("port_range_min", pmin), ("port_range_max", pmax)):
                if value is not None and not 0 <= value <= 255:
                    raise ModuleError("%s.%s: %d is not an ICMP %s (0 to 255)"
                                      % (where, name, value,
                                         "type" if name == "port_range_min" else "code"))
        elif pmin is not None or pmax is not None:
            raise ModuleError("%s: port_range_min/port_range_max need protocol tcp, udp, sctp, "
                              "dccp, udplite or ICMP, not %s" % (where, protocol or "any"))
        out.update(port_range_min=pmin, port_range_max=pmax)
        return out

    # -- the flow ----------------------------------------------------------------------
    def run(self):
        p = self.params
        project_id, group = find_owned(self.conn, self.conn.network.security_groups, "security groups", p)
        rules = list(self.conn.network.security_group_rules(security_group_id=group.id)) \
            if group else []
        self.before = self.describe(group, rules)
        if p["state"] == "absent":
            if group is not None:
                self.write("delete security group %s" % group.id,
                           self.conn.network.delete_security_group, group, ignore_missing=True)
            self.after = {}
            self.exit(security_group=None)
            return

        # Remote groups are resolved (read only) before the first write.
        remote_ids = {}
        for index, wanted in enumerate(self.wanted):
            ref = wanted["remote_group"]
            if ref is None or ref in remote_ids:
                continue
            if ref == p["name"] or (group is not None and ref == group.id):
                remote_ids[ref] = SELF
                continue
            found = find_security_group(self.conn, ref, project_id,
                                        "rules[%d].remote_group" % index)
            if found is None:
                raise ModuleError("rules[%d].remote_group: no security group %r in project %s"
                                  % (index, ref, project_id))
            remote_ids[ref] = found.id

        if group is None:
            created = self.write("create security group %s" % p["name"],
                                 self.conn.network.create_security_group, name=p["name"],
                                 description=p["description"] or "", project_id=project_id)
            if created is not None:
                group = created
                rules = list(self.conn.network.security_group_rules(
                    security_group_id=group.id))
            else:  # check mode: the rules Neutron would give the new group
                rules = [SimpleNamespace(id=None, direction="egress", ether_type=family,
                                         protocol=None, port_range_min=None,
                                         port_range_max=None, remote_ip_prefix=None,
                                         remote_group_id=None, remote_address_group_id=None)
                         for family in ("IPv4", "IPv6")]
            view = dict(id=group.id if group else None, name=p["name"],
                        description=p["description"] or "", project_id=project_id)
        else:
            view = dict(id=group.id, name=group.name, description=group.description,
                        project_id=group.project_id)
            if p["description"] is not None and p["description"] != (group.description or ""):
                self.write("update description of security group %s" % group.id,
                           self.conn.network.update_security_group, group,
                           description=p["description"])
                view["description"] = p["description"]

        group_id = view["id"]
        final = [rule_view(r) for r in rules]
        if p["rules"] is not None:
            final = self.converge_rules(group_id, rules, remote_ids)
        view["rules"] = sorted(final, key=sort_key)
        self.after = dict(name=view["name"], description=view["description"],
                          project_id=view["project_id"],
                          rules=[{k: v for k, v in r.items() if k != "id"}
                                 for r in view["rules"]])
        self.exit(security_group=view)

    def converge_rules(self, group_id, rules, remote_ids):
        p = self.params
        existing = {}
        for rule in rules:
            existing.setdefault(current_key(rule), []).append(rule)
        keep, create = [], []
        for wanted in self.wanted:
            remote = remote_ids.get(wanted["remote_group"]) if wanted["remote_group"] else None
            remote_id = group_id if remote is SELF else remote
            key = rule_key(wanted["direction"], wanted["ethertype"], wanted["protocol"],
                           wanted["port_range_min"], wanted["port_range_max"],
                           wanted["remote_ip_prefix"], remote_id)
            if remote is SELF and group_id is None:
                key = None  # the group does not exist yet (check mode)
            if key is not None and existing.get(key):
                keep.append(existing[key].pop(0))
            else:
                create.append((wanted, remote_id, remote is SELF))
        leftovers = [r for found in existing.values() for r in found]
        delete = []
        if p["purge_rules"]:
            delete = [r for r in leftovers
                      if p["purge_default_egress"] or not is_default_egress(r)]
        untouched = [r for r in leftovers if r not in delete]

        final = [rule_view(r) for r in keep + untouched]
        for rule in delete:
            self.write("delete rule %s" % rule.id, self.conn.network.delete_security_group_rule,
                       rule, ignore_missing=True)
        for wanted, remote_id, _self_ref in create:
            kwargs = dict(security_group_id=group_id, direction=wanted["direction"],
                          ether_type=wanted["ethertype"])
            for field in ("protocol", "port_range_min", "port_range_max", "remote_ip_prefix"):
                if wanted[field] is not None:
                    kwargs[field] = wanted[field]
            if remote_id is not None:
                kwargs["remote_group_id"] = remote_id
            created = self.write("create rule %s" % describe_rule(wanted),
                                 self.conn.network.create_security_group_rule, **kwargs)
            if created is not None:
                final.append(rule_view(created))
            else:
                final.append(dict(id=None, direction=wanted["direction"],
                                  ethertype=wanted["ethertype"], protocol=wanted["protocol"],
                                  port_range_min=wanted["port_range_min"],
                                  port_range_max=wanted["port_range_max"],
                                  remote_ip_prefix=wanted["remote_ip_prefix"],
                                  remote_group_id=remote_id))
        return final

    @staticmethod
    def describe(group, rules):
        if group is None:
            return {}
        return dict(name=group.name, description=group.description,
                    project_id=group.project_id,
                    rules=sorted(({k: v for k, v in rule_view(r).items() if k != "id"}
                                  for r in rules), key=sort_key))


def describe_rule(wanted):
    text = "%s %s %s" % (wanted["direction"], wanted["ethertype"], wanted["protocol"] or "any")
    if wanted["port_range_min"] is not None:
        text += " %s-%s" % (wanted["port_range_min"], wanted["port_range_max"])
    if wanted["remote_ip_prefix"]:
        text += " from/to %s" % wanted["remote_ip_prefix"]
    if wanted["remote_group"]:
        text += " group %s" % wanted["remote_group"]
    return re.sub(r"\s+", " ", text)


def main():
    SecurityGroup()()


if __name__ == "__main__":
    main()
