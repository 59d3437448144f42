"""Octavia's own count of the API calls a test made: the request logs of octavia-api in
the controller containers' journals (every controller's, merged in time order: behind the
API VIP haproxy spreads the requests over all of them). uWSGI writes one line per request (method, path,
status); the API also logs, at INFO, the ID of every object it accepts a create, update
or delete for ("Sending create Pool <id> to provider amphora").

The test cloud is shared (other tests may create load balancers meanwhile), so a window
keeps only the requests that are ours: those whose path names one of our objects (by ID
or name), and the ID-less creates (POST /v2.0/lbaas/pools) less as many as the API
accepted for objects that are not ours."""

from __future__ import annotations

import collections
import dataclasses
import re
import subprocess
import time

UNIT = "octavia-api"
# [pid: 1442|app: 0|req: 14/24] 10.242.0.1 () {34 vars in 697 bytes} [Sun Nov 22 03:43:10 2026]
#   POST /v2.0/lbaas/loadbalancers => generated 2164 bytes in 3190 msecs (HTTP/1.1 201) ...
LINE = re.compile(r"\] (GET|HEAD|POST|PUT|PATCH|DELETE) (\S+) => generated .*?\(HTTP/\d\.\d (\d{3})\)")
SENT = re.compile(r"Sending create (Load Balancer|Listener|Pool|Health Monitor|L7 Policy|L7 Rule|Member) "
                  r"([0-9a-f-]{36})")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
COLLECTIONS = {"loadbalancers": "Load Balancer", "listeners": "Listener", "pools": "Pool",
               "healthmonitors": "Health Monitor", "l7policies": "L7 Policy"}
WRITES = ("POST", "PUT", "PATCH", "DELETE")


@dataclasses.dataclass(frozen=True)
class Request:
    method: str
    path: str
    status: int

    @property
    def write(self):
        return self.method in WRITES

    def __str__(self):
        return f"{self.method} {self.path} -> {self.status}"


def _journalctl(container, *args, retries=30):
    """journalctl in a controller; the deployment may be restarting, so retry."""
    last = None
    for _attempt in range(retries):
        proc = subprocess.run(["podman", "exec", container, "journalctl", "-u", UNIT, "--no-pager", *args],
                              capture_output=True, text=True, check=False)
        if proc.returncode == 0:
            return proc.stdout
        last = proc.stderr
        time.sleep(2)
    raise RuntimeError(f"journalctl in {container} failed: {last}")


def mark():
    """Each API's journal cursor now (every controller's: behind the API VIP, haproxy
    spreads the requests over all of them): what is logged later belongs to what runs next."""
    cursors = {}
    for container in controllers():    # the running ones (a drill may have stopped one)
        match = re.search(r"-- cursor: (\S+)", _journalctl(container, "-n", "0", "--show-cursor", "-o", "cat"))
        cursors[container] = match.group(1) if match else None
    return cursors


def _read(cursors):
    """Every API's log lines after its cursor, merged in time order (short-unix stamps)."""
    stamped = []
    for container, cursor in cursors.items():
        args = ["-o", "short-unix"] + ([f"--after-cursor={cursor}"] if cursor else [])
        for line in _journalctl(container, *args).splitlines():
            stamp = line.split(" ", 1)[0]
            try:
                stamped.append((float(stamp), line))
            except ValueError:      # "-- No entries --"
                continue
    stamped.sort(key=lambda item: item[0])
    return [line for _stamp, line in stamped]


def read_since(cursors, settle=0.4):
    """(requests, created) logged after `cursors` (mark()): every request, and (kind, id)
    of every object the API accepted to create. uWSGI logs a request when it has answered
    it, a moment after the client got the answer: read until two reads agree."""
    previous = None
    while True:
        time.sleep(settle)
        lines = _read(cursors)
        found = [Request(m.group(1), m.group(2), int(m.group(3)))
                 for m in (LINE.search(line) for line in lines) if m]
        if previous is not None and len(found) == len(previous):
            text = "\n".join(lines)
            return found, [(m.group(1), m.group(2)) for m in SENT.finditer(text)]
        previous = found


