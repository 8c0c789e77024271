"""Where an action came from, as abuse detection needs it and no more: a keyed hash of the
client's network (its /24 in IPv4, /48 in IPv6: never the address) and of the email's
domain, and whether that domain is a known disposable one. The counter compares rates of
these hashes; an operator invalidates by them. The secret is intake's alone, so a hash
cannot be turned back into a network by hashing every network without it."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import lru_cache

from disposable_email_domains import blocklist

from services.intake.domain.supporter_key import keyed_hash, normalise_email

IPV4_PREFIX, IPV6_PREFIX = 24, 48
# 64 bits: short enough for an operator to paste, collisions unlikely below 4e9 networks.
HASH_CHARS = 16


@dataclass(frozen=True)
class Origin:
    network_hash: str | None = None
    email_domain_hash: str | None = None
    disposable_email: bool = False


def origin_of(secret: bytes, address: str | None, email: str | None) -> Origin:
    """The hashes of `address`'s network and `email`'s domain (None where not known)."""
    return _origin(secret, address, "@" + email.rpartition("@")[2] if email else None)


# A batch's actions share a client address and a campaign sees few email domains, so an
# origin is made once per address and domain: per action it cost ~10 µs, a tenth of a
# batch's CPU per action (the bench's profile).
@lru_cache(maxsize=65_536)
def _origin(secret: bytes, address: str | None, at_domain: str | None) -> Origin:
    """`at_domain`: an email from its last @ on (what its domain's facts depend on)."""
    network = network_of(address) if address else None
    domain = email_domain(at_domain) if at_domain else None
    return Origin(
        network_hash=_short_hash(secret, "network", network) if network else None,
        email_domain_hash=_short_hash(secret, "domain", domain) if domain else None,
        disposable_email=bool(domain and is_disposable(domain)),
    )


@lru_cache(maxsize=65_536)  # parsing costs more than the rest of the origin; callers repeat
def network_of(address: str) -> str | None:
    """`203.0.113.0/24` for 203.0.113.7, `2001:db8:1::/48` for 2001:db8:1:2::5; an IPv4
    address mapped in IPv6 is taken as IPv4; None for what is no IP address."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = IPV4_PREFIX if ip.version == 4 else IPV6_PREFIX
    return str(ipaddress.ip_network((ip, prefix), strict=False))


def email_domain(email: str) -> str:
    """The domain of a normalised email, without a trailing dot."""
    return normalise_email(email).rpartition("@")[2].rstrip(".")


def is_disposable(domain: str) -> bool:
    """On the disposable-email-domains list, itself or a parent (x.mailinator.com)."""
    labels = domain.split(".")
    return any(".".join(labels[i:]) in blocklist for i in range(len(labels) - 1))


def _short_hash(secret: bytes, kind: str, value: str) -> str:
    # The kind keeps the two namespaces apart under one secret.
    return keyed_hash(secret, f"{kind}:{value}")[:HASH_CHARS]
