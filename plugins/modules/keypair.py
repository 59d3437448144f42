#!/usr/bin/python
# Copyright: octavia.lbaas contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Nova SSH keypair: from a given public key, or generated (and kept in a 0600 file)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: keypair
short_description: Manage a Nova SSH keypair (for example the amphora SSH key)
description:
  - Creates, checks or deletes a Nova keypair of a user.
  - The public key comes from O(public_key) or O(public_key_file). Without either, the
    module generates a key pair itself (Nova 2.92 and later no longer generate keys) and
    needs O(private_key_file); the private key is written there, atomically and with mode
    0600, before Nova gets the public key, and read again on later runs, so a re-run
    changes nothing. The private key is never part of the result (C(-v) and logs would
    show it).
  - Nova keypairs cannot be changed. When the keypair exists with another public key the
    module fails, unless O(replace=true) (servers built with the old key keep it). A
    replacement deletes the old keypair only once the new private key is in
    O(private_key_file); if the create then fails, the file stays and the next run creates
    the keypair from it.
author: octavia.lbaas maintainers (@octavia-lbaas)
version_added: 0.1.0
extends_documentation_fragment: [octavia.lbaas.cloud]
options:
  name:
    description: Name of the keypair (unique per user).
    type: str
    required: true
  state:
    description: Whether the keypair exists.
    type: str
    choices: [present, absent]
    default: present
  public_key:
    description: The public key, in OpenSSH format (C(ssh-ed25519 AAAA... comment)).
    type: str
  public_key_file:
    description: File on the host running the module that holds the public key.
    type: path
  private_key_file:
    description:
      - When neither O(public_key) nor O(public_key_file) is given, the private key is read
        from this file if it exists, else generated and written there (mode 0600, not in
        check mode); the keypair gets its public key.
    type: path
  key_algorithm:
    description: Algorithm of a generated key.
    type: str
    choices: [ed25519, rsa]
    default: ed25519
  user:
    description:
      - Owner of the keypair (ID, or name inside O(user_domain)); needs the admin role.
        Octavia boots amphorae as its service user, so C(amp_ssh_key_name) must name a
        keypair of that user. Default is the authenticated user.
    type: str
  user_domain:
    description: Domain (name or ID) in which the name O(user) is looked up.
    type: str
    default: Default
  replace:
    description:
      - Delete and create the keypair again when it exists with another public key.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Amphora SSH keypair of the octavia user, private key kept on the deploy host
  octavia.lbaas.keypair:
    cloud: mycloud
    name: amphora-ssh
    user: octavia
    private_key_file: /etc/octavia-deploy/secrets/amphora_ssh_key

- name: Keypair from an existing public key
  octavia.lbaas.keypair:
    cloud: mycloud
    name: operator
    public_key_file: ~/.ssh/id_ed25519.pub
"""

RETURN = r"""
keypair:
  description: The keypair (without any private key).
  returned: when O(state=present)
  type: dict
  contains:
    name:
      description: Name.
      type: str
      sample: amphora-ssh
    public_key:
      description: Public key in OpenSSH format.
      type: str
      sample: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI... amphora-ssh
    fingerprint:
      description: Fingerprint Nova computed (null in check mode when it would be created).
      type: str
      sample: "3c:5a:..."
    user_id:
      description: ID of the owning user (null for the authenticated user when Nova does not say).
      type: str
      sample: 9f8e7d6c5b4a39281706f5e4d3c2b1a0
private_key_file:
  description: The file holding the generated private key, when O(private_key_file) is used.
  returned: when O(private_key_file) is used
  type: str
  sample: /etc/octavia-deploy/secrets/amphora_ssh_key
