# Copyright: octavia.lbaas contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Connection, wait and check-mode options shared by every octavia.lbaas module."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  cloud:
    description:
      - Name of a cloud in C(clouds.yaml) (found through E(OS_CLIENT_CONFIG_FILE) or
        the usual openstacksdk locations), or a dict of the same settings.
      - When neither O(cloud) nor O(auth) is given, openstacksdk reads E(OS_*) variables.
    type: raw
  auth:
    description:
      - Authentication settings (C(auth_url), C(username), C(password), C(project_name),
        C(user_domain_name), C(project_domain_name), ...), as in C(clouds.yaml).
    type: dict
  auth_type:
    description: Keystone authentication plugin, for example C(password) or C(v3applicationcredential).
    type: str
  region_name:
    description: Region to use.
    type: str
  interface:
    description: Endpoint interface of the service catalog.
    type: str
    choices: [public, internal, admin]
    default: public
    aliases: [endpoint_type]
  validate_certs:
    description: Verify the TLS certificates of the APIs. Defaults to what C(clouds.yaml) says, else true.
    type: bool
    aliases: [verify]
  ca_cert:
    description: CA bundle that signs the APIs' certificates.
    type: path
    aliases: [cacert]
  client_cert:
    description: Client certificate for APIs that require one.
    type: path
    aliases: [cert]
  client_key:
    description: Key of O(client_cert).
    type: path
    aliases: [key]
  api_timeout:
    description: Timeout of each API call, in seconds (above 0).
    type: int
requirements:
  - python >= 3.10
  - openstacksdk >= 3.0.0, < 5.0.0
"""

    WAIT = r"""
options:
  wait:
    description:
      - Wait until the object (and its load balancer) leaves every C(PENDING_*) state.
    type: bool
    default: true
  timeout:
    description:
      - How long to wait, in seconds, for every wait of this task together.
        ACTIVE_STANDBY builds need more than SINGLE ones.
      - Must be above 0; V(0) or a negative number fails the task before any API call.
    type: int
    default: 600
"""
