# Copyright: octavia.lbaas contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Resolve Keystone projects and users given by ID or by name inside their domain.

Names are only unique inside a domain, so a name is always looked up in one domain
(given by name or ID); an ID is taken as it is once Keystone confirms it exists."""

from __future__ import annotations

import re

from ansible_collections.octavia.lbaas.plugins.module_utils.cloud import ModuleError

try:
    from openstack import exceptions as sdk_exceptions
except ImportError:  # pragma: no cover - reported by the module
    sdk_exceptions = None

ID_LIKE = re.compile(r"^[0-9a-f]{32}$")


def find_domain_id(conn, domain, option):
    """The ID of `domain` (name or ID); ModuleError naming `option` when unknown."""
    try:
        found = conn.identity.find_domain(domain, ignore_missing=True)
    except sdk_exceptions.ForbiddenException as exc:
        raise ModuleError("%s: not allowed to read domain %r (%s)" % (option, domain, exc)) from exc
    if found is None:
        raise ModuleError("%s: domain %r does not exist" % (option, domain))
    return found.id


def _by_id_or_name(conn, value, domain, option, kind, get, listing):
    def by_id():
        try:
            return get(value).id
        except (sdk_exceptions.NotFoundException, sdk_exceptions.ForbiddenException):
            return None

    # Keystone's own IDs are 32 hex digits: try those as an ID first, anything else as a
    # name first (an ID from an external backend, such as LDAP, still works).
    if ID_LIKE.match(value):
        found = by_id()
        if found:
            return found
    domain_id = find_domain_id(conn, domain, option)
    matches = list(listing(name=value, domain_id=domain_id))
    if len(matches) > 1:  # pragma: no cover - Keystone keeps names unique per domain
        raise ModuleError("%s: several %ss are named %r in domain %r"
                          % (option, kind, value, domain))
    if matches:
        return matches[0].id
    found = None if ID_LIKE.match(value) else by_id()
    if found:
        return found
    raise ModuleError("%s: %s %r does not exist (as an ID, or as a name in domain %r)"
                      % (option, kind, value, domain))


def resolve_project(conn, project, option="project"):
    """The ID of `project` (name or ID, looked up as Keystone's find_project does), or of the
    project the credentials are scoped to when it is not given: the project whose names a
    module looks up. ModuleError naming `option` when unknown, or when nothing is given and
    the credentials are not scoped to a project."""
    own = getattr(conn, "current_project_id", None)
    if not project:
        if not own:
            raise ModuleError("Cannot tell which project the credentials are scoped to; give %s" % option)
        return own
    if project == own:
        return own
    try:
        found = conn.identity.find_project(project, ignore_missing=True)
    except Exception as exc:  # pylint: disable=broad-except
        raise ModuleError("%s: cannot look up %s (%s); give the project's ID" % (option, project, exc)) from None
    if found is None:
        raise ModuleError("%s: %s not found" % (option, project))
    return found.id


def find_project_id(conn, project, domain, option):
    """ID of the project `project` (ID, or name inside `domain`)."""
    return _by_id_or_name(conn, project, domain, option, "project",
                          conn.identity.get_project, conn.identity.projects)


def find_user_id(conn, user, domain, option):
    """ID of the user `user` (ID, or name inside `domain`)."""
    return _by_id_or_name(conn, user, domain, option, "user",
                          conn.identity.get_user, conn.identity.users)
