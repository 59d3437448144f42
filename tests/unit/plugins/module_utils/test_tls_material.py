"""PEM options (plugins/module_utils/tls_material.py): what is refused before any call,
how a secret is named (the same content, the same name; nothing from the key), and the
secret Octavia reads (a PKCS#12 bundle with no passphrase; a CA or a CRL as PEM)."""

from __future__ import annotations

import base64
import re

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from ansible_collections.octavia.lbaas.plugins.module_utils import tls_material
from ansible_collections.octavia.lbaas.plugins.module_utils.cloud import ModuleError

from pem_data import encrypted, material, pem

A, B = "a.example.test", "b.example.test"


def bundle(host=A, **extra):
    return tls_material.check("bundle", material().bundle(host, **extra), "default_tls_certificate")


def test_a_bundle_is_normalized_and_a_chain_in_certificate_counts_as_intermediates():
    m = material()
    value = tls_material.check("bundle", m.bundle(A, certificate=pem(m.certs[A]) + pem(m.intermediate)), "x")
    assert value["certificate"] == pem(m.certs[A])
    assert value["intermediates"] == pem(m.intermediate)
    same = bundle(intermediates=pem(m.intermediate))
    assert tls_material.secret_name("bundle", same) == tls_material.secret_name("bundle", value)


@pytest.mark.parametrize("change, words", [
    (lambda m: {"certificate": "not a certificate"}, "default_tls_certificate.certificate is not a PEM certificate"),
    (lambda m: {"certificate": pem(m.keys[A])}, "default_tls_certificate.certificate holds a private key"),
    (lambda m: {"private_key": pem(m.certs[A])}, "default_tls_certificate.private_key is not a PEM private key"),
    (lambda m: {"private_key": pem(m.keys[B])},
     "default_tls_certificate.private_key does not match default_tls_certificate.certificate"),
    (lambda m: {"private_key": encrypted(m.keys[A], "s3cret")}, "default_tls_certificate.private_key is encrypted: give its passphrase"),
    (lambda m: {"private_key": encrypted(m.keys[A], "s3cret"), "passphrase": "wrong"}, "or passphrase does not decrypt it"),
    (lambda m: {"passphrase": "s3cret"}, "default_tls_certificate.private_key is not encrypted"),
    (lambda m: {"intermediates": "junk"}, "default_tls_certificate.intermediates is not a PEM certificate"),
])
def test_bad_bundles_name_the_option_and_never_quote_it(change, words):
    m = material()
    value = dict(m.bundle(A), **change(m))
    with pytest.raises(tls_material.PemError) as failed:
        tls_material.check("bundle", value, "default_tls_certificate")
    assert words in str(failed.value)
    lines = {line for text in value.values() for line in text.splitlines() if not line.startswith("-----")}
    assert not any(line in str(failed.value) for line in lines) and "s3cret" not in str(failed.value)


def test_an_encrypted_key_with_its_passphrase_is_accepted():
    m = material()
    value = bundle(private_key=encrypted(m.keys[A], "s3cret"), passphrase="s3cret")
    assert value["certificate"] == pem(m.certs[A])


def test_ca_and_crl():
    m = material()
    assert tls_material.check("ca", "\n" + pem(m.ca) + pem(m.other_ca) + "\n", "ca_certificate") == pem(m.ca) + pem(m.other_ca)
    crl = tls_material.check("crl", pem(m.crl), "crl")
    assert crl == pem(m.crl)
    with pytest.raises(tls_material.PemError, match="crl is not a PEM revocation list"):
        tls_material.check("crl", pem(m.ca), "crl")
    with pytest.raises(tls_material.PemError, match="client_ca_certificate is not a PEM certificate"):
        tls_material.check("ca", pem(m.crl), "client_ca_certificate")
    assert tls_material.crl_signed_by(pem(m.crl), pem(m.ca))
    assert not tls_material.crl_signed_by(pem(m.crl), pem(m.other_ca))


def test_the_same_content_has_the_same_name():
    m = material()
    name = tls_material.secret_name("bundle", bundle())
    assert re.fullmatch(r"octavia-lbaas-cert-[0-9a-f]{24}", name)
    # other line endings and spacing, another encoding of the same key, an encrypted key:
    # the same certificate and chain, the same name
    crlf = dict(material().bundle(A), certificate=pem(m.certs[A]).replace("\n", "\r\n") + "\n\n")
    assert tls_material.secret_name("bundle", tls_material.check("bundle", crlf, "x")) == name
    traditional = m.keys[A].private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                          serialization.NoEncryption()).decode()
    assert tls_material.secret_name("bundle", bundle(private_key=traditional)) == name
    assert tls_material.secret_name("bundle", bundle(private_key=encrypted(m.keys[A], "pw"), passphrase="pw")) == name
    # another chain, another certificate: another name
    assert tls_material.secret_name("bundle", bundle(intermediates=pem(m.intermediate))) != name
    assert tls_material.secret_name("bundle", bundle(B)) != name
    # kinds do not mix, even for the same certificate
    ca_name = tls_material.secret_name("ca", tls_material.check("ca", pem(m.certs[A]), "x"))
    assert ca_name.startswith("octavia-lbaas-ca-") and ca_name[-24:] != name[-24:]
    assert tls_material.secret_name("crl", pem(m.crl)).startswith("octavia-lbaas-crl-")


def test_the_name_owes_nothing_to_the_key():
    value = bundle()
    expected = tls_material.content_digest("bundle", value)
    value["private_key"] = "anything"
    assert tls_material.content_digest("bundle", value) == expected


def test_the_bundle_secret_is_what_octavia_reads():
    m = material()
    value = bundle(private_key=encrypted(m.keys[A], "pw"), passphrase="pw", intermediates=pem(m.intermediate))
    name = tls_material.secret_name("bundle", value)
    attrs = tls_material.secret("bundle", value, name)
    assert {k: attrs[k] for k in ("payload_content_type", "payload_content_encoding", "secret_type", "name")} == {
        "payload_content_type": "application/octet-stream", "payload_content_encoding": "base64",
        "secret_type": "opaque", "name": name}
    # octavia/certificates/common/pkcs12.py: load_pkcs12(payload, None)
    p12 = pkcs12.load_pkcs12(base64.b64decode(attrs["payload"]), None)
    assert p12.cert.certificate == m.certs[A]
    assert [c.certificate for c in p12.additional_certs] == [m.intermediate]
    assert p12.key.private_numbers() == m.keys[A].private_numbers()


def test_ca_and_crl_secrets_are_their_pem():
    m = material()
    ca = tls_material.check("ca", pem(m.ca), "x")
    attrs = tls_material.secret("ca", ca, "n")
    assert x509.load_pem_x509_certificate(base64.b64decode(attrs["payload"])) == m.ca
    attrs = tls_material.secret("crl", pem(m.crl), "n")
    assert x509.load_pem_x509_crl(base64.b64decode(attrs["payload"])) == m.crl


def test_without_cryptography_the_module_says_what_to_install(monkeypatch):
    monkeypatch.setattr(tls_material, "HAS_CRYPTOGRAPHY", False)
    with pytest.raises(ModuleError, match="cryptography"):
        tls_material.check("ca", pem(material().ca), "x")
