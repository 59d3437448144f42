"""database and messaging roles: the URLs they publish work as Octavia will use them,
with passwords full of URL-breaking characters."""

from __future__ import annotations

from conftest import in_cloud_container


def test_database_url_logs_in_through_sqlalchemy(host, outputs):
    url = outputs["database_connection_url"]
    assert "p@ss:w/rd" not in url, "the password must be quoted in the URL"
    result = in_cloud_container(host, """
import os, sqlalchemy
for name in ("DB_URL", "PERSIST_URL"):
    engine = sqlalchemy.create_engine(os.environ[name])
    with engine.connect() as conn:
        print(conn.execute(sqlalchemy.text("SELECT DATABASE(), CURRENT_USER()")).fetchone())
""", DB_URL=url, PERSIST_URL=outputs["database_persistence_url"])
    assert result.rc == 0, result.stderr
    assert "('molecule_octavia', 'molecule_octavia@%')" in result.stdout
    assert "('molecule_octavia_persistence', 'molecule_octavia@%')" in result.stdout


def test_database_user_cannot_see_other_databases(host, outputs):
    result = in_cloud_container(host, """
import os, sqlalchemy
with sqlalchemy.create_engine(os.environ["DB_URL"]).connect() as conn:
    print(sorted(r[0] for r in conn.execute(sqlalchemy.text("SHOW DATABASES"))))
""", DB_URL=outputs["database_connection_url"])
    assert result.rc == 0, result.stderr
    assert "keystone" not in result.stdout and "molecule_octavia" in result.stdout


def test_transport_url_connects_through_oslo_messaging(host, outputs):
    url = outputs["messaging_transport_url"]
    assert "r@bbit:p/ss" not in url
    result = in_cloud_container(host, """
import os, kombu, oslo_messaging
from oslo_config import cfg
parsed = oslo_messaging.TransportURL.parse(cfg.CONF, os.environ["TRANSPORT_URL"])
h = parsed.hosts[0]
assert h.password == "r@bbit:p/ss", h.password
conn = kombu.Connection(hostname=h.hostname, port=h.port, userid=h.username,
                        password=h.password, virtual_host=parsed.virtual_host)
conn.connect()
print("connected", parsed.virtual_host, h.username)
conn.release()
""", TRANSPORT_URL=url)
    assert result.rc == 0, result.stderr
    assert "connected molecule-octavia molecule-octavia" in result.stdout
