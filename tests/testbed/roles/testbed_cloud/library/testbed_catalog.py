# Copyright: octavia.lbaas contributors
# Apache License 2.0 (see LICENSE)
"""Test bed only: make keystone look like a real cloud's (service project, users, catalog)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: testbed_catalog
short_description: Service project, service users and catalog entries of the test cloud
description:
  - Used only by the octavia.lbaas test bed. Runs inside the cloud container with the
    OpenStack venv's Python (it needs openstacksdk).
options:
  auth:
    description: Admin credentials (openstacksdk auth dict).
    type: dict
    required: true
  region:
    description: Region of the endpoints.
    type: str
    required: true
  users:
    description: Users of the service project (name, password, roles).
    type: list
    elements: dict
    required: true
  services:
    description: Services (name, type, url) with one URL for all three interfaces.
    type: list
    elements: dict
    required: true
author: octavia.lbaas maintainers (@octavia-lbaas)
"""

from ansible.module_utils.basic import AnsibleModule

INTERFACES = ("public", "internal", "admin")


def ensure(module, changes, find, create, what):
    found = find()
    if found is not None:
        return found
    changes.append("create " + what)
    if module.check_mode:
        return None
    return create()


def main():
    module = AnsibleModule(
        argument_spec=dict(
            auth=dict(type="dict", required=True, no_log=True),
            region=dict(type="str", required=True),
            users=dict(type="list", elements="dict", required=True, no_log=True),
            services=dict(type="list", elements="dict", required=True),
        ),
        supports_check_mode=True,
    )
    import openstack  # pylint: disable=import-outside-toplevel

    params = module.params
    conn = openstack.connect(auth=params["auth"], region_name=params["region"],
                             identity_api_version="3")
    ident = conn.identity
    changes = []
    domain = ident.find_domain("default", ignore_missing=False)

    project = ensure(module, changes,
                     lambda: ident.find_project("service", domain_id=domain.id),
                     lambda: ident.create_project(name="service", domain_id=domain.id,
                                                  description="Service users"),
                     "project service")
    role_names = sorted({r for u in params["users"] for r in u.get("roles", [])})
    roles = {}
    for name in role_names:
        roles[name] = ensure(module, changes, lambda n=name: ident.find_role(n),
                             lambda n=name: ident.create_role(name=n), "role " + name)

    for spec in params["users"]:
        name = spec["name"]
        user = ident.find_user(name, domain_id=domain.id)
        if user is None:
            changes.append("create user " + name)
            if not module.check_mode:
                user = ident.create_user(name=name, password=spec["password"],
                                         domain_id=domain.id,
                                         default_project_id=project.id)
        elif not password_works(conn, name, spec["password"], params):
            changes.append("reset password of " + name)
            if not module.check_mode:
                ident.update_user(user, password=spec["password"])
        for role_name in spec.get("roles", []):
            role = roles[role_name]
            if user is None or project is None or role is None:
                changes.append("grant %s to %s" % (role_name, name))
                continue
            if not ident.validate_user_has_project_role(project, user, role):
                changes.append("grant %s to %s" % (role_name, name))
                if not module.check_mode:
                    ident.assign_project_role_to_user(project, user, role)

    for spec in params["services"]:
        service = ident.find_service(spec["name"])
        if service is None:
            changes.append("create service " + spec["name"])
            if module.check_mode:
                continue
            service = ident.create_service(name=spec["name"], type=spec["type"],
                                           enabled=True)
        endpoints = ident.endpoints(service_id=service.id, region_id=params["region"])
        current = {e.interface: e for e in endpoints}
        for interface in INTERFACES:
            endpoint = current.get(interface)
            if endpoint is None:
                changes.append("create %s endpoint of %s" % (interface, spec["name"]))
                if not module.check_mode:
                    ident.create_endpoint(service_id=service.id, interface=interface,
                                          url=spec["url"], region_id=params["region"])
            elif endpoint.url != spec["url"]:
                changes.append("update %s endpoint of %s" % (interface, spec["name"]))
                if not module.check_mode:
                    ident.update_endpoint(endpoint, url=spec["url"])

    module.exit_json(changed=bool(changes), changes=changes)


def password_works(conn, name, password, params):
    import openstack  # pylint: disable=import-outside-toplevel
    auth = dict(params["auth"], username=name, password=password, project_name="service")
    try:
        openstack.connect(auth=auth, region_name=params["region"]).authorize()
    except openstack.exceptions.SDKException:
        return False
    return True


if __name__ == "__main__":
    main()
