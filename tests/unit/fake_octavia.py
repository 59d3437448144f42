"""An in-memory stand-in for Octavia's v2 API (and the few Neutron lookups the modules
make), behind the same `proxy.request(path, method, json=..., params=...)` call the
engine uses on openstacksdk's proxies.

It behaves like Octavia where the engine depends on it: a write puts the load balancer
in PENDING_UPDATE for a few GETs and writes meanwhile get 409 "immutable"; defaults are
filled in; members are matched on address + protocol_port by the batch PUT; a fully
populated POST creates the whole tree. It is a test double for the engine's logic, not a
proof of Octavia's behaviour (that is for the integration tests)."""

from __future__ import annotations

import copy
import json
import re
import uuid

from fake_octavia_rules import listener_errors, loadbalancer_errors, pool_errors


class FakeResponse:
    def __init__(self, status, body=None):
        self.status_code = status
        self._body = body
        self.content = b"" if body is None else json.dumps(body).encode()
        self.text = self.content.decode()

    def json(self):
        if self._body is None:
            raise ValueError("no body")
        return copy.deepcopy(self._body)


def _fault(status, text):
    return FakeResponse(status, {"faultcode": "Client" if status < 500 else "Server", "faultstring": text, "debuginfo": None})


LISTENER_DEFAULTS = dict(name="", description="", admin_state_up=True, connection_limit=-1, default_pool_id=None,
                         default_tls_container_ref=None, sni_container_refs=[], insert_headers={},
                         timeout_client_data=50000, timeout_member_connect=5000, timeout_member_data=50000,
                         timeout_tcp_inspect=0, allowed_cidrs=None, tls_ciphers=None, tls_versions=None,
                         alpn_protocols=None, client_authentication="NONE", client_ca_tls_container_ref=None,
                         client_crl_container_ref=None, hsts_max_age=None, hsts_include_subdomains=False,
                         hsts_preload=False, tags=[])
POOL_DEFAULTS = dict(name="", description="", admin_state_up=True, session_persistence=None, tls_enabled=False,
                     tls_container_ref=None, ca_tls_container_ref=None, crl_container_ref=None, tls_ciphers=None,
                     tls_versions=None, alpn_protocols=None, tags=[], healthmonitor_id=None)
MEMBER_DEFAULTS = dict(name="", weight=1, backup=False, admin_state_up=True, monitor_address=None,
                       monitor_port=None, subnet_id=None, tags=[])
HM_DEFAULTS = dict(name="", max_retries_down=3, http_method=None, url_path=None, expected_codes=None,
                   http_version=None, domain_name=None, admin_state_up=True, tags=[])
POLICY_DEFAULTS = dict(name="", description="", admin_state_up=True, redirect_pool_id=None, redirect_url=None,
                       redirect_prefix=None, redirect_http_code=None, tags=[])
RULE_DEFAULTS = dict(key=None, invert=False, admin_state_up=True, tags=[])
QUOTA_NAMES = ("loadbalancer", "listener", "pool", "member", "healthmonitor", "l7policy", "l7rule")


