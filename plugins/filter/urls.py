# Copyright: octavia.lbaas contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""URLs that carry secrets: every part a user or password can break is percent-quoted.

A password such as ``p@ss:w/rd`` turns ``mysql+pymysql://user:p@ss:w/rd@host/db`` into
garbage; quoting every reserved character (nothing is "safe") fixes that for oslo.db,
SQLAlchemy and oslo.messaging alike."""

from __future__ import annotations

from urllib.parse import quote

from ansible.errors import AnsibleFilterError


def _q(value):
    return quote(str(value), safe="")


def _host(host, port):
    host = str(host)
    if ":" in host and not host.startswith("["):  # IPv6 literal
        host = "[%s]" % host
    return "%s:%s" % (host, port) if port else host


def db_url(spec):
    """{driver, user, password, host, port, database, query} -> SQLAlchemy URL."""
    if not isinstance(spec, dict):
        raise AnsibleFilterError("db_url expects a dict, got %s" % type(spec).__name__)
    for key in ("user", "password", "host", "database"):
        if not spec.get(key):
            raise AnsibleFilterError("db_url: '%s' is required" % key)
    url = "%s://%s:%s@%s/%s" % (
        spec.get("driver") or "mysql+pymysql", _q(spec["user"]), _q(spec["password"]),
        _host(spec["host"], spec.get("port")), _q(spec["database"]))
    query = spec.get("query") or {}
    if query:
        url += "?" + "&".join("%s=%s" % (_q(k), _q(v)) for k, v in sorted(query.items()))
    return url


def transport_url(hosts, user, password, vhost="/", port=5672, scheme="rabbit"):
    """One oslo.messaging URL for a list of broker hosts (a cluster)."""
    if isinstance(hosts, str):
        hosts = [hosts]
    if not hosts:
        raise AnsibleFilterError("transport_url: at least one host is required")
    if not user or not password:
        raise AnsibleFilterError("transport_url: user and password are required")
    auth = "%s:%s" % (_q(user), _q(password))
    netlocs = ",".join("%s@%s" % (auth, _host(h, port)) for h in hosts)
    # the vhost "/" is written as an empty path; any other is quoted whole
    path = "" if vhost in ("/", "", None) else _q(vhost)
    return "%s://%s/%s" % (scheme, netlocs, path)


class FilterModule:
    def filters(self):
        return {"db_url": db_url, "transport_url": transport_url}
