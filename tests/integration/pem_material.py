"""Throwaway TLS material for the integration tests: a CA with a random name (every run has
other certificates, so other Barbican secret names) and server certificates it signs, as
the PEM bundles the listener and pool modules take or as PKCS#12."""

from __future__ import annotations

import datetime
import uuid

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

NOW = datetime.datetime.now(datetime.timezone.utc)


# -- throwaway TLS material ---------------------------------------------------------------------------------------
def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _cert(subject, key, issuer, issuer_key, ca=False):
    builder = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(NOW - datetime.timedelta(hours=1)).not_valid_after(NOW + datetime.timedelta(days=7))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if not ca:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def pem_of(obj):
    if isinstance(obj, x509.Certificate):
        return obj.public_bytes(serialization.Encoding.PEM).decode()
    return obj.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


class Material:
    """A CA (with a random name: every run has other certificates, so other secret names)
    and server certificates it signs, made on demand."""

    def __init__(self):
        self.ca_key = ec.generate_private_key(ec.SECP256R1())
        self.ca_name = f"lbaas-test CA {uuid.uuid4().hex[:8]}"
        self.ca = _cert(self.ca_name, self.ca_key, self.ca_name, self.ca_key, ca=True)
        self.pairs = {}

    def server(self, host, issue=0):
        """(certificate, key) for `host`; another `issue` is another certificate for it."""
        if (host, issue) not in self.pairs:
            key = ec.generate_private_key(ec.SECP256R1())
            self.pairs[(host, issue)] = (_cert(host, key, self.ca_name, self.ca_key), key)
        return self.pairs[(host, issue)]

    def bundle(self, host, issue=0):
        """The value of default_tls_certificate or of an item of sni_certificates."""
        cert, key = self.server(host, issue)
        return {"certificate": pem_of(cert), "private_key": pem_of(key), "intermediates": pem_of(self.ca)}

    def pkcs12(self, host, issue=0):
        cert, key = self.server(host, issue)
        return pkcs12.serialize_key_and_certificates(host.encode(), key, cert, [self.ca], serialization.NoEncryption())