def attribute(requests, created, ours):
    """The requests that are ours. `ours` holds our objects' IDs and names."""
    foreign_creates = collections.Counter(kind for kind, obj in created if obj not in ours)
    kept = []
    for req in requests:
        path = req.path.split("?")[0]
        if path in ("/", ""):
            continue  # version discovery and health checks; our modules never ask
        ids = UUID.findall(req.path)
        if ids:
            if any(i in ours for i in ids):
                kept.append(req)
            continue
        if any(name in req.path for name in ours if not UUID.fullmatch(name)):
            kept.append(req)
            continue
        collection = path.rstrip("/").rsplit("/", 1)[-1]
        kind = COLLECTIONS.get(collection)
        if req.method == "POST" and kind and req.status < 300 and foreign_creates[kind]:
            foreign_creates[kind] -= 1      # someone else's create
            continue
        if req.method == "GET" and ("?" in req.path or collection not in COLLECTIONS):
            continue  # a filtered list or a lookup by name without our IDs or names: another test's
        kept.append(req)
    return kept


class Window:
    """with Window(ours) as w: ...; then w.requests, w.writes, w.gets, w.conflicts.

    `ours` is a callable returning our objects' IDs and names; it is called when the
    window closes, after the journal was read (so its own GETs are not counted), and
    what it returns is remembered in `known` for the next windows (objects deleted in
    a window were seen by an earlier one). `paths`, when given, keeps only the requests
    under those API paths (the collections the code under test can touch at all: the ID-less
    requests of other tests elsewhere then cannot be taken for ours)."""

    known: set = set()

    def __init__(self, ours=None, paths=None):
        self.ours = ours
        self.paths = tuple(paths or ())

    def __enter__(self):
        self.cursor = mark()
        self.requests = []
        return self

    def __exit__(self, *exc):
        requests, created = read_since(self.cursor)
        self.all = requests
        if self.ours is None:
            self.requests = requests
        else:
            Window.known |= set(self.ours())
            self.requests = attribute(requests, created, Window.known)
        if self.paths:
            self.requests = [r for r in self.requests if r.path.startswith(self.paths)]
        return False

    @property
    def writes(self):
        return [r for r in self.requests if r.write]

    @property
    def gets(self):
        return [r for r in self.requests if r.method == "GET"]

    @property
    def conflicts(self):
        return [r for r in self.requests if r.status == 409]

    def show(self, requests=None):
        return "\n".join(str(r) for r in (self.requests if requests is None else requests)) or "(none)"


# -- a known defect of the two-controller test bed ----------------------------------------------
# With the no-op network driver each controller keeps the "plugged" VIP interfaces of the
# load balancers its worker created in its own /tmp/octavia-network-noop.db. Member
# flows (create, delete, batch update) that RabbitMQ hands to the *other* controller's
# worker fail in CalculateDelta with KeyError: '<vip network id>' and Octavia marks the
# members ERROR (the load balancer goes back to ACTIVE). Real network drivers keep that
# state in Neutron. Since 2026-12-02 the test bed's controllers share that file
# (tests/testbed/controllers.yml); the check stays to tell the defect apart if it returns.
NOOP_DEFECT = re.compile(r"CalculateDelta.*KeyError|KeyError: '[0-9a-f-]{36}'")


def controllers():
    proc = subprocess.run(["podman", "ps", "--format", "{{.Names}}", "--filter", "name=octavia-lbaas-controller-"],
                          capture_output=True, text=True, check=False)
    return proc.stdout.split()


def noop_member_defect_since(epoch):
    """Did a worker fail a member flow with the test bed's no-op network defect since
    `epoch` (time.time())? Returns the controllers where it happened."""
    hits = []
    for name in controllers():
        proc = subprocess.run(["podman", "exec", name, "journalctl", "-u", "octavia-worker", "--no-pager", "-o", "cat",
                               f"--since=@{int(epoch) - 1}"], capture_output=True, text=True, check=False)
        if NOOP_DEFECT.search(proc.stdout):
            hits.append(name)
    return hits
