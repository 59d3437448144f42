# Copyright: octavia.lbaas contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The Octavia (and Neutron) API client of the engine, `OctaviaApi`: counts every call,
retries 409/503 with jittered backoff, waits for a load balancer to leave PENDING_*,
pages listings and looks objects up by name inside the task's project, all within the
task's one deadline."""

from __future__ import annotations

import concurrent.futures
import random
import threading
import time

from ansible_collections.octavia.lbaas.plugins.module_utils.cloud import Deadline, ModuleError, poll, poll_intervals
from ansible_collections.octavia.lbaas.plugins.module_utils.lbaas_fields import AMPHORA_PROVIDERS, PENDING_PREFIX
from ansible_collections.octavia.lbaas.plugins.module_utils.values import is_uuid


class OctaviaApi:
    """Raw Octavia v2 REST through openstacksdk's load-balancer proxy.

    openstacksdk points that proxy at the service root plus ``v2.0`` (Octavia serves
    ``/v2`` and ``/v2.0``) and the SDK's own resources use paths like ``/lbaas/pools``;
    we use the same relative paths."""

    # Waits poll often at first (Octavia usually finishes a change in 1-4 s), then back
    # off: 0.2 s growing by 1.2 to 1 s. A poll is one cheap GET.
    POLL = {"first": 0.2, "factor": 1.2, "cap": 1.0}
    # Independent reads run side by side (see parallel()); Octavia's API serves them at
    # once, and a no-op run is mostly waiting for answers.
    READERS = 4

    def __init__(self, conn, deadline=None, sleep=None, project=None):
        self.conn = conn
        self.deadline = deadline or Deadline(600)
        self.sleep = sleep or time.sleep
        self.reads = 0
        self.writes = 0
        self._lock = threading.Lock()
        self.neutron_seen = {}
        # Name lookups are scoped to one project: `project` is a function giving its ID
        # (the task's `project` option, or the project the caller is logged in to), asked
        # once, on the first lookup. None: no scope (unit tests of the pure parts).
        self._project_of = project
        self._project = None
        self._scope_lock = threading.Lock()

    def project_id(self):
        if self._project_of is None:
            return None
        with self._scope_lock:
            if self._project is None:
                self._project = self._project_of()
        return self._project

    def scoped(self, params=None):
        """Query parameters limited to the project of the task (an admin otherwise sees,
        and would match by name, every project's objects)."""
        params = dict(params or {})
        if any(params.get(parent) for parent in ("loadbalancer_id", "listener_id", "pool_id")):
            return params     # children of a parent the task found (or gave by ID)
        project = self.project_id()
        if project:
            params.setdefault("project_id", project)
        return params

    def calls(self):
        return {"writes": self.writes, "reads": self.reads}

    def parallel(self, *funcs):
        """Run independent calls side by side; their results in order. The first
        exception is raised once all are done."""
        funcs = [f for f in funcs if f is not None]
        if len(funcs) <= 1:
            return [f() for f in funcs]
        for service in ("load_balancer", "network"):
            getattr(self.conn, service, None)  # make the proxies before the threads race to
        with concurrent.futures.ThreadPoolExecutor(min(self.READERS, len(funcs))) as pool:
            futures = [pool.submit(f) for f in funcs]
            concurrent.futures.wait(futures)
        return [f.result() for f in futures]

    # -- transport ----------------------------------------------------------------------
    def _send(self, proxy, method, path, body=None, params=None):
        kwargs = {}
        if body is not None:
            kwargs["json"] = body
        if params:
            kwargs["params"] = params
        with self._lock:
            if method == "GET":
                self.reads += 1
            else:
                self.writes += 1
        try:
            return proxy.request(path, method, **kwargs)
        except Exception as exc:  # pylint: disable=broad-except
            raise ModuleError("%s %s failed: %s" % (method, path, exc)) from exc

    def request(self, method, path, body=None, params=None, what=None, missing_ok=False, lb_id=None, service="load_balancer",
                before_retry=None):
        """One API call; returns the decoded body (None for 404 when missing_ok).

        `before_retry(status)` is asked before a write is sent again: it may find that
        an ambiguous write did happen (returns ("done", answer)) or give a body made from
        a fresh read (("body", body)); None sends the same body again."""
        proxy = getattr(self.conn, service)
        backoff = 0.5
        while True:
            resp = self._send(proxy, method, path, body, params)
            status = resp.status_code
            if status < 300:
                return _json(resp) or {}
            if status == 404 and missing_ok:
                return None
            fault = _fault(resp)
            retryable = status == 503 or (status == 409 and _is_transient_conflict(fault))
            if retryable and self.deadline.remaining() > 0:
                if status == 409 and lb_id:
                    self.wait_ready(lb_id)
                self.sleep(min(backoff, max(self.deadline.remaining(), 0)) * random.uniform(0.5, 1.0))
                backoff = min(backoff * 2, 4.0)
                if before_retry is not None:
                    if lb_id:
                        self.wait_ready(lb_id)
                    outcome = before_retry(status)
                    if outcome is not None and outcome[0] == "done":
                        return outcome[1]
                    if outcome is not None:
                        body = outcome[1]
                continue
            raise ModuleError("Octavia refused to %s (HTTP %s on %s %s): %s"
                              % (what or "do it", status, method, path, fault), status_code=status)

    def get(self, path, params=None, missing_ok=False, what=None):
        return self.request("GET", path, params=params, missing_ok=missing_ok, what=what or "read %s" % path)

    def list(self, path, plural, params=None, service="load_balancer", links=None):
        """Every page of a listing, within the task's time budget; a `next` link that
        comes back again (a misbehaving proxy or API) ends it with an error. `links` is
        the key of the page links when it is not `<plural>_links` (Octavia's flavor and
        availability zone profiles answer `flavorprofile_links`,
        `availability_zone_profile_links`)."""
        items = []
        seen = set()
        body = self.request("GET", path, params=params, what="list %s" % plural, service=service)
        while True:
            items.extend(body.get(plural) or [])
            nxt = [link.get("href") for link in body.get(links or plural + "_links") or [] if link.get("rel") == "next"]
            if not nxt or not nxt[0]:
                return items
            if nxt[0] in seen:
                raise ModuleError("Listing %s does not move on: page %s came again" % (plural, nxt[0]))
            seen.add(nxt[0])
            if self.deadline.remaining() <= 0:
                raise ModuleError("Timed out after %d s listing %s (%d so far); raise the task's timeout"
                                  % (self.deadline.seconds, plural, len(items)), api_calls=self.calls())
            body = self.request("GET", nxt[0], what="list %s" % plural, service=service)

    # -- the load balancer's state ----------------------------------------------------------
    def get_loadbalancer(self, lb_id):
        found = self.get("/lbaas/loadbalancers/%s" % lb_id, missing_ok=True)
        return found.get("loadbalancer") if found else None

    def status_tree(self, lb_id):
        try:
            return (self.get("/lbaas/loadbalancers/%s/status" % lb_id, missing_ok=True) or {}).get("statuses")
        except ModuleError:
            return None

    def wait_ready(self, lb_id, what="the load balancer", gone_ok=False):
        """Poll until the load balancer leaves PENDING_*: ACTIVE → return it,
        ERROR → fail with its status tree, gone → None (when gone_ok)."""
        def settled(lb):
            if lb is None or lb.get("provisioning_status") == "DELETED":
                if gone_ok:
                    return True
                raise ModuleError("Load balancer %s disappeared while waiting for %s" % (lb_id, what))
            status = lb.get("provisioning_status") or ""
            if status == "ERROR":
                raise ModuleError("Load balancer %s went to ERROR after %s" % (lb.get("name") or lb_id, what),
                                  loadbalancer=lb, status_tree=self.status_tree(lb_id), api_calls=self.calls())
            return not status.startswith(PENDING_PREFIX) and not gone_ok

        def timed_out(lb):
            return ModuleError("Timed out after %d s waiting for %s (load balancer %s is %s); raise the task's timeout"
                               % (self.deadline.seconds, what, lb_id, (lb or {}).get("provisioning_status") or ""),
                               loadbalancer=lb, api_calls=self.calls())

        last = poll(lambda: self.get_loadbalancer(lb_id), settled, self.deadline, timed_out,
                    intervals=poll_intervals(**self.POLL), sleep=self.sleep)
        return None if gone_ok else last

    # -- lookups --------------------------------------------------------------------------
    def find_loadbalancer(self, ref):
        if is_uuid(ref):
            found = self.get_loadbalancer(ref)
            if found:
                return found
        items = self.list("/lbaas/loadbalancers", "loadbalancers", self.scoped({"name": ref}))
        items = [i for i in items if i.get("provisioning_status") != "DELETED"]
        if len(items) > 1:
            raise ModuleError("%d load balancers are named %s in project %s; use the ID"
                              % (len(items), ref, self.project_id() or "(any)"), ids=[i["id"] for i in items])
        return items[0] if items else None

    def find_flavor(self, ref):
        if is_uuid(ref):
            return ref
        items = self.list("/lbaas/flavors", "flavors", {"name": ref})
        if len(items) != 1:
            raise ModuleError("Octavia flavor %s: %s" % (ref, "not found" if not items else "ambiguous, use the ID"))
        return items[0]["id"]

    def find_neutron(self, resource, ref, field):
        """A Neutron network, subnet or port by name → its ID (an ID is used as is)."""
        if is_uuid(ref):
            return ref
        items = self.list("/%ss" % resource, "%ss" % resource, self.scoped({"name": ref}), service="network")
        if not items and self.project_id() and resource in ("network", "subnet"):
            # not the project's own: a network (or a subnet of one) that is shared with
            # every project or external, as the project itself would see it
            others = self.list("/%ss" % resource, "%ss" % resource, {"name": ref}, service="network")
            items = [item for item in others if self._open_to_all(resource, item)]
        if len(items) != 1:
            where = " in project %s" % self.project_id() if self.project_id() else ""
            raise ModuleError("%s: %s %s %s" % (field, resource, ref, ("not found%s (nor shared)" % where) if not items
                                                else "is ambiguous%s, use the ID" % where))
        self.neutron_seen[(resource, items[0]["id"])] = items[0]
        return items[0]["id"]

    def _open_to_all(self, resource, item):
        if resource == "subnet":
            item = self.neutron_object("network", item.get("network_id")) or {}
        return bool(item.get("shared") or item.get("router:external"))

    def neutron_object(self, resource, obj_id):
        """A Neutron object by ID (the one a name lookup found costs no call)."""
        if (resource, obj_id) not in self.neutron_seen:
            found = self.request("GET", "/%ss/%s" % (resource, obj_id), missing_ok=True, what="read %s %s" % (resource, obj_id),
                                 service="network")
            self.neutron_seen[(resource, obj_id)] = (found or {}).get(resource)
        return self.neutron_seen[(resource, obj_id)]

    def default_provider(self):
        """The provider a load balancer without `provider` gets, when Octavia makes it
        knowable: every enabled provider is the amphora one (under any of its names)."""
        names = {(p.get("name") or "").lower() for p in self.list("/lbaas/providers", "providers")}
        if names and names <= set(AMPHORA_PROVIDERS):
            return "amphora"
        return None


def _json(resp):
    if not getattr(resp, "content", b"x"):
        return None
    try:
        return resp.json()
    except ValueError:
        return None


def _fault(resp):
    body = _json(resp)
    if isinstance(body, dict):
        for key in ("faultstring", "description", "message", "detail"):
            if body.get(key):
                return body[key]
        if isinstance(body.get("NeutronError"), dict):
            return body["NeutronError"].get("message")
    return (getattr(resp, "text", "") or "")[:500]


def _is_transient_conflict(fault):
    text = (fault or "").lower()
    return "immutable" in text or "invalid state" in text or "pending" in text
