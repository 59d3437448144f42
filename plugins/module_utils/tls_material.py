# Copyright: octavia.lbaas contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""TLS material given as PEM text: a certificate with its private key and chain (a
`bundle`), a CA certificate (`ca`) or a revocation list (`crl`). This file owns checking
it before any API call, naming it by its content and encoding it as the key manager
secret Octavia reads (octavia/certificates/manager/barbican.py): a certificate is one
PKCS#12 bundle without a passphrase (Octavia loads it with none), a CA or a CRL is its
PEM. No network here: key_manager.py stores what this makes.

A secret's name carries a SHA-256 of the public content only (the certificates and the
CRL, re-encoded, so that line endings and spacing do not matter): the key is bound to the
certificate, so the certificate names the pair, and nothing is derived from the key or
the passphrase. Messages never quote the input."""

from __future__ import annotations

import base64
import hashlib
import traceback

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.octavia.lbaas.plugins.module_utils.cloud import ModuleError
from ansible_collections.octavia.lbaas.plugins.module_utils.lbaas_fields import Invalid

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12
    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - reported by the module when a PEM option is given
    x509 = serialization = pkcs12 = None
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = traceback.format_exc()

NAME_PREFIX = "octavia-lbaas-"
HASH_CHARS = 24
# the word of each kind in a secret's name
KIND_WORDS = {"bundle": "cert", "ca": "ca", "crl": "crl"}
# how every secret is sent to Barbican (what barbicanclient does with a bytes payload, as
# octavia-tempest-plugin stores its PKCS#12 bundles, CAs and CRLs)
SECRET_FORMAT = {"payload_content_type": "application/octet-stream", "payload_content_encoding": "base64",
                 "secret_type": "opaque"}


class PemError(ValueError):
    """A PEM input that is not what its option takes (the message never quotes the input)."""


def require_cryptography():
    if not HAS_CRYPTOGRAPHY:
        raise ModuleError(missing_required_lib("cryptography"), exception=CRYPTOGRAPHY_IMPORT_ERROR)


def _bytes(text, what):
    if not isinstance(text, str) or not text.strip():
        raise PemError("%s must be PEM text" % what)
    return text.strip().encode("utf-8")


def _certificates(text, what):
    """The certificates of a PEM text (at least one), in order; a private key there is refused."""
    data = _bytes(text, what)
    if b"PRIVATE KEY-----" in data:
        raise PemError("%s holds a private key; give certificates only (the key goes in private_key)" % what)
    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError:
        certs = []
    if not certs:
        raise PemError("%s is not a PEM certificate (-----BEGIN CERTIFICATE-----)" % what)
    return certs


def _pem(certs):
    return "".join(c.public_bytes(serialization.Encoding.PEM).decode("ascii") for c in certs)


def _der(items):
    return [c.public_bytes(serialization.Encoding.DER) for c in items]


def _private_key(text, passphrase, what):
    data = _bytes(text, what)
    password = passphrase.encode("utf-8") if passphrase else None
    try:
        return serialization.load_pem_private_key(data, password)
    except TypeError:
        if password:
            raise PemError("%s is not encrypted: leave passphrase out" % what) from None
        raise PemError("%s is encrypted: give its passphrase" % what) from None
    except ValueError:
        if password:
            raise PemError("%s is not a PEM private key, or passphrase does not decrypt it" % what) from None
        raise PemError("%s is not a PEM private key (-----BEGIN ... PRIVATE KEY-----)" % what) from None
    except Exception:  # pylint: disable=broad-except
        # cryptography raises its own errors for unsupported key types
        raise PemError("%s is a private key of a type that cannot be read" % what) from None


def _public(key):
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def check(kind, value, path):
    """A task's value of a PEM option of `kind` (bundle, ca, crl) → its normalized form;
    raises PemError naming the option under `path`."""
    require_cryptography()
    if kind == "bundle":
        return _check_bundle(value, path)
    if kind == "ca":
        return _pem(_certificates(value, path))
    crl = _crl(value, path)
    return crl.public_bytes(serialization.Encoding.PEM).decode("ascii")


def _crl(text, what):
    data = _bytes(text, what)
    try:
        return x509.load_pem_x509_crl(data)
    except ValueError:
        raise PemError("%s is not a PEM revocation list (-----BEGIN X509 CRL-----)" % what) from None


def _check_bundle(value, path):
    def at(name):
        return "%s.%s" % (path, name) if path else name

    certs = _certificates(value.get("certificate"), at("certificate"))
    chain = certs[1:]
    if value.get("intermediates"):
        chain += _certificates(value["intermediates"], at("intermediates"))
    key = _private_key(value.get("private_key"), value.get("passphrase"), at("private_key"))
    try:
        matches = _public(key.public_key()) == _public(certs[0].public_key())
    except Exception:  # pylint: disable=broad-except
        matches = False
    if not matches:
        raise PemError("%s does not match %s (the first certificate there)" % (at("private_key"), at("certificate")))
    return {"certificate": _pem(certs[:1]), "intermediates": _pem(chain) or None,
            "private_key": value["private_key"], "passphrase": value.get("passphrase")}


# -- the options, in the engine's validator (lbaas_validate.Validator) ----------------------

def pem_option(validator, field, raw, path, obj):
    """A PEM option of `obj` (a Field of Spec.secret_fields): coerced, parsed and checked,
    and not given with the ref it stands for. Problems go to `validator`; returns the
    normalized value, or None."""
    value = validator.wrap(field.coerce, raw, path)
    if value is None:
        return None
    if obj.get(field.stores) is not None:
        validator.error(path, "give %s or %s, not both" % (field.name, field.stores))
    many = field.type == "list"
    checked = [validator.wrap(_option_check(field.pem), item, "%s[%d]" % (path, i) if many else path)
               for i, item in enumerate(value if many else [value])]
    if any(item is None for item in checked):
        return None
    return checked if many else checked[0]


def _option_check(kind):
    def check_one(value, path):
        try:
            return check(kind, value, path)
        except PemError as exc:
            raise Invalid(str(exc)) from None
    return check_one


def crl_for_ca(validator, obj, crl, ca):
    """A CRL and its CA both given as PEM (options `crl`, `ca` of obj): the CA must sign the
    CRL, as Octavia checks when it reads them."""
    if obj.get(crl) and obj.get(ca) and not crl_signed_by(obj[crl], obj[ca]):
        path = obj.get("_path", "")
        validator.error("%s.%s" % (path, crl) if path else crl, "is not signed by %s (the first certificate there)" % ca)


def crl_signed_by(crl_text, ca_text):
    """Does the first certificate of the CA PEM sign the CRL (what Octavia checks)?"""
    ca = _certificates(ca_text, "CA")[0]
    try:
        return _crl(crl_text, "CRL").is_signature_valid(ca.public_key())
    except (TypeError, ValueError):
        return False


def content_digest(kind, value):
    """SHA-256 (hex) of the public content of a normalized value (see check())."""
    digest = hashlib.sha256(("octavia.lbaas %s\n" % kind).encode("ascii"))
    if kind == "crl":
        items = _der([_crl(value, "CRL")])
    elif kind == "ca":
        items = _der(_certificates(value, "CA"))
    else:
        items = _der(_certificates(value["certificate"], "certificate"))
        if value.get("intermediates"):
            items += _der(_certificates(value["intermediates"], "intermediates"))
    for item in items:
        digest.update(len(item).to_bytes(8, "big"))
        digest.update(item)
    return digest.hexdigest()


def secret_name(kind, value):
    """The name of the secret that holds a normalized value: the same content, the same name."""
    return "%s%s-%s" % (NAME_PREFIX, KIND_WORDS[kind], content_digest(kind, value)[:HASH_CHARS])


def secret(kind, value, name):
    """The attributes of the key manager secret `name` holding a normalized value (what
    openstacksdk's create_secret takes)."""
    require_cryptography()
    if kind == "bundle":
        certs = _certificates(value["certificate"], "certificate")
        chain = _certificates(value["intermediates"], "intermediates") if value.get("intermediates") else None
        key = _private_key(value["private_key"], value.get("passphrase"), "private_key")
        data = pkcs12.serialize_key_and_certificates(name.encode("utf-8"), key, certs[0], chain,
                                                     serialization.NoEncryption())
    else:
        data = value.encode("ascii")
    return dict(SECRET_FORMAT, name=name, payload=base64.b64encode(data).decode("ascii"))
