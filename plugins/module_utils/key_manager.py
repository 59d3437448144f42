# Copyright: octavia.lbaas contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The key manager (Barbican) client of the load-balancer modules, and nothing else: it
finds a secret by name in the caller's project and stores a new one, through
openstacksdk's key_manager proxy on the task's one connection (cloud.py), counting each
call for the task's api_calls. What a secret holds and how it is named: tls_material.py."""

from __future__ import annotations

from ansible_collections.octavia.lbaas.plugins.module_utils.cloud import ModuleError, describe_sdk_error

NO_KEY_MANAGER = "%s: this cloud has no key-manager (Barbican) in its catalog: give %s instead"


class KeyManager:
    """Barbican through `conn.key_manager`; the catalog is checked once, before the first call."""

    def __init__(self, conn):
        self.conn = conn
        self.reads = 0
        self.writes = 0
        self._proxy = None

    def calls(self):
        return {"writes": self.writes, "reads": self.reads}

    def proxy(self, option, ref_option):
        """The key_manager proxy; fails naming the option (and the ref to give instead)
        when the catalog has no key-manager service."""
        if self._proxy is None:
            if not self.conn.has_service("key-manager"):
                raise ModuleError(NO_KEY_MANAGER % (option, ref_option))
            self._proxy = self.conn.key_manager
        return self._proxy

    def find(self, name, option, ref_option):
        """The ref of the ACTIVE secret named `name` in the project (the oldest, when there
        are several), or None. Barbican's `name` filter is an exact match."""
        proxy = self.proxy(option, ref_option)
        self.reads += 1
        try:
            found = [s for s in proxy.secrets(name=name)
                     if s.name == name and (s.status or "ACTIVE") == "ACTIVE"]
        except Exception as exc:  # pylint: disable=broad-except
            raise ModuleError("%s: could not list the key manager's secrets named %s: %s"
                              % (option, name, describe_sdk_error(exc))) from exc
        found.sort(key=lambda s: str(s.created_at or ""))
        return found[0].secret_ref if found else None

    def store(self, attrs, option, ref_option):
        """Store a new secret (`attrs`: what create_secret takes); returns its ref. A refused
        request keeps its HTTP status (status_code), so it does not count as a change."""
        proxy = self.proxy(option, ref_option)
        self.writes += 1
        try:
            made = proxy.create_secret(**attrs)
        except Exception as exc:  # pylint: disable=broad-except
            raise ModuleError("%s: the key manager did not store secret %s: %s"
                              % (option, attrs.get("name"), describe_sdk_error(exc)),
                              status_code=getattr(exc, "status_code", None)) from exc
        if not made.secret_ref:
            raise ModuleError("%s: the key manager stored secret %s but returned no ref" % (option, attrs.get("name")))
        return made.secret_ref
