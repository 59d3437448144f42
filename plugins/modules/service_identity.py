#!/usr/bin/python
# Copyright: octavia.lbaas contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""A service's whole keystone footprint: user, role grants, service, endpoints, roles."""

from __future__ import annotations

DOCUMENTATION = r"""
module: service_identity
short_description: Keystone user, roles, service and endpoints of an OpenStack service
version_added: 0.1.0
description:
  - Makes sure a service user exists in a project with the given roles, that the service
    and its public, internal and admin endpoints are in the catalog with the given URLs,
    and that extra roles (for example Octavia's C(load-balancer_*) policy roles) exist.
  - The password is checked by authenticating as the user; it is reset only when it does
    not work, so a second run makes no write.
author: octavia.lbaas maintainers (@octavia-lbaas)
extends_documentation_fragment:
  - octavia.lbaas.cloud
options:
  user:
    description: Service user name.
    type: str
    required: true
  password:
    description: Password of O(user), set again when Keystone refuses a login with it (401).
    type: str
    required: true
  domain:
    description: Domain of the user and the project.
    type: str
    default: default
  project:
    description: Project the user gets its roles in (it must exist).
    type: str
    default: service
  roles:
    description: Roles granted to the user in O(project).
    type: list
    elements: str
    default: [admin, service]
  service_name:
    description: Name of the service in the catalog.
    type: str
    required: true
  service_type:
    description: Type of the service in the catalog.
    type: str
    required: true
  description:
    description: Description of the service.
    type: str
  region:
    description: Region of the endpoints.
    type: str
    required: true
  endpoints:
    description: URL per interface. Interfaces not given are left alone.
    type: dict
    required: true
    suboptions:
      public:
        description: Public URL.
        type: str
      internal:
        description: Internal URL.
        type: str
      admin:
        description: Admin URL.
        type: str
  extra_roles:
    description: Roles that must exist (not granted to anyone by this module).
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Register Octavia in keystone
  octavia.lbaas.service_identity:
    cloud: mycloud
    user: octavia
    password: "{{ octavia_keystone_password }}"
    service_name: octavia
    service_type: load-balancer
    region: RegionOne
    endpoints:
      public: https://lb.example.com:9876
      internal: http://10.0.0.10:9876
      admin: http://10.0.0.10:9876
    extra_roles: [load-balancer_observer, load-balancer_member, load-balancer_admin]
"""

RETURN = r"""
user_id:
  description: Id of the service user.
  returned: success, not in check mode for a new user
  type: str
service_id:
  description: Id of the service.
  returned: success, not in check mode for a new service
  type: str
endpoints:
  description: Interface to URL, as now in the catalog.
  returned: success
  type: dict
catalog_service_types:
  description: Types of the enabled services that have an endpoint in O(region) (for example C(key-manager)).
  returned: success
  type: list
  elements: str
  sample: [compute, identity, image, load-balancer, network, placement]
changes:
  description: What the task changed (or would change in check mode).
  returned: always
  type: list
  elements: str
"""

from ansible_collections.octavia.lbaas.plugins.module_utils.cloud import CloudModule, ModuleError, sdk_exceptions
from ansible_collections.octavia.lbaas.plugins.module_utils.identity_lookup import find_domain_id, find_project_id

INTERFACES = ("public", "internal", "admin")


def refused_login(exc):
    """Keystone refused the credentials (HTTP 401), as opposed to any other failure."""
    status = getattr(exc, "status_code", None)
    if status is None and getattr(exc, "response", None) is not None:
        status = getattr(exc.response, "status_code", None)
    cause = getattr(exc, "__cause__", None)
    return status == 401 or getattr(cause, "http_status", None) == 401 or "(HTTP 401)" in str(exc)


