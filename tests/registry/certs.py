"""Throwaway X.509 material: a test CA + server certificate, and a token signing key."""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# Backdated so clock skew between the test and Go's TLS stack never matters.
_NOT_BEFORE = dt.timedelta(days=1)
_LIFETIME = dt.timedelta(days=7)


class TLSFiles(NamedTuple):
    ca: Path  # PEM CA certificate: what a client must trust
    cert: Path  # PEM server certificate (SAN: IP 127.0.0.1, DNS localhost)
    key: Path  # PEM server private key (PKCS#8, unencrypted)


@dataclass(frozen=True)
class SigningKey:
    key: rsa.RSAPrivateKey
    cert_der: bytes  # the self-signed certificate, DER (goes into the JWT ``x5c`` header)
    key_path: Path  # PEM private key
    cert_path: Path  # PEM certificate: the registry's ``auth.token.rootcertbundle``

    @property
    def x5c(self) -> list[str]:
        """The JOSE ``x5c`` value: standard (not URL-safe) base64 of the DER certificate."""
        return [base64.b64encode(self.cert_der).decode()]


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "hullscan tests"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _key_pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def make_tls_files(directory: Path, *, cn: str = "hullscan test CA") -> TLSFiles:
    """Write ``ca.pem``, ``server.pem`` and ``server-key.pem`` into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name(cn)
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _NOT_BEFORE)
        .not_valid_after(now + _LIFETIME)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _NOT_BEFORE)
        .not_valid_after(now + _LIFETIME)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            # Go ignores the CN: only the SAN makes the name valid.
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    files = TLSFiles(
        ca=directory / "ca.pem", cert=directory / "server.pem", key=directory / "server-key.pem"
    )
    files.ca.write_bytes(_cert_pem(ca_cert))
    files.cert.write_bytes(_cert_pem(server_cert))
    files.key.write_bytes(_key_pem(server_key))
    files.key.chmod(0o600)
    return files


def make_signing_key(directory: Path, *, cn: str = "hullscan token signer") -> SigningKey:
    """An RSA key (RS256) and its self-signed certificate: ``token-signer{,-key}.pem``."""
    directory.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = _name(cn)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _NOT_BEFORE)
        .not_valid_after(now + _LIFETIME)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    signing = SigningKey(
        key=key,
        cert_der=cert.public_bytes(serialization.Encoding.DER),
        key_path=directory / "token-signer-key.pem",
        cert_path=directory / "token-signer.pem",
    )
    signing.key_path.write_bytes(_key_pem(key))
    signing.key_path.chmod(0o600)
    signing.cert_path.write_bytes(_cert_pem(cert))
    return signing
