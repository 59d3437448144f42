#!/usr/bin/python
# Copyright: octavia.lbaas contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""A small X.509 hierarchy (roots, intermediates, leaves) kept in files, in one run."""

from __future__ import annotations

DOCUMENTATION = r"""
module: pki_certificates
short_description: Create, check and renew a set of keys and X.509 certificates signed by each other
description:
  - Keeps a small PKI in files on the host that runs the module, in one module run and with
    the C(cryptography) library only (no secret ever reaches a command line). Used by the
    role C(octavia.lbaas.pki) for Octavia's dual CA; the role documents the layout.
  - Each entry of O(certificates) is a private key (generated when missing, encrypted when
    it has a O(certificates[].passphrase)) and a certificate, self-signed or signed by an
    earlier entry. The certificate is issued again only when it is missing or unreadable,
    when O(certificates[].renew) or O(certificates[].new_key) asks for it, or when it no
    longer matches its key, subject, extensions or signer. Changed lifetimes alone do not
    issue again.
  - A certificate is never signed by an expired signer, and an existing CA key that cannot
    be decrypted, or does not match the configured algorithm or size, is an error, never a
    silent new CA.
  - O(chains) and O(bundles) are files put together from the certificates (and a key).
  - Idempotent by content; file modes are enforced. In check mode nothing is written.
author: octavia.lbaas maintainers (@octavia-lbaas)
version_added: 0.1.0
requirements:
  - cryptography >= 42.0
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
extends_documentation_fragment: [ansible.builtin.action_common_attributes]
options:
  directories:
    description: Directories created (with parents) before anything else, and their mode.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path of the directory.
        type: path
        required: true
      mode:
        description: Octal mode of the directory, for example C(0755).
        type: str
        default: "0755"
  certificates:
    description:
      - The keys and certificates, a signer always before what it signs.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Unique name of the entry; O(certificates[].signer) refers to it.
        type: str
        required: true
      cert_path:
        description: File of the certificate (PEM, mode 0644).
        type: path
        required: true
      key_path:
        description: File of the private key (PKCS#8 PEM, mode 0600).
        type: path
        required: true
      passphrase:
        description:
          - Passphrase that encrypts the private key. Empty leaves the key unencrypted.
        type: str
        default: ""
      key_type:
        description: Algorithm of the key.
        type: str
        choices: [RSA, ECC]
        default: RSA
      key_size:
        description: Size in bits of an RSA key.
        type: int
        default: 4096
      key_curve:
        description: Curve of an ECC key.
        type: str
        choices: [secp256r1, secp384r1, secp521r1]
        default: secp384r1
      common_name:
        description: Common name (CN) of the subject.
        type: str
        required: true
      organization:
        description: Organization (O) of the subject; empty leaves it out.
        type: str
        default: ""
      ca:
        description:
          - Whether the certificate is a CA (basicConstraints CA:TRUE, keyUsage keyCertSign
            and cRLSign) or a leaf (CA:FALSE, keyUsage digitalSignature, plus
            keyEncipherment for RSA keys).
        type: bool
        default: false
      path_length:
        description: Path length constraint of a CA; ignored for a leaf.
        type: int
      extended_key_usage:
        description: Extended key usages of a leaf.
        type: list
        elements: str
        choices: [clientAuth, serverAuth]
        default: []
      signer:
        description: Name of the earlier entry that signs this one; empty for self-signed.
        type: str
        default: ""
      days:
        description: Lifetime in days of a newly issued certificate.
        type: int
        required: true
      renew:
        description: Issue the certificate again now, with the existing key.
        type: bool
        default: false
      new_key:
        description: Replace the key now, and issue the certificate again.
        type: bool
        default: false
  chains:
    description: Files holding several certificates of O(certificates), in the given order.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: File of the chain (mode 0644).
        type: path
        required: true
      certificates:
        description: Names of the certificates, in order.
        type: list
        elements: str
        required: true
  bundles:
    description: Files holding a certificate followed by its unencrypted key (mode 0600).
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: File of the bundle.
        type: path
        required: true
      certificate:
        description: Name of an entry of O(certificates) whose key is not encrypted.
        type: str
        required: true
"""

