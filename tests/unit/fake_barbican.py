"""An in-memory stand-in for Barbican's secrets (the key manager), which the unit tests
cannot reach: it answers the two calls of plugins/module_utils/key_manager.py through the
same openstacksdk proxy methods (`secrets(name=...)`, `create_secret(**attrs)`), keeps
what was stored (payload included, so a test can open the PKCS#12 bundle as Octavia
would) and logs each call. The integration test (tests/integration/test_tls_termination.py)
runs the same against a real Barbican."""

from __future__ import annotations

import uuid

ENDPOINT = "https://barbican.example.test/v1/secrets/"


class FakeSecret:
    def __init__(self, attrs, created):
        self.name = attrs.get("name")
        self.secret_ref = ENDPOINT + str(uuid.uuid4())
        self.status = "ACTIVE"
        self.created_at = "2026-01-01T00:00:%02d" % created
        self.attrs = dict(attrs)


class FakeBarbican:
    def __init__(self):
        self.secrets_by_ref = {}
        self.log = []          # ("list", name) or ("create", name)
        self.failures = []     # exceptions to raise on the next creates, in order

    def secrets(self, **query):
        self.log.append(("list", query.get("name")))
        return iter([s for s in self.secrets_by_ref.values() if query.get("name") in (None, s.name)])

    def create_secret(self, **attrs):
        self.log.append(("create", attrs.get("name")))
        if self.failures:
            raise self.failures.pop(0)
        made = FakeSecret(attrs, len(self.secrets_by_ref))
        self.secrets_by_ref[made.secret_ref] = made
        return made

    def creates(self):
        return [entry for entry in self.log if entry[0] == "create"]
