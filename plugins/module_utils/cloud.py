# Copyright: octavia.lbaas contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The one base of every octavia.lbaas module: connection, validation, check mode,
diff, waiting and errors. A module declares its argument spec and implements run()."""

from __future__ import annotations

import time
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

try:
    import openstack
    from keystoneauth1 import exceptions as ksa_exceptions
    from openstack import exceptions as sdk_exceptions
    HAS_SDK = True
    SDK_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - reported by the module
    openstack = None
    sdk_exceptions = None
    ksa_exceptions = None
    HAS_SDK = False
    SDK_IMPORT_ERROR = traceback.format_exc()

# The range of openstacksdk we test against and support (declared in the docs too).
SDK_MIN = (3, 0, 0)
SDK_MAX_EXCLUSIVE = (5, 0, 0)

CONNECTION_SPEC = dict(
    cloud=dict(type="raw"),
    auth=dict(type="dict", no_log=True),
    auth_type=dict(type="str"),
    region_name=dict(type="str"),
    interface=dict(type="str", default="public", choices=["public", "internal", "admin"],
                   aliases=["endpoint_type"]),
    validate_certs=dict(type="bool", aliases=["verify"]),
    ca_cert=dict(type="path", aliases=["cacert"]),
    client_cert=dict(type="path", aliases=["cert"]),
    client_key=dict(type="path", aliases=["key"], no_log=False),
    api_timeout=dict(type="int"),
)

WAIT_SPEC = dict(
    wait=dict(type="bool", default=True),
    timeout=dict(type="int", default=600),
)


# `state` of a module that creates (present) or deletes (absent) what it manages
STATE_OPTION = dict(type="str", default="present", choices=["present", "absent"])


class ModuleError(Exception):
    """A failure the module reports as it is: a message and extra result keys."""

    def __init__(self, msg, **extra):
        super().__init__(msg)
        self.msg = msg
        self.extra = extra


def sdk_version():
    if not HAS_SDK:
        return None
    from importlib.metadata import version  # pylint: disable=import-outside-toplevel
    raw = version("openstacksdk")
    parts = []
    for piece in raw.split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts + [0] * (3 - len(parts))), raw


class Deadline:
    """One time budget shared by every wait of a task (the task's `timeout`)."""

    def __init__(self, seconds):
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def remaining(self):
        return self.end - time.monotonic()

    def expired(self):
        return self.remaining() <= 0


def poll_intervals(first=0.25, factor=1.5, cap=2.0):
    """Short first polls (Octavia often finishes in about a second), then back off."""
    interval = first
    while True:
        yield interval
        interval = min(cap, interval * factor)


def poll(fetch, done, deadline, timed_out, intervals=None, sleep=None):
    """The one poll loop of the collection: fetch() until done(obj) is true and return that
    obj. done() may raise ModuleError to give up early (an object in ERROR). When the
    deadline has passed, raises timed_out(last obj), a ModuleError. Sleeps `intervals`
    (poll_intervals() by default), never past the deadline."""
    for interval in intervals or poll_intervals():
        last = fetch()
        if done(last):
            return last
        if deadline.remaining() <= 0:
            raise timed_out(last)
        (sleep or time.sleep)(min(interval, max(deadline.remaining(), 0.05)))
    return None  # unreachable: poll_intervals() never ends


class CloudModule:
    """Subclass, set `argument_spec` (and `module_kwargs`), implement `run()`.

    `run()` reads `self.params`, uses `self.conn` (made on first use, so pure input
    validation in `validate()` never touches the network), records writes through
    `self.write(...)` so check mode makes none, and ends with `self.exit(...)`.
    """

    argument_spec: dict = {}
    module_kwargs: dict = {}
    wait_options = False
    # plugins/plugin_utils/direct_execution.py swaps in a subclass that takes its
    # parameters from the action and hands its result back (a task run in Ansible's worker)
    ansible_module_class = AnsibleModule
    # ... and a cache of keystone tokens that the tasks of one ansible-playbook run share
    # (restore(conn) before the first request, so one login serves every task)
    auth_cache = None

    def __init__(self):
        spec = dict(CONNECTION_SPEC)
        if self.wait_options:
            spec.update(WAIT_SPEC)
        spec.update(self.argument_spec)
        kwargs = dict(supports_check_mode=True)
        kwargs.update(self.module_kwargs)
        self.ansible = self.ansible_module_class(argument_spec=spec, **kwargs)
        self.params = self.ansible.params
        # `cloud` is a name or a whole clouds.yaml entry; it is not no_log (a cloud name
        # would then be masked in every result), but the secrets of an entry are
        self.ansible.no_log_values.update(secret_values(self.params.get("cloud")))
        self.check_mode = self.ansible.check_mode
        self.changed = False
        self.writes = []          # what the task wrote (or would write, in check mode)
        self.before = {}
        self.after = {}
        self._conn = None
        self.deadline = Deadline(self.params["timeout"]) if self.wait_options else None

    # -- connection ---------------------------------------------------------------
    @property
    def conn(self):
        if self._conn is None:
            self._conn = self._connect()
        return self._conn

    def _connect(self):
        if not HAS_SDK:
            self.ansible.fail_json(msg=missing_required_lib("openstacksdk"),
                                   exception=SDK_IMPORT_ERROR)
        found, raw = sdk_version()
        if not SDK_MIN <= found < SDK_MAX_EXCLUSIVE:
            self.ansible.fail_json(
                msg="openstacksdk %s is not supported: octavia.lbaas needs >= %s, < %s"
                % (raw, ".".join(map(str, SDK_MIN)), ".".join(map(str, SDK_MAX_EXCLUSIVE))))
        p = self.params
        kwargs = {}
        for option, sdk_name in (("auth_type", "auth_type"), ("region_name", "region_name"),
                                 ("interface", "interface"), ("ca_cert", "cacert"),
                                 ("client_cert", "cert"), ("client_key", "key"),
                                 ("api_timeout", "api_timeout")):
            if p.get(option) is not None:
                kwargs[sdk_name] = p[option]
        if p.get("validate_certs") is not None:
            kwargs["verify"] = p["validate_certs"]
        if p.get("auth"):
            kwargs["auth"] = p["auth"]
        cloud = p.get("cloud")
        try:
            if isinstance(cloud, dict):
                merged = dict(cloud)
                merged.update(kwargs)
                conn = openstack.connect(**merged)
            else:
                if cloud:
                    kwargs["cloud"] = cloud
                conn = openstack.connect(**kwargs)
        except sdk_exceptions.SDKException as exc:
            self.ansible.fail_json(msg="Could not connect to the cloud: %s" % exc)
            return None  # unreachable
        if self.auth_cache is not None:
            self.auth_cache.restore(conn)
        return conn

    # -- the flow ----------------------------------------------------------------
    def validate(self):
        """Check the input before any API call; raise ModuleError on bad input."""

    def run(self):
        raise NotImplementedError

    # Options that are a number of seconds and mean nothing at 0 or below (a wait that
    # has timed out before it starts, a socket that cannot wait at all).
    POSITIVE_OPTIONS = ("timeout", "api_timeout", "url_timeout")

    def check_positive(self):
        for name in self.POSITIVE_OPTIONS:
            value = self.params.get(name)
            if isinstance(value, int) and not isinstance(value, bool) and value <= 0:
                raise ModuleError("%s: must be more than 0 (seconds), got %s" % (name, value))

    @classmethod
    def main(cls):
        """Run the module: a module file says `main = ItsModule.main` (its entry point, which
        the direct-execution action plugin calls too)."""
        cls()()

    def __call__(self):
        try:
            self.check_positive()
            self.validate()
            self.run()
        except ModuleError as exc:
            self.fail(exc.msg, **exc.extra)
        except Exception as exc:  # pylint: disable=broad-except
            if sdk_exceptions is not None and isinstance(exc, sdk_exceptions.SDKException):
                self.fail(describe_sdk_error(exc), writes=self.writes)
            # keystoneauth's errors (unreachable keystone, bad credentials, no endpoint)
            # are not SDK exceptions: report them as clearly, with what was written
            if ksa_exceptions is not None and isinstance(exc, ksa_exceptions.ClientException):
                self.fail("Cloud connection failed: %s" % exc, writes=self.writes)
            raise

    def write(self, summary_of_write, write_call, /, *args, **kwargs):
        """Record a write and perform it unless in check mode. The two first parameters
        are positional-only, so API keyword arguments such as `description` pass through.

        A write the service refused outright (an HTTP 4xx answer: nothing was made) does
        not count as a change; any other failure may have changed something and does."""
        self.writes.append(summary_of_write)
        if self.check_mode:
            self.changed = True
            return None
        try:
            result = write_call(*args, **kwargs)
        except Exception as exc:
            if refused(exc):
                self.writes.remove(summary_of_write)
            else:
                self.changed = True
            raise
        self.changed = True
        return result

    def exit(self, **result):
        result.setdefault("changed", self.changed)
        if self.ansible._diff:  # pylint: disable=protected-access
            result["diff"] = dict(before=self.before, after=self.after)
        self.ansible.exit_json(**result)

    def fail(self, msg, **result):
        self.ansible.fail_json(msg=msg, **result)

    # -- waiting -----------------------------------------------------------------
    def wait_for(self, what, fetch, done, failed=None, deadline=None):
        """Poll fetch() until done(obj) is true. failed(obj) -> message aborts early.

        fetch() returning None means the object is gone; done() decides whether that
        is success (e.g. for deletes)."""
        deadline = deadline or self.deadline or Deadline(600)

        def settled(obj):
            if done(obj):
                return True
            message = failed(obj) if failed is not None else None
            if message:
                raise ModuleError("%s: %s" % (what, message), last_state=to_dict(obj))
            return False

        def timed_out(obj):
            return ModuleError("Timed out after %d s waiting for %s (raise the task's timeout; "
                               "ACTIVE_STANDBY builds take longer)" % (deadline.seconds, what), last_state=to_dict(obj))

        return poll(fetch, settled, deadline, timed_out)


SECRET_KEY_WORDS = ("password", "secret", "token", "passcode", "credential", "key")


def secret_values(obj, secret=False):
    """Every string under a key that names a secret (password, application credential
    secret, token, private key, ...) in a cloud entry given as a dict."""
    found = set()
    if isinstance(obj, dict):
        for key, value in obj.items():
            named = secret or any(word in str(key).lower() for word in SECRET_KEY_WORDS)
            found |= secret_values(value, named)
    elif isinstance(obj, (list, tuple)):
        for value in obj:
            found |= secret_values(value, secret)
    elif secret and isinstance(obj, str) and obj:
        found.add(obj)
    return found


def refused(exc):
    """Did the service refuse a request outright (HTTP 4xx), so that it changed nothing?"""
    status = getattr(exc, "extra", {}).get("status_code") if isinstance(exc, ModuleError) else None
    if status is None:
        status = getattr(exc, "status_code", None)
    return isinstance(status, int) and 400 <= status < 500


def to_dict(obj):
    if obj is None:
        return None
    if hasattr(obj, "to_dict"):
        return obj.to_dict(computed=False)
    return obj


def describe_sdk_error(exc):
    """openstacksdk errors carry the HTTP status and the service's own message."""
    status = getattr(exc, "status_code", None)
    details = getattr(exc, "details", None) or ""
    text = str(exc)
    if details and details not in text:
        text = "%s (%s)" % (text, details)
    return "HTTP %s: %s" % (status, text) if status else text


def changed_fields(wanted, current, ignore_none=True):
    """{field: (current, wanted)} for every field of `wanted` whose value differs.

    A None in `wanted` means "not specified" and is skipped. Lists compare as sets
    when their items are hashable (order means nothing to Octavia or Neutron there)."""
    diff = {}
    for key, want in wanted.items():
        if want is None and ignore_none:
            continue
        have = current.get(key) if isinstance(current, dict) else getattr(current, key, None)
        if not same_value(want, have):
            diff[key] = (have, want)
    return diff


def same_value(want, have):
    if isinstance(want, (list, tuple)) and isinstance(have, (list, tuple)):
        try:
            return sorted(want) == sorted(have)
        except TypeError:
            return list(want) == list(have)
    if isinstance(want, dict) and isinstance(have, dict):
        return all(same_value(v, have.get(k)) for k, v in want.items())
    return want == have
