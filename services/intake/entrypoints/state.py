"""What the intake's HTTP routes need, built by bootstrap and kept on `app.state.intake`;
the publisher and the key store are set once bootstrap has connected them; the rate limits
are counted here alone unless bootstrap gives a shared store (Redis)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from services.intake import metrics
from services.intake.adapters.data_keys import CachedDataKeys
from services.intake.adapters.rate_limits import LocalRateLimits
from services.intake.domain.key_guesses import KeyGuessGuard
from services.intake.domain.ports import (
    ActionPublisher,
    KeyStore,
    PendingSignatures,
    RateLimits,
)
from services.intake.domain.supporter_key import keyed_hash
from services.intake.entrypoints.budget import ByteBudget
from services.intake.entrypoints.refusals import NAMING_ROOM_BYTES
from services.intake.settings import IntakeSettings
from shared.catalog import CatalogView


@dataclass
class IntakeState:
    settings: IntakeSettings
    catalog: CatalogView
    limits: RateLimits = field(default_factory=LocalRateLimits)
    publisher: ActionPublisher | None = None
    keys: KeyStore | None = None
    pending: PendingSignatures | None = None  # signatures held for confirmation
    data_keys: CachedDataKeys | None = None  # set once connected; erasures go through it
    secret: bytes = field(init=False, repr=False)  # the supporter-key secret, as bytes
    origin_secret: bytes = field(init=False, repr=False)  # key of the network/domain hashes
    key_guesses: KeyGuessGuard = field(init=False, repr=False)
    batch_budget: ByteBudget = field(init=False, repr=False)
    # The bodies of refused requests read at once to name their ids (refusals.py).
    naming_room: ByteBudget = field(init=False, repr=False)
    # Batches that msgspec refused are read by pydantic here, off the event loop, which keeps
    # serving (and reading Kafka's acknowledgements) meanwhile; one thread, as decoding holds
    # the GIL anyway. (Well-formed ones are read on the loop: batch.py says why.)
    decoder: ThreadPoolExecutor = field(init=False, repr=False)

    def __post_init__(self) -> None:
        settings = self.settings
        self.secret = settings.supporter_key_secret.get_secret_value().encode()
        self.origin_secret = origin_secret(settings, self.secret)
        self.key_guesses = KeyGuessGuard(settings.key_guess_limit)
        self.batch_budget = ByteBudget(
            settings.batch_budget_bytes,
            settings.batch_budget_per_key_bytes,
            metrics.batch_budget_changed,
        )
        self.naming_room = ByteBudget(NAMING_ROOM_BYTES, NAMING_ROOM_BYTES)
        self.decoder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="batch-decoder")


def origin_secret(settings: IntakeSettings, supporter_secret: bytes) -> bytes:
    """`network_hash_key`, or a key derived from the supporter-key secret (so `make up` and
    deployments need no second secret, and neither hash reveals the other's key)."""
    if settings.network_hash_key is not None:
        return settings.network_hash_key.get_secret_value().encode()
    return bytes.fromhex(keyed_hash(supporter_secret, "plume abuse-detection hashes"))