EXAMPLES = r"""
- name: A root CA and a client certificate it signs
  octavia.lbaas.pki_certificates:
    directories:
      - {path: /srv/pki, mode: "0700"}
    certificates:
      - name: root
        cert_path: /srv/pki/root.crt
        key_path: /srv/pki/root.key
        passphrase: "{{ root_passphrase }}"
        common_name: Example root CA
        ca: true
        path_length: 0
        days: 3650
      - name: client
        cert_path: /srv/pki/client.crt
        key_path: /srv/pki/client.key
        key_size: 2048
        common_name: example client
        extended_key_usage: [clientAuth]
        signer: root
        days: 730
    bundles:
      - {path: /srv/pki/client.pem, certificate: client}
  no_log: true
"""

RETURN = r"""
certificates:
  description: What happened to each entry of O(certificates), by name.
  returned: always
  type: dict
  sample:
    root: {key: unchanged, certificate: unchanged, not_after: "2035-11-22T03:16:10+00:00"}
    client: {key: created, certificate: created, not_after: "2027-11-22T03:16:10+00:00"}
  contains:
    key:
      description: C(created), C(replaced), C(unchanged), or C(mode) (only the mode was fixed).
      type: str
    certificate:
      description: C(created), C(issued again) (with the reason), C(unchanged), or C(mode).
      type: str
    not_after:
      description: End of validity of the certificate now on disk (ISO 8601); in check
        mode, of the existing one, or null if there is none yet.
      type: str
changed_files:
  description: Every file and directory written or changed (or that would be, in check mode).
  returned: always
  type: list
  elements: str
"""

import datetime
import os
import stat
import tempfile

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.text.converters import to_native

try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    HAS_CRYPTOGRAPHY = True
except ImportError:  # pragma: no cover - reported by the module
    HAS_CRYPTOGRAPHY = False

CURVES = {"secp256r1": "SECP256R1", "secp384r1": "SECP384R1", "secp521r1": "SECP521R1"}
EKU = {"clientAuth": "CLIENT_AUTH", "serverAuth": "SERVER_AUTH"}
BACKDATE = datetime.timedelta(hours=1)   # tolerate clocks slightly behind the deploy host


class PKIError(Exception):
    pass


