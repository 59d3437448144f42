"""identity role: Octavia's user, grants, service, endpoints and policy roles."""

from __future__ import annotations

import openstack


def test_user_has_admin_and_service_in_service_project(cloud, outputs):
    user = cloud.identity.find_user("molecule-octavia")
    assert user is not None and user.id == outputs["identity_user_id"]
    project = cloud.identity.find_project("service")
    granted = {a.role["id"] for a in cloud.identity.role_assignments(user_id=user.id, scope_project_id=project.id)}
    names = {cloud.identity.get_role(r).name for r in granted}
    assert {"admin", "service"} <= names


def test_password_works(cloud, outputs, testbed):
    auth = cloud.config.get_auth_args()
    conn = openstack.connect(auth=dict(auth_url=auth["auth_url"], username="molecule-octavia",
                                       password=outputs["identity_password"], project_name="service",
                                       user_domain_name="Default", project_domain_name="Default"),
                             region_name=testbed["testbed_region"])
    assert conn.authorize()


def test_service_and_three_endpoints(cloud, outputs):
    service = cloud.identity.get_service(outputs["identity_service_id"])
    assert service.type == "molecule-load-balancer" and service.name == "molecule-octavia"
    endpoints = {e.interface: e.url for e in cloud.identity.endpoints(service_id=service.id)}
    assert endpoints == {"public": "http://192.0.2.10:9876", "internal": "http://192.0.2.10:9876",
                         "admin": "http://192.0.2.10:9876"}
    assert outputs["identity_endpoints"] == endpoints


def test_the_roles_of_the_default_policy_exist(cloud):
    # keystone_default_roles (the default policy mode) checks keystone's reader and member
    for name in ("member", "reader"):
        assert cloud.identity.find_role(name) is not None, name


def test_the_catalog_types_are_published(outputs):
    # the controllers choose their cert_manager from them: the test cloud has Barbican
    # (key-manager), so auto means barbican_cert_manager there
    types = outputs["identity_catalog_service_types"]
    assert {"identity", "network", "compute", "image", "key-manager"} <= set(types)
