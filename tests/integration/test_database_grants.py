"""Issue 13, item 4 (DB grants): Octavia's database user gets one account per controller
address, and its accounts for other hosts (the old `%`, anywhere) are dropped. Run with a
user and database of the test's own on the test cloud's MariaDB (the shared `octavia`
account is not touched); controller-1 connects, the deploy host is refused."""

from __future__ import annotations

import subprocess
import uuid

import pymysql
import pytest

from playbook import ROOT, run_playbook

PLAYBOOK = ROOT / "tests" / "integration" / "playbooks" / "database_role.yml"
CONTROLLER = "octavia-lbaas-controller-1"
CONNECT = """
import sys, pymysql
try:
    pymysql.connect(host=sys.argv[1], user=sys.argv[2], password=sys.argv[3], database=sys.argv[2]).close()
    print("connected")
except pymysql.err.OperationalError as exc:
    print("refused", exc.args[0])
"""


def _admin(facts):
    return pymysql.connect(host=facts["testbed_mariadb_host"], user=facts["testbed_mariadb_admin_user"],
                           password=facts["testbed_mariadb_admin_password"], autocommit=True)


def _hosts(facts, user):
    with _admin(facts) as conn, conn.cursor() as cur:
        cur.execute("SELECT Host FROM mysql.user WHERE User = %s", (user,))
        return sorted(row[0] for row in cur.fetchall())


@pytest.fixture
def account(testbed_facts):
    name = f"lbaas_test_{uuid.uuid4().hex[:8]}"
    password = uuid.uuid4().hex
    with _admin(testbed_facts) as conn, conn.cursor() as cur:
        # what the role used to make: the user for any host
        cur.execute("CREATE USER %s@'%%' IDENTIFIED BY %s", (name, password))
    yield name, password
    with _admin(testbed_facts) as conn, conn.cursor() as cur:
        for host in _hosts(testbed_facts, name):
            cur.execute("DROP USER %s@%s", (name, host))
        cur.execute("DROP DATABASE IF EXISTS `%s`" % name)


def test_grants_only_for_the_controllers(testbed_facts, account):
    name, password = account
    controller_ip = subprocess.run(["podman", "inspect", "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
                                    CONTROLLER], capture_output=True, text=True, check=True).stdout.strip()
    run = run_playbook(PLAYBOOK, extra_vars={
        "database_host": testbed_facts["testbed_mariadb_host"],
        "database_login_user": testbed_facts["testbed_mariadb_admin_user"],
        "database_login_password": testbed_facts["testbed_mariadb_admin_password"],
        "database_name": name, "database_user": name, "database_password": password,
        "database_user_hosts": [controller_ip], "database_secrets_dir": "/nonexistent"})
    assert run.rc == 0, run.failed_messages()
    assert _hosts(testbed_facts, name) == [controller_ip]
    from_controller = subprocess.run(["podman", "exec", "-i", CONTROLLER, "/opt/octavia/bin/python", "-",
                                      testbed_facts["testbed_mariadb_host"], name, password],
                                     input=CONNECT, capture_output=True, text=True, check=False, timeout=60)
    assert from_controller.stdout.strip() == "connected", from_controller.stderr[-1000:]
    with pytest.raises(pymysql.err.OperationalError) as refused:
        pymysql.connect(host=testbed_facts["testbed_mariadb_host"], user=name, password=password, database=name)
    assert refused.value.args[0] == 1045
    again = run_playbook(PLAYBOOK, extra_vars={
        "database_host": testbed_facts["testbed_mariadb_host"],
        "database_login_user": testbed_facts["testbed_mariadb_admin_user"],
        "database_login_password": testbed_facts["testbed_mariadb_admin_password"],
        "database_name": name, "database_user": name, "database_password": password,
        "database_user_hosts": [controller_ip], "database_secrets_dir": "/nonexistent"})
    assert again.rc == 0 and again.changed() == 0, again.changed_tasks()