class PKI:
    def __init__(self, module):
        self.module = module
        self.check = module.check_mode
        self.changed_files = []
        self.entries = {}      # name -> spec
        self.keys = {}         # name -> private key, None in check mode when it would be new
        self.certs = {}        # name -> certificate, None in check mode when it cannot be known
        self.report = {}

    # --- files ------------------------------------------------------------------------
    def _mark(self, path):
        if path not in self.changed_files:
            self.changed_files.append(path)

    def write(self, path, data, mode):
        """Write data (bytes) atomically with mode, if content or mode differ."""
        try:
            with open(path, "rb") as handle:
                current = handle.read()
        except FileNotFoundError:
            current = None
        if current == data:
            return self.ensure_mode(path, mode)
        self._mark(path)
        if self.check:
            return True
        directory = os.path.dirname(path)
        fd, tmp = tempfile.mkstemp(prefix=".pki-", dir=directory)
        try:
            os.fchmod(fd, mode)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        return True

    def ensure_mode(self, path, mode):
        if not os.path.exists(path):
            return False
        if stat.S_IMODE(os.stat(path).st_mode) == mode:
            return False
        self._mark(path)
        if not self.check:
            os.chmod(path, mode)
        return True

    def directory(self, path, mode):
        if os.path.isdir(path):
            self.ensure_mode(path, mode)
            return
        if os.path.exists(path):
            raise PKIError(f"{path} exists and is not a directory")
        self._mark(path)
        if not self.check:
            os.makedirs(path, exist_ok=True)
            os.chmod(path, mode)

    # --- keys -------------------------------------------------------------------------
    @staticmethod
    def new_key(spec):
        if spec["key_type"] == "RSA":
            return rsa.generate_private_key(public_exponent=65537, key_size=spec["key_size"])
        return ec.generate_private_key(getattr(ec, CURVES[spec["key_curve"]])())

    @staticmethod
    def key_mismatch(spec, key):
        if spec["key_type"] == "RSA":
            if not isinstance(key, rsa.RSAPrivateKey):
                return "is not an RSA key"
            if key.key_size != spec["key_size"]:
                return f"is an RSA key of {key.key_size} bits, not {spec['key_size']}"
        else:
            if not isinstance(key, ec.EllipticCurvePrivateKey):
                return "is not an ECC key"
            if key.curve.name != spec["key_curve"]:
                return f"is on curve {key.curve.name}, not {spec['key_curve']}"
        return None

    @staticmethod
    def key_pem(key, passphrase):
        encryption = (serialization.BestAvailableEncryption(passphrase.encode())
                      if passphrase else serialization.NoEncryption())
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 encryption)

    def load_key(self, spec):
        path, passphrase = spec["key_path"], spec["passphrase"]
        with open(path, "rb") as handle:
            data = handle.read()
        try:
            return serialization.load_pem_private_key(
                data, passphrase.encode() if passphrase else None)
        except TypeError as exc:   # encrypted without a passphrase, or the other way round
            raise PKIError(f"cannot load the key {path}: {exc}") from exc
        except ValueError as exc:
            raise PKIError(f"cannot load the key {path}: wrong passphrase, or not a PEM "
                           f"private key ({exc})") from exc

    def ensure_key(self, spec):
        """The key of spec (None in check mode when it would be new), and whether it is new."""
        name, path = spec["name"], spec["key_path"]
        exists = os.path.exists(path)
        if self.check and not os.path.isdir(os.path.dirname(path)):
            exists = False        # its directory would be created first
        elif exists and not spec["new_key"]:
            key = self.load_key(spec)
            mismatch = self.key_mismatch(spec, key)
            if mismatch and spec["ca"]:
                raise PKIError(
                    f"the CA key {path} {mismatch}. A CA key is never replaced silently: "
                    "keep the old settings, or move the CA away to create a new one")
            if not mismatch:
                self.report[name]["key"] = "mode" if self.ensure_mode(path, 0o600) else "unchanged"
                return key, False
        self.report[name]["key"] = "replaced" if exists else "created"
        if self.check:
            self._mark(path)
            return None, True
        key = self.new_key(spec)
        self.write(path, self.key_pem(key, spec["passphrase"]), 0o600)
        return key, True

    # --- certificates -----------------------------------------------------------------
    @staticmethod
    def subject(spec):
        attributes = [x509.NameAttribute(NameOID.COMMON_NAME, spec["common_name"])]
        if spec["organization"]:
            attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, spec["organization"]))
        return x509.Name(attributes)

    @staticmethod
    def extensions(spec, public_key, signer_cert):
        """The (extension value, critical) pairs a certificate of spec must have."""
        if spec["ca"]:
            out = [(x509.BasicConstraints(ca=True, path_length=spec["path_length"]), True),
                   (x509.KeyUsage(digital_signature=False, content_commitment=False,
                                  key_encipherment=False, data_encipherment=False,
                                  key_agreement=False, key_cert_sign=True, crl_sign=True,
                                  encipher_only=False, decipher_only=False), True)]
        else:
            out = [(x509.BasicConstraints(ca=False, path_length=None), True),
                   (x509.KeyUsage(digital_signature=True, content_commitment=False,
                                  key_encipherment=isinstance(public_key, rsa.RSAPublicKey),
                                  data_encipherment=False, key_agreement=False,
                                  key_cert_sign=False, crl_sign=False, encipher_only=False,
                                  decipher_only=False), True)]
            if spec["extended_key_usage"]:
                out.append((x509.ExtendedKeyUsage(
                    [getattr(ExtendedKeyUsageOID, EKU[u]) for u in spec["extended_key_usage"]]),
                    False))
        out.append((x509.SubjectKeyIdentifier.from_public_key(public_key), False))
        if signer_cert is not None:
            ski = signer_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
            out.append((x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski.value),
                        False))
        return out

    def cert_mismatch(self, spec, cert, key, signer_cert):
        """Why cert is not what spec, key and signer ask for; None when it is."""
        der = serialization.Encoding.DER
        spki = serialization.PublicFormat.SubjectPublicKeyInfo
        if cert.public_key().public_bytes(der, spki) != key.public_key().public_bytes(der, spki):
            return "it does not match the key"
        if cert.subject != self.subject(spec):
            return "the subject changed"
        issuer = signer_cert if signer_cert is not None else cert
        try:
            cert.verify_directly_issued_by(issuer)
        except (InvalidSignature, ValueError, TypeError):
            return "it is not signed by " + (spec["signer"] or "its own key")
        want = {(type(v), v, c) for v, c in self.extensions(spec, key.public_key(), signer_cert)}
        have = {(type(e.value), e.value, e.critical) for e in cert.extensions}
        if want != have:
            return "its extensions changed"
        return None

    def issue(self, spec, key, signer_cert, signer_key):
        now = datetime.datetime.now(datetime.timezone.utc)
        builder = (x509.CertificateBuilder()
                   .subject_name(self.subject(spec))
                   .issuer_name(signer_cert.subject if signer_cert is not None
                                else self.subject(spec))
                   .public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - BACKDATE)
                   .not_valid_after(now + datetime.timedelta(days=spec["days"])))
        for value, critical in self.extensions(spec, key.public_key(), signer_cert):
            builder = builder.add_extension(value, critical=critical)
        return builder.sign(signer_key if signer_key is not None else key, hashes.SHA256())

    def load_cert(self, path):
        try:
            with open(path, "rb") as handle:
                return x509.load_pem_x509_certificate(handle.read())
        except FileNotFoundError:
            return None
        except ValueError:
            return False   # unreadable: issue again

    def ensure_cert(self, spec, key, key_changed):
        name, path = spec["name"], spec["cert_path"]
        signer = spec["signer"]
        signer_cert = self.certs.get(signer) if signer else None
        signer_key = self.keys.get(signer) if signer else None
        if signer and signer not in self.entries:
            raise PKIError(f"{name}: signer {signer} is not an earlier entry")
        current = self.load_cert(path) if os.path.isdir(os.path.dirname(path)) else None
        if key is None or (signer and (signer_cert is None or signer_key is None)):
            # check mode: the key or the signer would be new, so would this certificate
            self._mark(path)
            self.report[name]["certificate"] = "created" if current is None else "issued again"
            self.report[name]["not_after"] = (current.not_valid_after_utc.isoformat()
                                              if current else None)
            return None
        if current is None:
            reason = "created"
        elif current is False:
            reason = "issued again: the file was unreadable"
        elif spec["renew"] or spec["new_key"]:
            reason = "issued again: renewal"
        elif key_changed:
            reason = "issued again: new key"
        else:
            mismatch = self.cert_mismatch(spec, current, key, signer_cert)
            reason = f"issued again: {mismatch}" if mismatch else None
        if reason is None:
            self.report[name]["certificate"] = "mode" if self.ensure_mode(path, 0o644) else "unchanged"
            self.report[name]["not_after"] = current.not_valid_after_utc.isoformat()
            return current
        if signer_cert is not None:
            now = datetime.datetime.now(datetime.timezone.utc)
            if signer_cert.not_valid_after_utc <= now:
                raise PKIError(f"{name}: its signer's certificate {self.entries[signer]['cert_path']} "
                               f"expired on {signer_cert.not_valid_after_utc.isoformat()}; "
                               "renew the signer first")
        cert = self.issue(spec, key, signer_cert, signer_key)
        self.write(path, cert.public_bytes(serialization.Encoding.PEM), 0o644)
        self.report[name]["certificate"] = reason
        self.report[name]["not_after"] = cert.not_valid_after_utc.isoformat()
        return cert     # in check mode too: what it signs is checked against it

    # --- run --------------------------------------------------------------------------
    def run(self, params):
        for item in params["directories"]:
            self.directory(item["path"], int(item["mode"], 8))
        for spec in params["certificates"]:
            name = spec["name"]
            if name in self.entries:
                raise PKIError(f"certificate name {name} is used twice")
            self.entries[name] = spec
            self.report[name] = {}
            key, key_changed = self.ensure_key(spec)
            self.keys[name] = key
            self.certs[name] = self.ensure_cert(spec, key, key_changed)
        for chain in params["chains"]:
            self.assemble(chain["path"], chain["certificates"], None, 0o644)
        for bundle in params["bundles"]:
            self.assemble(bundle["path"], [bundle["certificate"]], bundle["certificate"], 0o600)

    def assemble(self, path, cert_names, key_name, mode):
        parts = []
        for name in cert_names:
            if name not in self.entries:
                raise PKIError(f"{path}: unknown certificate {name}")
            if self.certs[name] is None:     # check mode: it would change
                self._mark(path)
                return
            parts.append(self.certs[name].public_bytes(serialization.Encoding.PEM))
        if key_name is not None:
            if self.entries[key_name]["passphrase"]:
                raise PKIError(f"{path}: the key of {key_name} is encrypted; a bundle holds "
                               "an unencrypted key")
            parts.append(self.key_pem(self.keys[key_name], ""))
        self.write(path, b"".join(parts), mode)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            directories=dict(type="list", elements="dict", default=[], options=dict(
                path=dict(type="path", required=True),
                mode=dict(type="str", default="0755"),
            )),
            certificates=dict(type="list", elements="dict", required=True, options=dict(
                name=dict(type="str", required=True),
                cert_path=dict(type="path", required=True),
                key_path=dict(type="path", required=True),
                passphrase=dict(type="str", default="", no_log=True),
                key_type=dict(type="str", choices=["RSA", "ECC"], default="RSA"),
                key_size=dict(type="int", default=4096),
                key_curve=dict(type="str", choices=list(CURVES), default="secp384r1"),
                common_name=dict(type="str", required=True),
                organization=dict(type="str", default=""),
                ca=dict(type="bool", default=False),
                path_length=dict(type="int"),
                extended_key_usage=dict(type="list", elements="str", default=[],
                                        choices=list(EKU)),
                signer=dict(type="str", default=""),
                days=dict(type="int", required=True),
                renew=dict(type="bool", default=False),
                new_key=dict(type="bool", default=False),
            )),
            chains=dict(type="list", elements="dict", default=[], options=dict(
                path=dict(type="path", required=True),
                certificates=dict(type="list", elements="str", required=True),
            )),
            bundles=dict(type="list", elements="dict", default=[], options=dict(
                path=dict(type="path", required=True),
                certificate=dict(type="str", required=True),
            )),
        ),
        supports_check_mode=True,
    )
    if not HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography"))
    for spec in module.params["certificates"]:
        if spec["key_type"] == "RSA" and spec["key_size"] < 2048:
            module.fail_json(msg=f"{spec['name']}: key_size must be at least 2048 for RSA")
        if spec["days"] <= 0:
            module.fail_json(msg=f"{spec['name']}: days must be more than 0")
    pki = PKI(module)
    try:
        pki.run(module.params)
    except PKIError as exc:
        module.fail_json(msg=to_native(exc), certificates=pki.report,
                         changed=bool(pki.changed_files), changed_files=pki.changed_files)
    except OSError as exc:
        module.fail_json(msg=f"{exc.filename or ''}: {exc.strerror or to_native(exc)}",
                         certificates=pki.report, changed=bool(pki.changed_files),
                         changed_files=pki.changed_files)
    module.exit_json(changed=bool(pki.changed_files), certificates=pki.report,
                     changed_files=pki.changed_files)


if __name__ == "__main__":
    main()
