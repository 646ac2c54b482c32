"""Checks the client's connection settings and opens gRPC channels.

Plaintext unless TLS is asked for (tls=True, or any of the TLS files); the
server's certificate is checked against tls_ca, or the system's roots
without it. Every mistake found here raises ConfigError naming the
argument (and the file).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import grpc

from affinity_client.errors import ConfigError


@dataclass(frozen=True)
class ChannelSettings:
    tls: bool
    root_certificates: Optional[bytes]
    certificate_chain: Optional[bytes]
    private_key: Optional[bytes]


def check_address(name, address):
    """HOST:PORT, [IPv6]:PORT or unix:PATH; raises ConfigError otherwise."""
    if not isinstance(address, str) or not address:
        raise ConfigError(f"{name}: expected HOST:PORT, got {address!r}")
    if address.startswith(("unix:", "unix-abstract:", "dns:", "ipv4:", "ipv6:")):
        return address
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"{name} {address!r}: expected HOST:PORT (e.g. 127.0.0.1:50051)")
    return address


def _read_pem(name, path):
    if path is None:
        return None
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise ConfigError(f"{name} {path}: cannot read it ({e.strerror})") from None
    if b"-----BEGIN " not in data:
        raise ConfigError(f"{name} {path}: not a PEM file (no -----BEGIN line)")
    return data


def settings(tls, tls_ca, tls_cert, tls_key):
    if tls_cert is not None and tls_key is None:
        raise ConfigError(f"tls_cert {tls_cert} given without tls_key: a client certificate "
                          "needs its private key (give both, or neither)")
    if tls_key is not None and tls_cert is None:
        raise ConfigError(f"tls_key {tls_key} given without tls_cert: give both, or neither")
    use_tls = bool(tls) or any(p is not None for p in (tls_ca, tls_cert, tls_key))
    return ChannelSettings(tls=use_tls, root_certificates=_read_pem("tls_ca", tls_ca),
                           certificate_chain=_read_pem("tls_cert", tls_cert),
                           private_key=_read_pem("tls_key", tls_key))


def open_channel(address, s: ChannelSettings):
    if not s.tls:
        return grpc.insecure_channel(address)
    credentials = grpc.ssl_channel_credentials(root_certificates=s.root_certificates,
                                               private_key=s.private_key,
                                               certificate_chain=s.certificate_chain)
    return grpc.secure_channel(address, credentials)


def what_to_check(address, flag, s: ChannelSettings):
    """The advice attached to a failed connection."""
    if s.tls:
        tls = ("this client speaks TLS: the server needs --tls_cert/--tls_key, its certificate "
               f"must name the host of {address} and be signed by tls_ca (or a system root)"
               + ("; it must accept this client's certificate (--tls_client_ca)"
                  if s.certificate_chain else ""))
    else:
        tls = ("this client speaks plaintext: a server started with --tls_cert needs tls_ca= "
               "(or tls=True)")
    return (f"check that affinity-server runs and listens on {address} (its {flag} flag), "
            f"that nothing blocks the port, and TLS: {tls}")