class FakeOctavia:
    # the project the (fake) credentials are scoped to; name lookups are limited to it
    current_project_id = "p"

    def __init__(self, pending_polls=1):
        self.pending_polls = pending_polls
        self.lbs = {}
        self.listeners = {}
        self.pools = {}
        self.members = {}      # pool id -> {member id: member}
        self.hms = {}
        self.policies = {}
        self.rules = {}        # policy id -> {rule id: rule}
        self.flavors = {}
        # the operator's catalog (flavor and availability zone profiles, availability zones
        # by name, quota records by project) and the enabled providers with their capabilities
        self.flavor_profiles = {}
        self.az_profiles = {}
        self.azs = {}
        self.quota_rows = {}   # project id -> {limit: value or None}: GET /quotas lists these
        self.quota_defaults = {name: -1 for name in QUOTA_NAMES}
        self.providers = {"amphora": "The Octavia Amphora driver.", "octavia": "Deprecated alias of the Octavia Amphora driver."}
        # the amphora provider's (Octavia 19: api/drivers/amphora_driver/*_schema.py)
        self.capabilities = {
            "flavor_capabilities": {"loadbalancer_topology": "The load balancer topology.",
                                    "compute_flavor": "The compute driver flavor ID.",
                                    "amp_image_tag": "The amphora image tag.",
                                    "sriov_vip": "SR-IOV VIP port.", "allow_member_sriov": "SR-IOV member ports."},
            "availability_zone_capabilities": {"compute_zone": "The compute availability zone.",
                                               "volume_zone": "The volume availability zone.",
                                               "management_network": "The management network ID for the amphora.",
                                               "valid_vip_networks": "Networks allowed for VIPs."},
        }
        self.projects = {"p": "own", "q": "demo"}   # keystone: id -> name
        self.neutron = {"subnets": {}, "networks": {}, "ports": {}}
        self.log = []          # (method, path, body)
        self.inject = []       # (method, status, fault): answered instead of the next such write
        self.fail_batches = 0  # the worker fails the next N member batches: their members go to ERROR
        self._pending_left = {}
        # the key manager: none in the catalog unless a test puts a FakeBarbican here
        self.barbican = None

    # -- the proxies ---------------------------------------------------------------------
    @property
    def load_balancer(self):
        return _Proxy(self, self._octavia)

    @property
    def key_manager(self):
        return self.barbican

    def has_service(self, service):
        """openstacksdk's catalog check (Connection.has_service)."""
        return service != "key-manager" or self.barbican is not None

    @property
    def network(self):
        return _Proxy(self, self._neutron)

    @property
    def identity(self):
        return _Identity(self)

    def calls(self, method=None):
        return [c for c in self.log if method is None or c[0] == method]

    def writes(self):
        return [c for c in self.log if c[0] != "GET"]

    # -- helpers -------------------------------------------------------------------------
    @staticmethod
    def _id():
        return str(uuid.uuid4())

    def _lb_of(self, kind, obj):
        if kind == "listener":
            return obj["loadbalancers"][0]["id"]
        if kind == "pool":
            return obj["loadbalancers"][0]["id"]
        if kind == "hm":
            return self._lb_of("pool", self.pools[obj["pools"][0]["id"]])
        if kind == "policy":
            return self._lb_of("listener", self.listeners[obj["listener_id"]])
        raise KeyError(kind)

    def _touch(self, lb_id, status="PENDING_UPDATE"):
        lb = self.lbs[lb_id]
        lb["provisioning_status"] = status
        self._pending_left[lb_id] = self.pending_polls

    def _check_writable(self, lb_id):
        lb = self.lbs.get(lb_id)
        if lb is None:
            return _fault(404, "Load Balancer %s not found." % lb_id)
        if lb["provisioning_status"].startswith("PENDING_"):
            return _fault(409, "Load Balancer %s is immutable and cannot be updated." % lb_id)
        return None

    # -- Octavia -------------------------------------------------------------------------
    def _octavia(self, method, path, body, params):
        path = re.sub(r"^https?://[^/]+(/v2(\.0)?)?", "", path)
        self.log.append((method, path, copy.deepcopy(body)))
        params = params or {}
        if method != "GET":
            for i, entry in enumerate(self.inject):
                m, status, text = entry[:3]
                # optional: what another client does meanwhile, and whether Octavia did
                # the write before the fault reached us (an ambiguous answer)
                meanwhile, performed = (entry[3:] + (None, False))[:2] if len(entry) > 3 else (None, False)
                if m == method:
                    del self.inject[i]
                    if meanwhile is not None:
                        meanwhile(self)
                    if performed:
                        self._route(method, path, body, params)
                        for lb in self.lbs.values():
                            lb["provisioning_status"] = "ACTIVE"   # settled by the time we look
                    return _fault(status, text)
        return self._route(method, path, body, params)

    def _route(self, method, path, body, params):
        routes = [
            (r"/lbaas/loadbalancers", self._lbs),
            (r"/lbaas/loadbalancers/(?P<id>[^/]+)", self._lb),
            (r"/lbaas/loadbalancers/(?P<id>[^/]+)/status", self._status),
            (r"/lbaas/loadbalancers/(?P<id>[^/]+)/stats", self._stats),
            (r"/lbaas/loadbalancers/(?P<id>[^/]+)/failover", self._failover),
            (r"/lbaas/listeners", self._listeners),
            (r"/lbaas/listeners/(?P<id>[^/]+)", self._listener),
            (r"/lbaas/listeners/(?P<id>[^/]+)/stats", self._stats),
            (r"/lbaas/pools", self._pools),
            (r"/lbaas/pools/(?P<id>[^/]+)", self._pool),
            (r"/lbaas/pools/(?P<pool>[^/]+)/members", self._members),
            (r"/lbaas/pools/(?P<pool>[^/]+)/members/(?P<id>[^/]+)", self._member),
            (r"/lbaas/healthmonitors", self._hms),
            (r"/lbaas/healthmonitors/(?P<id>[^/]+)", self._hm),
            (r"/lbaas/l7policies", self._policies),
            (r"/lbaas/l7policies/(?P<id>[^/]+)", self._policy),
            (r"/lbaas/l7policies/(?P<policy>[^/]+)/rules", self._rules),
            (r"/lbaas/l7policies/(?P<policy>[^/]+)/rules/(?P<id>[^/]+)", self._rule),
            (r"/lbaas/flavors", self._flavors),
            (r"/lbaas/flavors/(?P<id>[^/]+)", self._flavor),
            (r"/lbaas/flavorprofiles", self._flavor_profiles),
            (r"/lbaas/flavorprofiles/(?P<id>[^/]+)", self._flavor_profile),
            (r"/lbaas/availabilityzoneprofiles", self._az_profiles),
            (r"/lbaas/availabilityzoneprofiles/(?P<id>[^/]+)", self._az_profile),
            (r"/lbaas/availabilityzones", self._azs),
            (r"/lbaas/availabilityzones/(?P<name>[^/]+)", self._az),
            (r"/lbaas/quotas", self._quotas),
            (r"/lbaas/quotas/(?P<project>[^/]+)", self._quota),
            (r"/lbaas/quotas/(?P<project>[^/]+)/default", self._quota_default),
            (r"/lbaas/providers", self._providers),
            (r"/lbaas/providers/(?P<provider>[^/]+)/(?P<which>flavor_capabilities|availability_zone_capabilities)",
             self._capabilities),
        ]
        for pattern, handler in routes:
            match = re.fullmatch(pattern, path)
            if match:
                return handler(method, body, params, **match.groupdict())
        return _fault(404, "no route %s" % path)

    def _neutron(self, method, path, body, params):
        self.log.append((method, "neutron:" + path, body))
        match = re.fullmatch(r"/(subnets|networks|ports)", path)
        if not match or method != "GET":
            return _fault(404, "no route")
        items = [i for i in self.neutron[match.group(1)].values() if params.get("name") in (None, i["name"])]
        return FakeResponse(200, {match.group(1): items})

    @staticmethod
    def _filtered(items, params, mapping=None):
        out = []
        for item in items:
            ok = True
            for key, value in params.items():
                field = (mapping or {}).get(key, key)
                have = field(item) if callable(field) else item.get(field)
                if str(have) != str(value):
                    ok = False
            if ok:
                out.append(copy.deepcopy(item))
        return out

    # load balancers
    def _lbs(self, method, body, params):
        if method == "GET":
            return FakeResponse(200, {"loadbalancers": self._filtered(self.lbs.values(), params), "loadbalancers_links": []})
        spec = dict(body["loadbalancer"])
        if not (spec.get("vip_subnet_id") or spec.get("vip_network_id") or spec.get("vip_port_id")):
            return _fault(400, "Validation failure: VIP must contain one of: vip_port_id, vip_network_id, vip_subnet_id.")
        error = loadbalancer_errors(spec, creating=True)
        if error:
            return _fault(400, error)
        lb_id = self._id()
        lb = dict(id=lb_id, name=spec.get("name", ""), description=spec.get("description", ""),
                  admin_state_up=spec.get("admin_state_up", True), provisioning_status="PENDING_CREATE",
                  operating_status="OFFLINE", vip_subnet_id=spec.get("vip_subnet_id"),
                  vip_network_id=spec.get("vip_network_id") or "net-of-" + str(spec.get("vip_subnet_id")),
                  vip_port_id=spec.get("vip_port_id") or self._id(), vip_address=spec.get("vip_address") or "203.0.113.10",
                  flavor_id=spec.get("flavor_id"), availability_zone=spec.get("availability_zone"),
                  provider=spec.get("provider") or "amphora", tags=spec.get("tags") or [], listeners=[], pools=[],
                  project_id="p", vip_sg_ids=spec.get("vip_sg_ids") or [],
                  vip_qos_policy_id=spec.get("vip_qos_policy_id"),
                  additional_vips=[{"subnet_id": v["subnet_id"], "ip_address": v.get("ip_address") or "198.51.100.%d" % (i + 10),
                                    "port_id": None} for i, v in enumerate(spec.get("additional_vips") or [])])
        self.lbs[lb_id] = lb
        names = {}
        for pspec in spec.get("pools") or []:
            resp = self._make_pool(lb_id, pspec)
            if resp.status_code >= 300:
                del self.lbs[lb_id]
                return resp
            names[pspec["name"]] = resp.json()["pool"]["id"]
        for lspec in spec.get("listeners") or []:
            lspec = dict(lspec)
            ref = lspec.pop("default_pool", None)
            if ref:
                lspec["default_pool_id"] = names[ref["name"]]
            policies = lspec.pop("l7policies", [])
            resp = self._make_listener(lb_id, lspec)
            if resp.status_code >= 300:
                del self.lbs[lb_id]
                return resp
            listener_id = resp.json()["listener"]["id"]
            for pol in policies:
                pol = dict(pol)
                target = pol.pop("redirect_pool", None)
                if target:
                    pol["redirect_pool_id"] = names[target["name"]]
                self._make_policy(listener_id, pol)
        self._touch(lb_id, "PENDING_CREATE")
        return FakeResponse(201, {"loadbalancer": self._full_tree(lb)})

    def _full_tree(self, lb):
        """Octavia answers a fully populated create with the whole tree: listeners with
        their L7 policies and rules, pools with members and health monitor (no
        healthmonitor_id there), every object PENDING_CREATE."""
        def pending(obj):
            return dict(copy.deepcopy(obj), provisioning_status="PENDING_CREATE")
        out = pending(lb)
        out["listeners"] = []
        for ref in lb["listeners"]:
            listener = pending(self.listeners[ref["id"]])
            listener["l7policies"] = [dict(pending(self.policies[x["id"]]),
                                           rules=[pending(r) for r in self.rules[x["id"]].values()])
                                      for x in self.listeners[ref["id"]]["l7policies"]]
            out["listeners"].append(listener)
        out["pools"] = []
        for ref in lb["pools"]:
            pool = pending(self.pools[ref["id"]])
            hm_id = pool.pop("healthmonitor_id", None)
            pool["healthmonitor"] = pending(self.hms[hm_id]) if hm_id else None
            pool["members"] = [pending(m) for m in self.members[ref["id"]].values()]
            out["pools"].append(pool)
        return out

    def _lb(self, method, body, params, id):
        lb = self.lbs.get(id)
        if lb is None:
            return _fault(404, "Load Balancer %s not found." % id)
        if method == "GET":
            if lb["provisioning_status"].startswith("PENDING_"):
                if self._pending_left.get(id, 0) > 0:
                    self._pending_left[id] -= 1
                else:
                    if lb["provisioning_status"] == "PENDING_DELETE":
                        self._delete_lb(id)
                        return _fault(404, "Load Balancer %s not found." % id)
                    lb["provisioning_status"] = "ACTIVE"
                    lb["operating_status"] = "ONLINE"
            return FakeResponse(200, {"loadbalancer": copy.deepcopy(lb)})
        bad = self._check_writable(id)
        if bad:
            return bad
        if method == "PUT":
            updatable = ("name", "description", "admin_state_up", "tags", "vip_qos_policy_id", "vip_sg_ids")
            error = loadbalancer_errors(body["loadbalancer"], creating=False)
            unknown = set(body["loadbalancer"]) - set(updatable)
            if error or unknown:
                return _fault(400, error or "Invalid input for field/attribute loadbalancer: unknown %s" % sorted(unknown))
            for key in updatable:
                if key in body["loadbalancer"]:
                    lb[key] = body["loadbalancer"][key]
            if "vip_sg_ids" in body["loadbalancer"] and lb["vip_sg_ids"] is None:
                lb["vip_sg_ids"] = []
            self._touch(id)
            return FakeResponse(200, {"loadbalancer": copy.deepcopy(lb)})
        if method == "DELETE":
            if not params.get("cascade") and (lb["listeners"] or lb["pools"]):
                return _fault(400, "Cannot delete Load Balancer %s - it has children" % id)
            self._touch(id, "PENDING_DELETE")
            return FakeResponse(204)
        return _fault(405, "method")

    def _delete_lb(self, lb_id):
        lb = self.lbs.pop(lb_id)
        for pool in [p for p in self.pools.values() if p["loadbalancers"][0]["id"] == lb_id]:
            self._drop_pool(pool["id"])
        for listener in [li for li in self.listeners.values() if li["loadbalancers"][0]["id"] == lb_id]:
            self._drop_listener(listener["id"])
        return lb

    def _status(self, method, body, params, id):
        lb = self.lbs.get(id)
        if lb is None:
            return _fault(404, "not found")
        tree = {"id": id, "name": lb["name"], "provisioning_status": lb["provisioning_status"],
                "operating_status": lb["operating_status"],
                "listeners": [{"id": li["id"], "name": self.listeners[li["id"]]["name"],
                               "provisioning_status": self.listeners[li["id"]]["provisioning_status"],
                               "operating_status": "ONLINE", "pools": []} for li in lb["listeners"]]}
        return FakeResponse(200, {"statuses": {"loadbalancer": tree}})

    def _stats(self, method, body, params, id):
        return FakeResponse(200, {"stats": {"active_connections": 0, "bytes_in": 0, "bytes_out": 0,
                                            "request_errors": 0, "total_connections": 0}})

    def _failover(self, method, body, params, id):
        bad = self._check_writable(id)
        if bad:
            return bad
        self._touch(id)
        return FakeResponse(202)

    # listeners
    def _make_listener(self, lb_id, spec):
        for other in self.listeners.values():
            if other["loadbalancers"][0]["id"] == lb_id and other["protocol_port"] == spec["protocol_port"] and \
                    _l4(other["protocol"]) == _l4(spec["protocol"]):
                return _fault(409, "Another Listener on this Load Balancer is already using protocol %s and "
                                   "protocol_port %s" % (other["protocol"], spec["protocol_port"]))
        unknown = set(spec) - set(LISTENER_DEFAULTS) - {"protocol", "protocol_port", "loadbalancer_id"}
        if unknown:
            return _fault(400, "Invalid input for field/attribute listener. Unknown %s" % sorted(unknown))
        listener = dict(copy.deepcopy(LISTENER_DEFAULTS), id=self._id(), provisioning_status="ACTIVE",
                        operating_status="ONLINE", loadbalancers=[{"id": lb_id}], l7policies=[], project_id="p")
        listener.update({k: v for k, v in spec.items() if k != "loadbalancer_id"})
        error = listener_errors(listener, self.lbs[lb_id])
        if error:
            return _fault(400, error)
        self.listeners[listener["id"]] = listener
        self.lbs[lb_id]["listeners"].append({"id": listener["id"]})
        return FakeResponse(201, {"listener": copy.deepcopy(listener)})

    def _listeners(self, method, body, params):
        if method == "GET":
            items = self._filtered(self.listeners.values(), params,
                                   {"loadbalancer_id": lambda li: li["loadbalancers"][0]["id"]})
            return FakeResponse(200, {"listeners": items, "listeners_links": []})
        spec = dict(body["listener"])
        bad = self._check_writable(spec["loadbalancer_id"])
        if bad:
            return bad
        resp = self._make_listener(spec["loadbalancer_id"], spec)
        if resp.status_code < 300:
            self._touch(spec["loadbalancer_id"])
        return resp

    def _drop_listener(self, listener_id):
        listener = self.listeners.pop(listener_id)
        for pol in listener["l7policies"]:
            self._drop_policy(pol["id"])
        lb = self.lbs.get(listener["loadbalancers"][0]["id"])
        if lb:
            lb["listeners"] = [li for li in lb["listeners"] if li["id"] != listener_id]

    def _listener(self, method, body, params, id):
        listener = self.listeners.get(id)
        if listener is None:
            return _fault(404, "Listener %s not found." % id)
        if method == "GET":
            return FakeResponse(200, {"listener": copy.deepcopy(listener)})
        lb_id = self._lb_of("listener", listener)
        bad = self._check_writable(lb_id)
        if bad:
            return bad
        if method == "PUT":
            for key in ("protocol", "protocol_port", "loadbalancer_id"):
                if key in body["listener"]:
                    return _fault(400, "Invalid input for field/attribute %s: not updatable" % key)
            error = listener_errors(dict(listener, **body["listener"]), self.lbs[lb_id], put=body["listener"])
            if error:
                return _fault(400, error)
            listener.update(body["listener"])
            self._touch(lb_id)
            return FakeResponse(200, {"listener": copy.deepcopy(listener)})
        if method == "DELETE":
            self._drop_listener(id)
            self._touch(lb_id)
            return FakeResponse(204)
        return _fault(405, "method")

    # pools
    def _make_pool(self, lb_id, spec):
        spec = dict(spec)
        members = spec.pop("members", None) or []
        hm = spec.pop("healthmonitor", None)
        listener_id = spec.pop("listener_id", None)
        spec.pop("loadbalancer_id", None)
        unknown = set(spec) - set(POOL_DEFAULTS) - {"protocol", "lb_algorithm"}
        if unknown:
            return _fault(400, "Invalid input for field/attribute pool. Unknown %s" % sorted(unknown))
        pool = dict(copy.deepcopy(POOL_DEFAULTS), id=self._id(), provisioning_status="ACTIVE", operating_status="ONLINE",
                    loadbalancers=[{"id": lb_id}], listeners=[], members=[], project_id="p")
        pool.update(spec)
        error = pool_errors(pool)
        if error:
            return _fault(400, error)
        self.pools[pool["id"]] = pool
        self.members[pool["id"]] = {}
        self.lbs[lb_id]["pools"].append({"id": pool["id"]})
        if listener_id:
            if self.listeners[listener_id]["default_pool_id"]:
                return _fault(409, "This listener already has a default pool")
            self.listeners[listener_id]["default_pool_id"] = pool["id"]
        for m in members:
            self._make_member(pool["id"], m)
        if hm:
            self._make_hm(dict(hm, pool_id=pool["id"]))
        return FakeResponse(201, {"pool": copy.deepcopy(pool)})

    def _pools(self, method, body, params):
        if method == "GET":
            items = self._filtered(self.pools.values(), params, {"loadbalancer_id": lambda p: p["loadbalancers"][0]["id"]})
            return FakeResponse(200, {"pools": items, "pools_links": []})
        spec = dict(body["pool"])
        lb_id = spec.get("loadbalancer_id") or self._lb_of("listener", self.listeners[spec["listener_id"]])
        bad = self._check_writable(lb_id)
        if bad:
            return bad
        if spec.get("members") or spec.get("healthmonitor"):
            return _fault(400, "fake: nested members/healthmonitor on POST /pools are not modelled")
        resp = self._make_pool(lb_id, spec)
        if resp.status_code < 300:
            self._touch(lb_id)
        return resp

    def _drop_pool(self, pool_id):
        pool = self.pools.pop(pool_id)
        self.members.pop(pool_id, None)
        if pool.get("healthmonitor_id"):
            self.hms.pop(pool["healthmonitor_id"], None)
        for listener in self.listeners.values():
            if listener["default_pool_id"] == pool_id:
                listener["default_pool_id"] = None
        lb = self.lbs.get(pool["loadbalancers"][0]["id"])
        if lb:
            lb["pools"] = [p for p in lb["pools"] if p["id"] != pool_id]

    def _pool(self, method, body, params, id):
        pool = self.pools.get(id)
        if pool is None:
            return _fault(404, "Pool %s not found." % id)
        if method == "GET":
            return FakeResponse(200, {"pool": copy.deepcopy(pool)})
        lb_id = self._lb_of("pool", pool)
        bad = self._check_writable(lb_id)
        if bad:
            return bad
        if method == "PUT":
            if "protocol" in body["pool"]:
                return _fault(400, "protocol is not updatable")
            error = pool_errors(dict(pool, **body["pool"]), put=body["pool"])
            if error:
                return _fault(400, error)
            pool.update(body["pool"])
            self._touch(lb_id)
            return FakeResponse(200, {"pool": copy.deepcopy(pool)})
        if method == "DELETE":
            for pol in self.policies.values():
                if pol["redirect_pool_id"] == id:
                    return _fault(409, "Pool %s is in use by L7 policy %s" % (id, pol["id"]))
            self._drop_pool(id)
            self._touch(lb_id)
            return FakeResponse(204)
        return _fault(405, "method")

    # members
    def _make_member(self, pool_id, spec):
        member = dict(copy.deepcopy(MEMBER_DEFAULTS), id=self._id(), provisioning_status="ACTIVE",
                      operating_status="NO_MONITOR", project_id="p")
        member.update(spec)
        self.members[pool_id][member["id"]] = member
        self.pools[pool_id]["members"].append({"id": member["id"]})
        return member

    def _members(self, method, body, params, pool):
        if pool not in self.pools:
            return _fault(404, "Pool %s not found." % pool)
        if method == "GET":
            return FakeResponse(200, {"members": self._filtered(self.members[pool].values(), params), "members_links": []})
        lb_id = self._lb_of("pool", self.pools[pool])
        bad = self._check_writable(lb_id)
        if bad:
            return bad
        if method == "POST":
            spec = body["member"]
            for m in self.members[pool].values():
                if (m["address"], m["protocol_port"]) == (spec["address"], spec["protocol_port"]):
                    return _fault(409, "Another member on this pool is already using ip %s on protocol_port %s"
                                  % (spec["address"], spec["protocol_port"]))
            member = self._make_member(pool, spec)
            self._touch(lb_id)
            return FakeResponse(201, {"member": copy.deepcopy(member)})
        if method == "PUT":
            additive = str(params.get("additive_only", "false")).lower() == "true"
            wanted = body["members"]
            keys = [(m["address"], m["protocol_port"]) for m in wanted]
            if len(set(keys)) != len(keys):
                return _fault(400, "Member must be updated only once in the same request.")
            existing = {(m["address"], m["protocol_port"]): m for m in self.members[pool].values()}
            changed = False
            # Octavia's worker runs one flow for the batch; if it fails, the listed members
            # end in ERROR while the load balancer goes back to ACTIVE
            status = "ERROR" if self.fail_batches else "ACTIVE"
            self.fail_batches = max(0, self.fail_batches - 1)
            for spec in wanted:
                full = dict(copy.deepcopy(MEMBER_DEFAULTS), **spec)   # the PUT resets what it does not give
                have = existing.get((spec["address"], spec["protocol_port"]))
                if have is None:
                    self._make_member(pool, full)["provisioning_status"] = status
                    changed = True
                else:
                    have["provisioning_status"] = status
                    for k, v in full.items():
                        if have.get(k) != v:
                            have[k] = v
                            changed = True
            if not additive:
                for key, m in existing.items():
                    if key not in keys:
                        del self.members[pool][m["id"]]
                        self.pools[pool]["members"] = [x for x in self.pools[pool]["members"] if x["id"] != m["id"]]
                        changed = True
            if changed:
                self._touch(lb_id)
            return FakeResponse(202)
        return _fault(405, "method")

    def _member(self, method, body, params, pool, id):
        member = self.members.get(pool, {}).get(id)
        if member is None:
            return _fault(404, "Member %s not found." % id)
        if method == "GET":
            return FakeResponse(200, {"member": copy.deepcopy(member)})
        lb_id = self._lb_of("pool", self.pools[pool])
        bad = self._check_writable(lb_id)
        if bad:
            return bad
        if method == "PUT":
            member.update(body["member"])
            self._touch(lb_id)
            return FakeResponse(200, {"member": copy.deepcopy(member)})
        if method == "DELETE":
            del self.members[pool][id]
            self.pools[pool]["members"] = [x for x in self.pools[pool]["members"] if x["id"] != id]
            self._touch(lb_id)
            return FakeResponse(204)
        return _fault(405, "method")

    # health monitors
    def _make_hm(self, spec):
        pool = self.pools[spec["pool_id"]]
        if pool.get("healthmonitor_id"):
            return _fault(409, "This pool already has a health monitor")
        hm = dict(copy.deepcopy(HM_DEFAULTS), id=self._id(), provisioning_status="ACTIVE", operating_status="ONLINE",
                  pools=[{"id": spec["pool_id"]}], project_id="p")
        hm.update({k: v for k, v in spec.items() if k != "pool_id"})
        if hm["type"] in ("HTTP", "HTTPS"):
            hm["http_method"] = hm["http_method"] or "GET"
            hm["url_path"] = hm["url_path"] or "/"
            hm["expected_codes"] = hm["expected_codes"] or "200"
        self.hms[hm["id"]] = hm
        pool["healthmonitor_id"] = hm["id"]
        return FakeResponse(201, {"healthmonitor": copy.deepcopy(hm)})

    def _hms(self, method, body, params):
        if method == "GET":
            return FakeResponse(200, {"healthmonitors": self._filtered(self.hms.values(), params), "healthmonitors_links": []})
        spec = body["healthmonitor"]
        lb_id = self._lb_of("pool", self.pools[spec["pool_id"]])
        bad = self._check_writable(lb_id)
        if bad:
            return bad
        resp = self._make_hm(spec)
        if resp.status_code < 300:
            self._touch(lb_id)
        return resp

    def _hm(self, method, body, params, id):
        hm = self.hms.get(id)
        if hm is None:
            return _fault(404, "Health Monitor %s not found." % id)
        if method == "GET":
            return FakeResponse(200, {"healthmonitor": copy.deepcopy(hm)})
        lb_id = self._lb_of("hm", hm)
        bad = self._check_writable(lb_id)
        if bad:
            return bad
        if method == "PUT":
            if "type" in body["healthmonitor"]:
                return _fault(400, "type is not updatable")
            hm.update(body["healthmonitor"])
            self._touch(lb_id)
            return FakeResponse(200, {"healthmonitor": copy.deepcopy(hm)})
        if method == "DELETE":
            del self.hms[id]
            self.pools[hm["pools"][0]["id"]]["healthmonitor_id"] = None
            self._touch(lb_id)
            return FakeResponse(204)
        return _fault(405, "method")

    # L7 policies and rules
    def _make_policy(self, listener_id, spec):
        spec = dict(spec)
        rules = spec.pop("rules", None) or []
        spec.pop("listener_id", None)
        policy = dict(copy.deepcopy(POLICY_DEFAULTS), id=self._id(), provisioning_status="ACTIVE",
                      operating_status="ONLINE", listener_id=listener_id, rules=[], project_id="p")
        policy.update(spec)
        if policy["action"] in ("REDIRECT_TO_URL", "REDIRECT_PREFIX") and not policy["redirect_http_code"]:
            policy["redirect_http_code"] = 302
        self.policies[policy["id"]] = policy
        self.rules[policy["id"]] = {}
        listener = self.listeners[listener_id]
        ordered = [self.policies[p["id"]] for p in listener["l7policies"]]
        position = spec.get("position") or len(ordered) + 1
        ordered.insert(min(position, len(ordered) + 1) - 1, policy)
        for i, pol in enumerate(ordered):
            pol["position"] = i + 1
        listener["l7policies"] = [{"id": p["id"]} for p in ordered]
        for rule in rules:
            self._make_rule(policy["id"], rule)
        return FakeResponse(201, {"l7policy": copy.deepcopy(policy)})

    def _policies(self, method, body, params):
        if method == "GET":
            return FakeResponse(200, {"l7policies": self._filtered(self.policies.values(), params), "l7policies_links": []})
        spec = body["l7policy"]
        lb_id = self._lb_of("listener", self.listeners[spec["listener_id"]])
        bad = self._check_writable(lb_id)
        if bad:
            return bad
        if spec.get("rules"):
            return _fault(400, "fake: nested rules on POST /l7policies are not modelled")
        resp = self._make_policy(spec["listener_id"], spec)
        self._touch(lb_id)
        return resp

    def _drop_policy(self, policy_id):
        policy = self.policies.pop(policy_id)
        self.rules.pop(policy_id, None)
        listener = self.listeners.get(policy["listener_id"])
        if listener:
            listener["l7policies"] = [p for p in listener["l7policies"] if p["id"] != policy_id]
            for i, p in enumerate(listener["l7policies"]):
                self.policies[p["id"]]["position"] = i + 1

    def _policy(self, method, body, params, id):
        policy = self.policies.get(id)
        if policy is None:
            return _fault(404, "L7 Policy %s not found." % id)
        if method == "GET":
            return FakeResponse(200, {"l7policy": copy.deepcopy(policy)})
        lb_id = self._lb_of("policy", policy)
        bad = self._check_writable(lb_id)
        if bad:
            return bad
        if method == "PUT":
            changes = dict(body["l7policy"])
            position = changes.pop("position", None)
            policy.update(changes)
            if position is not None:
                listener = self.listeners[policy["listener_id"]]
                ordered = [self.policies[p["id"]] for p in listener["l7policies"] if p["id"] != id]
                ordered.insert(min(position, len(ordered) + 1) - 1, policy)
                for i, pol in enumerate(ordered):
                    pol["position"] = i + 1
                listener["l7policies"] = [{"id": p["id"]} for p in ordered]
            self._touch(lb_id)
            return FakeResponse(200, {"l7policy": copy.deepcopy(policy)})
        if method == "DELETE":
            self._drop_policy(id)
            self._touch(lb_id)
            return FakeResponse(204)
        return _fault(405, "method")

    def _make_rule(self, policy_id, spec):
        rule = dict(copy.deepcopy(RULE_DEFAULTS), id=self._id(), provisioning_status="ACTIVE", operating_status="ONLINE",
                    project_id="p")
        rule.update(spec)
        self.rules[policy_id][rule["id"]] = rule
        self.policies[policy_id]["rules"].append({"id": rule["id"]})
        return rule

    def _rules(self, method, body, params, policy):
        if policy not in self.policies:
            return _fault(404, "L7 Policy %s not found." % policy)
        if method == "GET":
            return FakeResponse(200, {"rules": self._filtered(self.rules[policy].values(), params), "rules_links": []})
        lb_id = self._lb_of("policy", self.policies[policy])
        bad = self._check_writable(lb_id)
        if bad:
            return bad
        rule = self._make_rule(policy, body["rule"])
        self._touch(lb_id)
        return FakeResponse(201, {"rule": copy.deepcopy(rule)})

    def _rule(self, method, body, params, policy, id):
        rule = self.rules.get(policy, {}).get(id)
        if rule is None:
            return _fault(404, "L7 Rule %s not found." % id)
        if method == "GET":
            return FakeResponse(200, {"rule": copy.deepcopy(rule)})
        lb_id = self._lb_of("policy", self.policies[policy])
        bad = self._check_writable(lb_id)
        if bad:
            return bad
        if method == "PUT":
            rule.update(body["rule"])
            self._touch(lb_id)
            return FakeResponse(200, {"rule": copy.deepcopy(rule)})
        if method == "DELETE":
            del self.rules[policy][id]
            self.policies[policy]["rules"] = [r for r in self.policies[policy]["rules"] if r["id"] != id]
            self._touch(lb_id)
            return FakeResponse(204)
        return _fault(405, "method")

    # -- the operator's catalog (Octavia 19's controllers: flavors.py, flavor_profiles.py,
    # availability_zones.py, availability_zone_profiles.py, quotas.py, provider.py) --------------
    def _flavors(self, method, body, params):
        if method == "GET":
            return FakeResponse(200, {"flavors": self._filtered(self.flavors.values(), params), "flavors_links": []})
        spec = body["flavor"]
        unknown = set(spec) - {"name", "description", "enabled", "flavor_profile_id"}
        if unknown or not spec.get("name") or not spec.get("flavor_profile_id"):
            return _fault(400, "Invalid input for field/attribute flavor: %s" % sorted(unknown or ["name/flavor_profile_id"]))
        if any(f["name"] == spec["name"] for f in self.flavors.values()):
            return _fault(409, "A flavor of %s already exists." % spec["name"])
        if spec["flavor_profile_id"] not in self.flavor_profiles:
            return _fault(500, "foreign key: flavor profile %s" % spec["flavor_profile_id"])
        flavor = dict(id=self._id(), name=spec["name"], description=spec.get("description", ""),
                      enabled=spec.get("enabled", True), flavor_profile_id=spec["flavor_profile_id"])
        self.flavors[flavor["id"]] = flavor
        return FakeResponse(201, {"flavor": copy.deepcopy(flavor)})

    def _flavor(self, method, body, params, id):
        flavor = self.flavors.get(id)
        if flavor is None:
            return _fault(404, "Flavor %s not found." % id)
        if method == "GET":
            return FakeResponse(200, {"flavor": copy.deepcopy(flavor)})
        if method == "PUT":
            unknown = set(body["flavor"]) - {"name", "description", "enabled"}
            if unknown:   # WSME: the PUT type has no flavor_profile_id
                return _fault(400, "Unknown attribute for argument flavor_: %s" % ", ".join(sorted(unknown)))
            flavor.update(body["flavor"])
            return FakeResponse(200, {"flavor": copy.deepcopy(flavor)})
        if method == "DELETE":
            if any(lb.get("flavor_id") == id for lb in self.lbs.values()):
                return _fault(409, "Flavor %s is in use and cannot be modified." % id)
            del self.flavors[id]
            return FakeResponse(204)
        return _fault(405, "method")

    def _profile_create(self, store, resource, data_key, body):
        spec = body[resource]
        if set(spec) != {"name", "provider_name", data_key}:
            return _fault(400, "Invalid input for field/attribute %s" % resource)
        bad = self._profile_data(spec.get("provider_name"), data_key, spec[data_key])
        if bad:
            return bad
        profile = dict(id=self._id(), **spec)
        store[profile["id"]] = profile
        return FakeResponse(201, {resource: copy.deepcopy(profile)})

    def _profile_data(self, provider, data_key, text):
        if provider is not None and provider not in self.providers:
            return _fault(400, "Provider '%s' is not enabled." % provider)
        try:
            data = json.loads(text)
        except (TypeError, ValueError):
            return _fault(400, "Invalid input for field/attribute %s. Value: '%s'." % (data_key, text))
        which = "flavor_capabilities" if data_key == "flavor_data" else "availability_zone_capabilities"
        unknown = set(data) - set(self.capabilities[which])
        if unknown:
            return _fault(400, "Provider 'amphora' does not support a requested option: %s" % sorted(unknown))
        return None

    def _profile_one(self, store, resource, data_key, users, method, body, id):
        profile = store.get(id)
        if profile is None:
            return _fault(404, "%s %s not found." % (resource, id))
        if method == "GET":
            return FakeResponse(200, {resource: copy.deepcopy(profile)})
        in_use = any(u[resource.replace("flavorprofile", "flavor_profile") + "_id"] == id for u in users.values())
        if method == "PUT":
            changes = body[resource]
            if any(v is None for v in changes.values()):
                return _fault(400, "Invalid input: None")
            if ("provider_name" in changes or data_key in changes) and in_use:
                return _fault(409, "%s %s is in use and cannot be modified." % (resource, id))
            if data_key in changes:
                bad = self._profile_data(changes.get("provider_name", profile["provider_name"]), data_key, changes[data_key])
                if bad:
                    return bad
            profile.update(changes)
            return FakeResponse(200, {resource: copy.deepcopy(profile)})
        if method == "DELETE":
            if in_use:
                return _fault(409, "%s %s is in use and cannot be modified." % (resource, id))
            del store[id]
            return FakeResponse(204)
        return _fault(405, "method")

    def _flavor_profiles(self, method, body, params):
        if method == "GET":
            return FakeResponse(200, {"flavorprofiles": self._filtered(self.flavor_profiles.values(), params),
                                      "flavorprofile_links": []})
        return self._profile_create(self.flavor_profiles, "flavorprofile", "flavor_data", body)

    def _flavor_profile(self, method, body, params, id):
        return self._profile_one(self.flavor_profiles, "flavorprofile", "flavor_data", self.flavors, method, body, id)

    def _az_profiles(self, method, body, params):
        if method == "GET":
            return FakeResponse(200, {"availability_zone_profiles": self._filtered(self.az_profiles.values(), params),
                                      "availability_zone_profile_links": []})
        return self._profile_create(self.az_profiles, "availability_zone_profile", "availability_zone_data", body)

    def _az_profile(self, method, body, params, id):
        return self._profile_one(self.az_profiles, "availability_zone_profile", "availability_zone_data", self.azs,
                                 method, body, id)

    def _azs(self, method, body, params):
        if method == "GET":
            return FakeResponse(200, {"availability_zones": self._filtered(self.azs.values(), params),
                                      "availability_zones_links": []})
        spec = body["availability_zone"]
        if spec.get("name") in self.azs:
            return _fault(409, "A availability zone of %s already exists." % spec["name"])
        if spec.get("availability_zone_profile_id") not in self.az_profiles:
            return _fault(500, "foreign key")
        az = dict(name=spec["name"], description=spec.get("description", ""), enabled=spec.get("enabled", True),
                  availability_zone_profile_id=spec["availability_zone_profile_id"])
        self.azs[az["name"]] = az
        return FakeResponse(201, {"availability_zone": copy.deepcopy(az)})

    def _az(self, method, body, params, name):
        az = self.azs.get(name)
        if az is None:
            return _fault(404, "Availability Zone %s not found." % name)
        if method == "GET":
            return FakeResponse(200, {"availability_zone": copy.deepcopy(az)})
        if method == "PUT":
            unknown = set(body["availability_zone"]) - {"description", "enabled"}
            if unknown:
                return _fault(400, "Unknown attribute for argument availability_zone_: %s" % ", ".join(sorted(unknown)))
            az.update(body["availability_zone"])
            return FakeResponse(200, {"availability_zone": copy.deepcopy(az)})
        if method == "DELETE":
            if any(lb.get("availability_zone") == name for lb in self.lbs.values()):
                return _fault(409, "Availability Zone %s is in use and cannot be modified." % name)
            del self.azs[name]
            return FakeResponse(204)
        return _fault(405, "method")

    def _effective_quota(self, project):
        row = self.quota_rows.get(project) or {}
        out = {name: self.quota_defaults[name] if row.get(name) is None else row[name] for name in QUOTA_NAMES}
        out.update(project_id=project, load_balancer=out["loadbalancer"], health_monitor=out["healthmonitor"])
        return out

    def _quotas(self, method, body, params):
        # like Octavia: every project with a record (a reset keeps it), defaults filled in
        rows = [self._effective_quota(project) for project in self.quota_rows]
        return FakeResponse(200, {"quotas": self._filtered(rows, params), "quotas_links": []})

    def _quota(self, method, body, params, project):
        if method == "GET":
            return FakeResponse(200, {"quota": self._effective_quota(project)})
        if method == "PUT":
            changes = body["quota"]
            unknown = set(changes) - set(QUOTA_NAMES)
            if unknown or any(not isinstance(v, int) or not -1 <= v <= 2000000000 for v in changes.values()):
                return _fault(400, "Invalid input for field/attribute quota: %s" % changes)
            row = self.quota_rows.setdefault(project, {name: None for name in QUOTA_NAMES})
            row.update(changes)
            return FakeResponse(202, {"quota": self._effective_quota(project)})
        if method == "DELETE":
            if project not in self.quota_rows:
                return _fault(404, "Quotas %s not found." % project)
            self.quota_rows[project] = {name: None for name in QUOTA_NAMES}   # Octavia nulls the record
            return FakeResponse(202)
        return _fault(405, "method")

    def _quota_default(self, method, body, params, project):
        return FakeResponse(200, {"quota": dict(self.quota_defaults, project_id=project)})

    def _providers(self, method, body, params):
        return FakeResponse(200, {"providers": [{"name": k, "description": v} for k, v in self.providers.items()]})

    def _capabilities(self, method, body, params, provider, which):
        if provider not in self.providers:
            return _fault(400, "Provider '%s' is not enabled." % provider)
        items = [{"name": k, "description": v} for k, v in self.capabilities[which].items()]
        return FakeResponse(200, {which: self._filtered(items, params)})


def _l4(protocol):
    return protocol if protocol in ("UDP", "SCTP") else "TCP"


class _Identity:
    """keystone's find_project, as resolve_project() calls it (a name or an ID)."""

    def __init__(self, fake):
        self.fake = fake

    def find_project(self, ref, ignore_missing=True):
        for project_id, name in self.fake.projects.items():
            if ref in (project_id, name):
                return type("Project", (), {"id": project_id, "name": name})()
        return None


class _Proxy:
    def __init__(self, fake, handler):
        self.fake = fake
        self.handler = handler

    def request(self, url, method, json=None, params=None, **kwargs):  # pylint: disable=redefined-outer-name
        return self.handler(method, url, json, params)
