"""Abuse-detection hashes: a network's /24 or /48 and an email's domain, keyed, never the
values themselves; disposable domains from the disposable-email-domains list."""

from __future__ import annotations

from dataclasses import replace

import orjson
import pytest

from services.intake.domain.actions import ANONYMOUS, Context, decide
from services.intake.domain.model import ActionIn
from services.intake.domain.origins import email_domain, is_disposable, network_of, origin_of
from services.intake.entrypoints.state import origin_secret
from services.intake.settings import IntakeSettings
from shared.contracts.action_record import ActionRecord, encode_record
from shared.contracts.actions import ActionEvent
from shared.contracts.catalog import CaseRecord, CaseStatus
from tests.unit.intake.builders import NOW, rules, signature
from tests.unit.intake.test_decide import record

pytestmark = pytest.mark.unit
SECRET = b"origins-test-secret-0123"


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("203.0.113.7", "203.0.113.0/24"),
        ("203.0.113.250", "203.0.113.0/24"),
        ("::ffff:203.0.113.9", "203.0.113.0/24"),
        ("2001:db8:1:2::5", "2001:db8:1::/48"),
        ("2001:db8:1:ffff::1", "2001:db8:1::/48"),
        ("unknown", None),
        ("testclient", None),
    ],
)
def test_the_network_of_an_address(address: str, network: str | None) -> None:
    assert network_of(address) == network


def test_one_network_one_hash_and_never_the_address_on_the_event() -> None:
    a = origin_of(SECRET, "203.0.113.7", "one@Example.org ")
    b = origin_of(SECRET, "203.0.113.200", "two@example.ORG")
    c = origin_of(SECRET, "203.0.114.7", "three@example.net")
    assert a.network_hash == b.network_hash != c.network_hash
    assert a.email_domain_hash == b.email_domain_hash != c.email_domain_hash
    assert a.network_hash and len(a.network_hash) == 16
    assert origin_of(b"another-secret-0123456", "203.0.113.7", None).network_hash != (
        a.network_hash
    )
    assert origin_of(SECRET, "unknown", None).network_hash is None


def test_an_origin_made_once_per_address_and_domain_is_the_one_each_action_gets() -> None:
    # Origins are remembered (per secret, address and domain): each email's domain is
    # still read from the email, and another secret still hashes anew.
    first = origin_of(SECRET, "203.0.113.7", "one@Example.org.")
    assert origin_of(SECRET, "203.0.113.7", "two@EXAMPLE.org") == first
    assert origin_of(SECRET, "203.0.113.7", "x@mailinator.com").disposable_email
    assert origin_of(SECRET, "203.0.113.7", "x@mailinator.com.org").disposable_email is False
    other = origin_of(b"another-secret-0123456", "203.0.113.7", "one@example.org")
    assert other.email_domain_hash != first.email_domain_hash
    assert other.network_hash != first.network_hash
    assert origin_of(SECRET, "203.0.113.7", None).email_domain_hash is None
    assert origin_of(SECRET, None, "one@example.org").network_hash is None


def test_disposable_domains_come_from_the_list_parents_included() -> None:
    assert is_disposable("mailinator.com")
    assert is_disposable("inbox.mailinator.com")
    assert not is_disposable("example.org")
    assert not is_disposable("com")
    assert email_domain("A@Mailinator.COM.") == "mailinator.com"
    assert origin_of(SECRET, None, "bot@mailinator.com").disposable_email
    assert not origin_of(SECRET, None, "awa@example.org").disposable_email


def test_the_event_carries_hashes_only() -> None:
    body = signature(supporter={"name": "A B", "email": "bot7@mailinator.com", "country": "FR"})
    action = ActionIn.model_validate_json(orjson.dumps(body), context=rules())
    ctx = Context(SECRET, NOW, 300, "req", "203.0.113.7", SECRET)
    event = decide(action, ANONYMOUS, lambda _: _open_case(), ctx)
    assert isinstance(event, ActionRecord)
    wire = encode_record(event).decode()
    assert event.network_hash and event.email_domain_hash and event.disposable_email
    for revealing in ("203.0.113", "mailinator"):
        assert revealing not in wire
    without = decide(action, ANONYMOUS, lambda _: _open_case(), replace(ctx, origin_secret=None))
    assert isinstance(without, ActionRecord) and without.network_hash is None


def test_an_old_event_without_the_fields_still_reads() -> None:
    body = signature()
    action = ActionIn.model_validate_json(orjson.dumps(body), context=rules())
    event = decide(action, ANONYMOUS, lambda _: _open_case(), Context(SECRET, NOW, 300))
    assert isinstance(event, ActionRecord)
    old = orjson.loads(encode_record(event))
    old.pop("network_hash", None), old.pop("email_domain_hash", None)
    del old["disposable_email"]
    read = ActionEvent.model_validate(old)
    assert (read.network_hash, read.email_domain_hash, read.disposable_email) == (
        None,
        None,
        False,
    )


def test_the_hash_key_is_its_own_or_derived_from_the_supporter_secret() -> None:
    base = {"supporter_key_secret": "s" * 32}
    derived = IntakeSettings.model_validate(base)
    own = IntakeSettings.model_validate({**base, "network_hash_key": "k" * 20})
    assert origin_secret(derived, b"s" * 32) not in (b"s" * 32, b"")
    assert origin_secret(own, b"s" * 32) == b"k" * 20
    assert IntakeSettings.model_validate({**base, "network_hash_key": ""}).network_hash_key is None


def _open_case() -> CaseRecord:
    return record("sonia-dahmani", CaseStatus.OPEN)
