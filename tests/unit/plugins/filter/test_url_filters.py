"""The URL filters keep secrets intact through SQLAlchemy-style and AMQP URL parsing."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.octavia.lbaas.plugins.filter.urls import db_url, transport_url

NASTY = "p@ss:w/rd?#%&= x"


def test_db_url_round_trips_a_nasty_password():
    url = db_url({"user": "oct@via", "password": NASTY, "host": "10.0.0.5", "port": 3306,
                  "database": "octavia"})
    parts = urlsplit(url)
    assert parts.scheme == "mysql+pymysql"
    assert parts.hostname == "10.0.0.5" and parts.port == 3306
    assert unquote(parts.username) == "oct@via"
    assert unquote(parts.password) == NASTY
    assert parts.path == "/octavia"
    assert url.count("@") == 1


def test_db_url_ipv6_host_and_query():
    url = db_url({"user": "u", "password": "p", "host": "fd00::5", "database": "d",
                  "query": {"charset": "utf8"}})
    assert "@[fd00::5]/d?charset=utf8" in url


def test_db_url_requires_fields():
    with pytest.raises(AnsibleFilterError, match="'password' is required"):
        db_url({"user": "u", "host": "h", "database": "d"})


def test_transport_url_cluster_and_vhost():
    url = transport_url(["10.0.0.5", "10.0.0.6"], "octavia", NASTY, vhost="octavia")
    assert url.startswith("rabbit://octavia:")
    netloc = url[len("rabbit://"):url.rindex("/")]
    hosts = netloc.split(",")
    assert len(hosts) == 2
    for entry in hosts:
        auth, host = entry.rsplit("@", 1)
        user, password = auth.split(":", 1)
        assert unquote(password) == NASTY
        assert host in ("10.0.0.5:5672", "10.0.0.6:5672")
    assert url.endswith("/octavia")


def test_transport_url_default_vhost_is_empty_path():
    assert transport_url("h", "u", "p").endswith("@h:5672/")
