#!/usr/bin/python
# Copyright: octavia.lbaas contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""A RabbitMQ vhost, user and permissions through the management HTTP API."""

from __future__ import annotations

DOCUMENTATION = r"""
module: rabbitmq_account
short_description: A RabbitMQ virtual host, a user and its permissions, over the management API
version_added: 0.1.0
description:
  - Works from any host that reaches the broker's management API (the deploy host), unlike
    tools that need C(rabbitmqctl) on the broker itself.
  - The password is compared with the broker's salted hash, so a second run makes no
    write and a changed password is set again.
author: octavia.lbaas maintainers (@octavia-lbaas)
options:
  api_url:
    description: Management API base URL, for example C(http://10.0.0.5:15672).
    type: str
    required: true
  login_user:
    description: An administrator of the broker.
    type: str
    required: true
  login_password:
    description: Its password.
    type: str
    required: true
  validate_certs:
    description: Verify the API's TLS certificate.
    type: bool
    default: true
  ca_path:
    description:
      - CA bundle (PEM) that signs the management API's certificate, for an V(https://) O(api_url) with a
        private CA. The system's CAs are used when not given.
    type: path
  vhost:
    description: Virtual host (created when missing).
    type: str
    required: true
  user:
    description: User to manage.
    type: str
    required: true
  password:
    description: Password of O(user), set again when the broker's salted hash of it differs.
    type: str
    required: true
  tags:
    description: User tags (for example C(monitoring)); a service user needs none.
    type: list
    elements: str
    default: []
  configure_priv:
    description: Configure permission regex on O(vhost).
    type: str
    default: .*
  write_priv:
    description: Write permission regex on O(vhost).
    type: str
    default: .*
  read_priv:
    description: Read permission regex on O(vhost).
    type: str
    default: .*
  state:
    description: C(absent) removes the user (the vhost stays).
    type: str
    choices: [present, absent]
    default: present
"""

EXAMPLES = r"""
- name: Octavia's vhost and user
  octavia.lbaas.rabbitmq_account:
    api_url: http://10.0.0.5:15672
    login_user: admin
    login_password: "{{ rabbit_admin_password }}"
    vhost: octavia
    user: octavia
    password: "{{ octavia_rabbit_password }}"
"""

RETURN = r"""
changes:
  description: What the task changed (or would change in check mode).
  returned: always
  type: list
  elements: str
"""

import base64
import hashlib
import json
from urllib.parse import quote

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.urls import fetch_url

HASHES = {
    "rabbit_password_hashing_sha256": hashlib.sha256,
    "rabbit_password_hashing_sha512": hashlib.sha512,
    "rabbit_password_hashing_md5": hashlib.md5,
}


def password_matches(password, password_hash, algorithm):
    """RabbitMQ stores base64(salt[4] + H(salt[4] + password))."""
    hasher = HASHES.get(algorithm)
    if not hasher or not password_hash:
        return False
    raw = base64.b64decode(password_hash)
    salt, digest = raw[:4], raw[4:]
    return hasher(salt + password.encode("utf-8")).digest() == digest


class Broker:
    def __init__(self, module):
        self.module = module
        self.base = module.params["api_url"].rstrip("/") + "/api"
        module.params["url_username"] = module.params["login_user"]
        module.params["url_password"] = module.params["login_password"]
        module.params["force_basic_auth"] = True

    def call(self, method, path, body=None, ok=(200, 201, 204)):
        resp, info = fetch_url(self.module, self.base + path, method=method,
                               data=json.dumps(body) if body is not None else None,
                               headers={"Content-Type": "application/json"}, timeout=30,
                               ca_path=self.module.params.get("ca_path"))
        status = info.get("status", -1)
        if status == 404 and method == "GET":
            return None
        if status not in ok:
            detail = info.get("body") or info.get("msg")
            self.module.fail_json(msg="RabbitMQ API %s %s failed: HTTP %s %s"
                                  % (method, path, status, detail))
        text = resp.read() if resp else b""
        return json.loads(text) if text else {}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            api_url=dict(type="str", required=True),
            login_user=dict(type="str", required=True),
            login_password=dict(type="str", required=True, no_log=True),
            validate_certs=dict(type="bool", default=True),
            ca_path=dict(type="path"),
            vhost=dict(type="str", required=True),
            user=dict(type="str", required=True),
            password=dict(type="str", required=True, no_log=True),
            tags=dict(type="list", elements="str", default=[]),
            configure_priv=dict(type="str", default=".*"),
            write_priv=dict(type="str", default=".*"),
            read_priv=dict(type="str", default=".*"),
            state=dict(type="str", default="present", choices=["present", "absent"]),
        ),
        supports_check_mode=True,
    )
    p = module.params
    if not p["api_url"].startswith(("http://", "https://")):
        module.fail_json(msg="api_url: %r is not an http(s) URL" % p["api_url"])
    broker = Broker(module)
    vhost, user = quote(p["vhost"], safe=""), quote(p["user"], safe="")
    changes = []

    def write(what, method, path, body=None):
        changes.append(what)
        if not module.check_mode:
            broker.call(method, path, body)

    current = broker.call("GET", "/users/" + user)
    if p["state"] == "absent":
        if current is not None:
            write("delete user " + p["user"], "DELETE", "/users/" + user)
        module.exit_json(changed=bool(changes), changes=changes)

    if broker.call("GET", "/vhosts/" + vhost) is None:
        write("create vhost " + p["vhost"], "PUT", "/vhosts/" + vhost, {})

    tags = sorted(p["tags"])
    if current is None:
        write("create user " + p["user"], "PUT", "/users/" + user,
              {"password": p["password"], "tags": ",".join(tags)})
    else:
        have_tags = current.get("tags") or []
        if isinstance(have_tags, str):
            have_tags = [t for t in have_tags.split(",") if t]
        if sorted(have_tags) != tags or not password_matches(
                p["password"], current.get("password_hash"), current.get("hashing_algorithm")):
            write("update user " + p["user"], "PUT", "/users/" + user,
                  {"password": p["password"], "tags": ",".join(tags)})

    wanted = {"configure": p["configure_priv"], "write": p["write_priv"], "read": p["read_priv"]}
    have = broker.call("GET", "/permissions/%s/%s" % (vhost, user)) if current is not None else None
    if have is None or any(have.get(k) != v for k, v in wanted.items()):
        write("set permissions of %s on %s" % (p["user"], p["vhost"]), "PUT",
              "/permissions/%s/%s" % (vhost, user), wanted)

    module.exit_json(changed=bool(changes), changes=changes)


if __name__ == "__main__":
    main()
