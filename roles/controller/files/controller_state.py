# Reads what the controller role would otherwise ask the host for one task at a time, and
# prints it as JSON (tasks/state.yml). Read-only. Runs under the venv's Python when the venv
# exists (for the installed release and PyMySQL), else under the system's python3.
# Argument: a JSON object {packages, user, group, venv, config, units, api_url}.
import glob
import grp
import hashlib
import json
import os
import pwd
import re
import subprocess
import sys
import urllib.parse
import urllib.request

args = json.loads(sys.argv[1])
state = {}

# Debian packages installed ("ii"), as dpkg-query reports them
dpkg = subprocess.run(["dpkg-query", "--show", "--showformat=${Package} ${db:Status-Abbrev}\n"] + args["packages"],
                      capture_output=True, text=True, check=False)
installed = {line.split(" ")[0] for line in dpkg.stdout.splitlines() if line.split(" ")[1:2] == ["ii"]}
state["packages_missing"] = [p for p in args["packages"] if p not in installed]

# the service's user and group
try:
    group = grp.getgrnam(args["group"])
except KeyError:
    group = None
try:
    user = pwd.getpwnam(args["user"])
except KeyError:
    user = None
state["group"] = group is not None
state["user"] = user and {"home": user.pw_dir, "shell": user.pw_shell,
                          "primary_group": group is not None and user.pw_gid == group.gr_gid}

# the venv, its install stamp and the Octavia release in it
venv = args["venv"]
state["venv"] = os.path.exists(os.path.join(venv, "bin", "python"))
try:
    with open(os.path.join(venv, ".installed")) as handle:
        state["stamp"] = handle.read()
except OSError:
    state["stamp"] = None
state["octavia_version"] = None
if sys.prefix == os.path.realpath(venv) or sys.prefix == venv:
    try:
        import importlib.metadata
        state["octavia_version"] = importlib.metadata.version("octavia")
    except Exception:       # not installed (yet)
        pass

# the installed certificates and keys, as tasks/certificates_read.yml's command prints them:
# "<file> <sha256> <owner> <group> <mode>" or "<file> missing"
state["certificates"] = []
for name in args["certificates"]:
    path = os.path.join(args["certificates_dir"], name)
    try:
        with open(path, "rb") as handle:
            digest = hashlib.sha256(handle.read()).hexdigest()
        st = os.stat(path)
    except OSError:
        state["certificates"].append("%s missing" % name)
        continue
    try:
        owner = pwd.getpwuid(st.st_uid).pw_name
    except KeyError:
        owner = "UNKNOWN"
    try:
        group_name = grp.getgrgid(st.st_gid).gr_name
    except KeyError:
        group_name = "UNKNOWN"
    state["certificates"].append("%s %s %s %s %o" % (name, digest, owner, group_name, st.st_mode & 0o7777))

# the services' units: active and enabled
show = subprocess.run(["systemctl", "show", "--property=Id,ActiveState,UnitFileState", "--"] + args["units"],
                      capture_output=True, text=True, check=False)
state["units_ready"] = []
for block in show.stdout.split("\n\n"):
    unit = dict(line.split("=", 1) for line in block.strip().splitlines() if "=" in line)
    if unit.get("ActiveState") == "active" and unit.get("UnitFileState") == "enabled":
        state["units_ready"].append(unit["Id"])

# does the API answer?
try:
    with urllib.request.urlopen(args["api_url"], timeout=5) as answer:
        state["api_answers"] = answer.status == 200
except Exception:
    state["api_answers"] = False


# the database schema: the head revision of the installed migrations, and the database's
# (from the [database] connection of octavia.conf, read by root; never printed)
def schema_head(*versions_dir):
    """The head revisions of the alembic migrations in the venv's `versions_dir`."""
    paths = glob.glob(os.path.join(venv, "lib", "python3*", "site-packages", *versions_dir, "*.py"))
    revisions, downs = set(), set()
    for path in paths:
        with open(path) as handle:
            text = handle.read()
        found = re.search(r"^revision\s*=\s*['\"]([^'\"]+)['\"]", text, re.M)
        if found:
            revisions.add(found.group(1))
        down = re.search(r"^down_revision\s*=\s*(.+)$", text, re.M)
        if down:
            downs.update(re.findall(r"['\"]([^'\"]+)['\"]", down.group(1)))
    heads = revisions - downs
    return sorted(heads)


def schema_current(wanted_section, key):
    """The alembic revisions of the database at octavia.conf's [wanted_section] key, or
    None when octavia.conf names none (or not a MySQL one)."""
    import pymysql
    url = None
    section = None
    with open(args["config"]) as handle:
        for line in handle:
            line = line.strip()
            if line.startswith("["):
                section = line.strip("[]")
            elif section == wanted_section and re.match(key + r"\s*=", line):
                url = line.split("=", 1)[1].strip().replace("$$", "$")
    if not url:
        return None
    parts = urllib.parse.urlsplit(url)
    if not parts.scheme.startswith("mysql"):
        return None
    connection = pymysql.connect(host=parts.hostname, port=parts.port or 3306,
                                 user=urllib.parse.unquote(parts.username or ""),
                                 password=urllib.parse.unquote(parts.password or ""),
                                 database=urllib.parse.unquote(parts.path.lstrip("/")), connect_timeout=5)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT version_num FROM alembic_version")
            return sorted(row[0] for row in cursor.fetchall())
    finally:
        connection.close()


state["schema_head"] = None
state["schema_current"] = None
# the jobboard's persistence database ([task_flow] persistence_connection): taskflow's own
# migrations, which `octavia-db-manage upgrade_persistence` applies
state["persistence_head"] = None
state["persistence_current"] = None
if state["venv"] and state["octavia_version"]:
    try:
        state["schema_head"] = schema_head("octavia", "db", "migration", "alembic_migrations", "versions")
        state["schema_current"] = schema_current("database", "connection")
        state["persistence_head"] = schema_head("taskflow", "persistence", "backends", "sqlalchemy", "alembic",
                                                "versions")
        state["persistence_current"] = schema_current("task_flow", "persistence_connection")
    except Exception as exc:     # no answer: the role upgrades the schemas as before
        state["schema_error"] = type(exc).__name__
print(json.dumps(state))
