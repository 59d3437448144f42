"""Throwaway TLS material for the unit tests, made with cryptography: a CA, server
certificates signed by it (with their keys, plain or encrypted), an intermediate, and a
revocation list. Small EC keys keep it fast; made once per test session."""

from __future__ import annotations

import datetime
import functools

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

NOW = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _cert(subject, key, issuer, issuer_key, ca=False, dns=None):
    builder = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(NOW).not_valid_after(NOW + datetime.timedelta(days=3650))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if dns:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(dns)]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def pem(obj):
    if isinstance(obj, (x509.Certificate,)):
        return obj.public_bytes(serialization.Encoding.PEM).decode()
    if isinstance(obj, x509.CertificateRevocationList):
        return obj.public_bytes(serialization.Encoding.PEM).decode()
    return obj.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def encrypted(key, passphrase):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.BestAvailableEncryption(passphrase.encode())).decode()


class Material:
    def __init__(self):
        self.ca_key = ec.generate_private_key(ec.SECP256R1())
        self.ca = _cert("test CA", self.ca_key, "test CA", self.ca_key, ca=True)
        self.other_ca_key = ec.generate_private_key(ec.SECP256R1())
        self.other_ca = _cert("other CA", self.other_ca_key, "other CA", self.other_ca_key, ca=True)
        self.int_key = ec.generate_private_key(ec.SECP256R1())
        self.intermediate = _cert("test intermediate", self.int_key, "test CA", self.ca_key, ca=True)
        self.keys, self.certs = {}, {}
        for host in ("a.example.test", "b.example.test", "c.example.test"):
            self.keys[host] = ec.generate_private_key(ec.SECP256R1())
            self.certs[host] = _cert(host, self.keys[host], "test CA", self.ca_key, dns=host)
        self.crl = (x509.CertificateRevocationListBuilder().issuer_name(_name("test CA")).last_update(NOW)
                    .next_update(NOW + datetime.timedelta(days=30)).sign(self.ca_key, hashes.SHA256()))

    def bundle(self, host="a.example.test", **extra):
        """The value of a certificate option (default_tls_certificate, an item of sni_certificates)."""
        return dict({"certificate": pem(self.certs[host]), "private_key": pem(self.keys[host])}, **extra)


@functools.lru_cache(maxsize=None)
def material():
    return Material()
