"""The use cases with a fake publisher: nothing rejected is written, a batch writes all
its accepted events at once, and an unavailable publisher accepts nothing."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import orjson
import pytest
from prometheus_client import REGISTRY

from services.intake import service
from services.intake.domain.actions import ANONYMOUS, HEARTBEAT_CASE, Caller, Rejection
from services.intake.domain.confirmations import HeldSignature
from services.intake.domain.errors import FieldError
from services.intake.domain.model import ActionIn
from services.intake.domain.ports import PublishUnavailable
from shared.contracts.action_record import ActionRecord
from tests.unit.intake.builders import rules, signature
from tests.unit.intake.fakes import FakePublisher
from tests.unit.intake.test_decide import CASES, CTX
from tests.waiting import wait_until

pytestmark = pytest.mark.unit


def parse(**overrides: object) -> ActionIn:
    return ActionIn.model_validate_json(orjson.dumps(signature(**overrides)), context=rules())


async def test_an_accepted_action_is_published() -> None:
    publisher = FakePublisher()
    out = await service.submit_action(parse(), ANONYMOUS, CASES.get, CTX, publisher)
    assert isinstance(out, ActionRecord) and publisher.events == [out]


async def test_a_rejected_action_is_not_published() -> None:
    publisher = FakePublisher()
    out = await service.submit_action(
        parse(case_id="closed-case"), ANONYMOUS, CASES.get, CTX, publisher
    )
    assert isinstance(out, Rejection) and publisher.events == []


async def test_unavailable_publisher_propagates_with_the_action_id() -> None:
    publisher = FakePublisher()
    publisher.down = True
    with pytest.raises(PublishUnavailable) as caught:
        await service.submit_action(parse(), ANONYMOUS, CASES.get, CTX, publisher)
    assert str(caught.value.action_id) == signature()["action_id"]


async def test_a_batch_gives_per_item_results_in_order() -> None:
    publisher = FakePublisher()
    items: list[ActionIn | list[FieldError]] = [
        parse(action_id=None),
        [{"field": "supporter.email", "code": "invalid_email", "message": "bad"}],
        parse(action_id=None, case_id="closed-case"),
        parse(action_id=None, count=3),
    ]
    results = await service.submit_batch(
        items, Caller("ngo", partner=True), CASES.get, CTX, publisher
    )
    assert [r.index for r in results] == [0, 1, 2, 3]
    assert [r.event is not None for r in results] == [True, False, False, False]
    assert results[1].errors[0]["field"] == "supporter.email"
    assert [e.action_id for e in publisher.events] == [results[0].event.action_id]  # type: ignore[union-attr]


async def test_a_batch_accepts_nothing_when_the_publisher_is_down() -> None:
    publisher = FakePublisher()
    publisher.down = True
    with pytest.raises(PublishUnavailable):
        await service.submit_batch(
            [parse()], Caller("ngo", partner=True), CASES.get, CTX, publisher
        )


async def test_heartbeats_are_flagged_on_a_reserved_case_until_cancelled() -> None:
    publisher = FakePublisher()
    beating = asyncio.create_task(service.send_heartbeats(publisher, 0.01))

    async def sent() -> int:
        return len(publisher.events)

    await wait_until(sent, lambda n: n >= 3, within=5, every=0.01)
    beating.cancel()
    await asyncio.gather(beating, return_exceptions=True)
    assert all(e.heartbeat and e.case_id == HEARTBEAT_CASE for e in publisher.events)
    assert len({e.action_id for e in publisher.events}) == len(publisher.events)


async def test_a_heartbeat_kafka_refuses_is_skipped_not_fatal() -> None:
    publisher = FakePublisher()
    publisher.down = True
    beating = asyncio.create_task(service.send_heartbeats(publisher, 0.01))

    async def refused() -> int:
        return publisher.refused

    await wait_until(refused, lambda n: n >= 3, within=5, every=0.01)
    assert not beating.done(), "a refused heartbeat must not end the loop"
    beating.cancel()
    await asyncio.gather(beating, return_exceptions=True)


async def test_a_batch_kafka_refuses_names_each_items_action_id() -> None:
    publisher = FakePublisher()
    publisher.down = True
    items: list[ActionIn | list[FieldError]] = [
        parse(),
        [{"field": "supporter.email", "code": "invalid_email", "message": "bad"}],
        parse(action_id=None),
    ]
    with pytest.raises(PublishUnavailable) as caught:
        await service.submit_batch(items, Caller("ngo", partner=True), CASES.get, CTX, publisher)
    ids = caught.value.action_ids
    assert ids is not None and len(ids) == 3
    assert ids[0] == signature()["action_id"] and ids[1] is None
    assert ids[2] is not None and ids[2] != ids[0]  # assigned by the server


class _Pending:
    """Holds signatures in memory (the part of PendingSignatures `hold` uses)."""

    def __init__(self) -> None:
        self.held: list[HeldSignature] = []

    async def hold(self, held: HeldSignature, token: str) -> bool:
        self.held.append(held)
        return True


async def test_the_language_to_ask_in_is_found_only_for_a_signature_held() -> None:
    asked: list[str] = []

    def language() -> str:
        asked.append("fr")
        return "fr"

    store, publisher = _Pending(), FakePublisher()
    confirming = CASES["sonia-dahmani"].model_copy(update={"confirm_signatures": True})
    holding = service.Holding(store, timedelta(days=7), language)  # type: ignore[arg-type]
    out = await service.submit_action(parse(), ANONYMOUS, CASES.get, CTX, publisher, holding)
    assert isinstance(out, ActionRecord) and asked == []  # published: nobody to ask
    out = await service.submit_action(
        parse(), ANONYMOUS, {"sonia-dahmani": confirming}.get, CTX, publisher, holding
    )
    assert isinstance(out, service.Held) and asked == ["fr"]
    assert [held.language for held in store.held] == ["fr"]
    bilingual = parse(supporter={**signature()["supporter"], "language": "pt-BR"})
    await service.submit_action(
        bilingual, ANONYMOUS, {"sonia-dahmani": confirming}.get, CTX, publisher, holding
    )
    assert asked == ["fr"] and store.held[-1].language == "pt"  # the supporter's own


async def test_accepted_actions_are_counted_by_type_and_channel_disposable_ones_too() -> None:
    def sample(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    accepted = "plume_intake_actions_accepted_total"
    disposable = "plume_intake_disposable_emails_total"
    before = (
        sample(accepted, type="signature", channel="partner"),
        sample(accepted, type="letter", channel="partner"),
        sample(disposable, channel="partner"),
    )
    bot = {"name": "B", "email": "b@mailinator.com", "country": "FR"}
    items: list[ActionIn | list[FieldError]] = [
        parse(action_id=None),
        parse(action_id=None, supporter=bot),
        parse(action_id=None, type="letter"),
    ]
    ctx = replace(CTX, origin_secret=b"origin-secret-0123456789")
    await service.submit_batch(items, Caller("ngo", partner=True), CASES.get, ctx, FakePublisher())
    after = (
        sample(accepted, type="signature", channel="partner"),
        sample(accepted, type="letter", channel="partner"),
        sample(disposable, channel="partner"),
    )
    assert [a - b for a, b in zip(after, before, strict=True)] == [2, 1, 1]