"""

import os
import tempfile

from ansible_collections.octavia.lbaas.plugins.module_utils.cloud import STATE_OPTION, CloudModule, ModuleError, sdk_exceptions
from ansible_collections.octavia.lbaas.plugins.module_utils.identity_lookup import find_user_id

try:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
    HAS_CRYPTOGRAPHY = True
except ImportError:  # pragma: no cover - reported by the module
    HAS_CRYPTOGRAPHY = False

KEY_TYPES = ("ssh-rsa", "ssh-ed25519", "ssh-dss", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
             "ecdsa-sha2-nistp521", "sk-ssh-ed25519@openssh.com",
             "sk-ecdsa-sha2-nistp256@openssh.com")


def key_body(public_key):
    """'type base64' of an OpenSSH public key: what identifies it (comments differ)."""
    return " ".join((public_key or "").split()[:2])


def public_of(private_key):
    return private_key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()


class Keypair(CloudModule):
    argument_spec = dict(
        name=dict(type="str", required=True),
        public_key=dict(type="str"),
        public_key_file=dict(type="path"),
        private_key_file=dict(type="path", no_log=False),
        key_algorithm=dict(type="str", default="ed25519", choices=["ed25519", "rsa"]),
        user=dict(type="str"),
        user_domain=dict(type="str", default="Default"),
        replace=dict(type="bool", default=False),
        state=dict(STATE_OPTION),
    )
    module_kwargs = dict(mutually_exclusive=[("public_key", "public_key_file", "private_key_file")])

    def validate(self):
        p = self.params
        self.wanted_public = None
        if not p["name"].strip():
            raise ModuleError("name: must not be empty")
        if p["state"] == "absent":
            return
        if p["public_key_file"]:
            try:
                with open(p["public_key_file"], encoding="utf-8") as handle:
                    self.wanted_public = handle.read().strip()
            except OSError as exc:
                raise ModuleError("public_key_file: cannot read %s: %s"
                                  % (p["public_key_file"], exc.strerror)) from exc
            self.check_public(self.wanted_public, "public_key_file")
        elif p["public_key"]:
            self.wanted_public = p["public_key"].strip()
            self.check_public(self.wanted_public, "public_key")
        else:
            if not p["private_key_file"]:
                raise ModuleError("private_key_file: needed to generate a key (or give public_key / "
                                  "public_key_file); the private key is never returned in the result")
            if not HAS_CRYPTOGRAPHY:
                raise ModuleError("Generating a key needs the python library cryptography "
                                  "(or give public_key / public_key_file)")
            path = p["private_key_file"]
            if path and os.path.exists(path):
                self.wanted_public = self.read_private(path)

    @staticmethod
    def check_public(text, option):
        parts = text.split()
        if len(parts) < 2 or parts[0] not in KEY_TYPES:
            raise ModuleError("%s: not an OpenSSH public key (expected '<type> <base64> "
                              "[comment]' with type one of %s)" % (option, ", ".join(KEY_TYPES)))

    def read_private(self, path):
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError as exc:
            raise ModuleError("private_key_file: cannot read %s: %s" % (path, exc.strerror)) from exc
        try:
            key = serialization.load_ssh_private_key(data, password=None)
        except (ValueError, TypeError):
            try:
                key = serialization.load_pem_private_key(data, password=None)
            except (ValueError, TypeError) as exc:
                raise ModuleError("private_key_file: %s is not an unencrypted OpenSSH or PEM "
                                  "private key (%s)" % (path, exc)) from exc
        return "%s %s" % (public_of(key), self.params["name"])

    def generate(self):
        if self.params["key_algorithm"] == "rsa":
            key = rsa.generate_private_key(public_exponent=65537, key_size=4096)
        else:
            key = ed25519.Ed25519PrivateKey.generate()
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                serialization.NoEncryption()).decode()
        self.ansible.no_log_values.add(pem)   # never in a result or an error message
        return pem, "%s %s" % (public_of(key), self.params["name"])

    def save_private(self, path, pem):
        """Write the key to a 0600 temporary file next to `path`, flush it to disk, then
        link it into place: `path` holds the whole key or does not exist, and an existing
        file is never overwritten."""
        directory = os.path.dirname(path) or "."
        if not os.path.isdir(directory):
            os.makedirs(directory, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), dir=directory)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(pem)
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise ModuleError("private_key_file: %s appeared while the key was generated; "
                                  "not overwritten" % path) from None
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    # -- the flow ----------------------------------------------------------------------
    def run(self):
        p = self.params
        user_id = find_user_id(self.conn, p["user"], p["user_domain"], "user") if p["user"] else None
        try:
            current = self.conn.compute.get_keypair(p["name"], user_id=user_id)
        except sdk_exceptions.NotFoundException:
            current = None
        self.before = self.describe(current, user_id) if current else {}
        result = {}
        if p["private_key_file"]:
            result["private_key_file"] = p["private_key_file"]
        if p["state"] == "absent":
            if current:
                self.write("delete keypair %s" % p["name"], self.conn.compute.delete_keypair,
                           p["name"], ignore_missing=True, user_id=user_id)
            self.exit(**result)
            return

        pem = None
        if self.wanted_public is None and (p["private_key_file"] or not current):
            pem, self.wanted_public = self.generate()
        if current and self.wanted_public is None:
            # Generated before and returned once: nothing to compare with.
            self.after = self.before
            self.exit(keypair=self.before, **result)
            return
        if current and key_body(current.public_key) == key_body(self.wanted_public):
            self.after = self.before
            self.exit(keypair=self.before, **result)
            return
        if current and not p["replace"] and pem:
            raise ModuleError(
                "Keypair %r exists but private_key_file %s does not: its private key is kept "
                "elsewhere. Restore the file, or set replace: true to generate a new key and "
                "replace the keypair" % (p["name"], p["private_key_file"]))
        if current and not p["replace"]:
            raise ModuleError(
                "Keypair %r exists with another public key (fingerprint %s); Nova cannot change "
                "it. Set replace: true to delete and create it again, or delete it first"
                % (p["name"], current.fingerprint))

        # The new private key is on disk before anything is deleted: Nova names are unique,
        # so a replacement has to delete the old keypair before it creates the new one,
        # and a create that fails then leaves the file for the next run to create it from.
        if pem and not self.check_mode:
            self.save_private(p["private_key_file"], pem)
        if current:
            self.write("delete keypair %s (replace)" % p["name"], self.conn.compute.delete_keypair,
                       p["name"], ignore_missing=False, user_id=user_id)
        attrs = dict(name=p["name"], public_key=self.wanted_public, type="ssh")
        if user_id:
            attrs["user_id"] = user_id
        try:
            created = self.write("create keypair %s" % p["name"], self.conn.compute.create_keypair,
                                 **attrs)
        except Exception as exc:
            if current:
                raise ModuleError("Keypair %r was deleted for its replacement, but the create failed (%s); "
                                  "the new public key is kept (%s) and the next run creates the keypair from it"
                                  % (p["name"], exc, p["private_key_file"] or "public_key")) from exc
            raise
        if created is None:
            keypair = dict(name=p["name"], public_key=self.wanted_public, fingerprint=None,
                           user_id=user_id)
        else:
            keypair = self.describe(created, user_id)
        self.after = keypair
        self.exit(keypair=keypair, **result)

    @staticmethod
    def describe(keypair, user_id):
        return dict(name=keypair.name, public_key=(keypair.public_key or "").strip(),
                    fingerprint=keypair.fingerprint, user_id=keypair.user_id or user_id)


def main():
    Keypair()()


if __name__ == "__main__":
    main()