class ServiceIdentity(CloudModule):
    argument_spec = dict(
        user=dict(type="str", required=True),
        password=dict(type="str", required=True, no_log=True),
        domain=dict(type="str", default="default"),
        project=dict(type="str", default="service"),
        roles=dict(type="list", elements="str", default=["admin", "service"]),
        service_name=dict(type="str", required=True),
        service_type=dict(type="str", required=True),
        description=dict(type="str"),
        region=dict(type="str", required=True),
        endpoints=dict(type="dict", required=True, options=dict(
            public=dict(type="str"), internal=dict(type="str"), admin=dict(type="str"))),
        extra_roles=dict(type="list", elements="str", default=[]),
    )

    def validate(self):
        urls = {k: v for k, v in self.params["endpoints"].items() if v}
        if not urls:
            raise ModuleError("endpoints: give at least one of public, internal, admin")
        for interface, url in urls.items():
            if not url.startswith(("http://", "https://")):
                raise ModuleError("endpoints.%s: %r is not an http(s) URL" % (interface, url))

    def run(self):
        p = self.params
        ident = self.conn.identity
        domain_id = find_domain_id(self.conn, p["domain"], "domain")
        project_id = find_project_id(self.conn, p["project"], p["domain"], "project")

        roles = {}
        for name in sorted(set(p["roles"]) | set(p["extra_roles"])):
            role = ident.find_role(name, ignore_missing=True)
            if role is None:
                role = self.write("create role " + name, ident.create_role, name=name)
            roles[name] = role

        user = self._user(ident, domain_id, project_id)
        for name in p["roles"]:
            role = roles[name]
            if user is None or role is None or not ident.validate_user_has_project_role(project_id, user, role):
                self.write("grant %s to %s on %s" % (name, p["user"], p["project"]),
                           ident.assign_project_role_to_user, project_id, user, role)

        service, endpoints = self._service(ident)
        self.exit(user_id=getattr(user, "id", None), service_id=getattr(service, "id", None),
                  endpoints=endpoints, catalog_service_types=self._catalog_types(ident), changes=self.writes)

    def _catalog_types(self, ident):
        """Types of the enabled services with an endpoint in the region (what Octavia may
        rely on: a key-manager for TLS certificates, ...)."""
        types = {s.id: s.type for s in ident.services() if s.is_enabled}
        region = self.params["region"]
        return sorted({types[e.service_id] for e in ident.endpoints()
                       if e.service_id in types and e.region_id in (None, "", region)})

    def _user(self, ident, domain_id, project_id):
        p = self.params
        user = ident.find_user(p["user"], domain_id=domain_id, ignore_missing=True)
        self.before["user"] = None if user is None else {"name": user.name, "password": "(set)"}
        self.after["user"] = {"name": p["user"], "password": "(set)"}
        if user is None:
            return self.write("create user " + p["user"], ident.create_user, name=p["user"],
                              password=p["password"], domain_id=domain_id,
                              default_project_id=project_id)
        if not self._password_works(domain_id, project_id):
            self.before["user"]["password"] = "(different)"
            self.write("reset the password of " + p["user"], ident.update_user, user,
                       password=p["password"])
        return user

    def _password_works(self, domain_id, project_id):
        """Log in as the user with the wanted password, over the same TLS settings as the
        task's own connection (CA bundle, client certificate, insecure). Only Keystone's
        401 means "another password"; any other failure (TLS, network) fails the task
        instead of resetting a password that may well be right."""
        import openstack  # pylint: disable=import-outside-toplevel
        p = self.params
        auth_url = self.conn.config.get_auth_args().get("auth_url")
        verify, cert = self.conn.config.get_requests_verify_args()
        tls = {"verify": verify}
        if isinstance(cert, tuple):
            tls["cert"], tls["key"] = cert
        elif cert:
            tls["cert"] = cert
        try:
            conn = openstack.connect(
                auth=dict(auth_url=auth_url, username=p["user"], password=p["password"],
                          user_domain_id=domain_id, project_id=project_id),
                auth_type="password", region_name=p["region"], **tls)
            conn.authorize()
            return True
        except sdk_exceptions.SDKException as exc:
            if refused_login(exc):
                return False
            raise ModuleError("Could not check the password of %s against %s: %s" % (p["user"], auth_url, exc)) from exc

    def _service(self, ident):
        p = self.params
        service = next((s for s in ident.services(type=p["service_type"]) if s.name == p["service_name"]), None)
        wanted = {k: v for k, v in p["endpoints"].items() if v}
        self.after["service"] = dict(name=p["service_name"], type=p["service_type"], endpoints=wanted)
        if service is None:
            self.before["service"] = None
            service = self.write("create service %s (%s)" % (p["service_name"], p["service_type"]),
                                 ident.create_service, name=p["service_name"], type=p["service_type"],
                                 description=p["description"], is_enabled=True)
            current = {}
        else:
            if p["description"] is not None and service.description != p["description"]:
                self.write("update the description of " + p["service_name"], ident.update_service,
                           service, description=p["description"])
            current = {e.interface: e for e in ident.endpoints(service_id=service.id)
                       if e.region_id == p["region"]}
            self.before["service"] = dict(name=service.name, type=service.type,
                                          endpoints={i: e.url for i, e in current.items()})
        for interface in INTERFACES:
            url = wanted.get(interface)
            if not url:
                continue
            endpoint = current.get(interface)
            if endpoint is None:
                self.write("create the %s endpoint %s" % (interface, url), ident.create_endpoint,
                           service_id=getattr(service, "id", None), interface=interface, url=url,
                           region_id=p["region"], is_enabled=True)
            elif endpoint.url != url:
                self.write("move the %s endpoint to %s" % (interface, url), ident.update_endpoint,
                           endpoint, url=url)
        result = {i: e.url for i, e in current.items()}
        result.update(wanted)
        return service, result


def main():
    ServiceIdentity()()


if __name__ == "__main__":
    main()
