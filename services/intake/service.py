"""Use cases of the intake, given their ports: accept one action, accept a batch, send
heartbeats."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from services.intake import metrics
from services.intake.domain.actions import Caller, CaseLookup, Context, Rejection, decide, heartbeat
from services.intake.domain.confirmations import (
    HeldSignature,
    Pending,
    needs_confirmation,
    new_token,
    token_hash,
)
from services.intake.domain.errors import FieldError
from services.intake.domain.fast_model import Action
from services.intake.domain.ports import (
    ActionPublisher,
    ConfirmationMailer,
    PendingSignatures,
    PublishUnavailable,
)
from shared.contracts.action_record import ActionRecord
from shared.contracts.actions import ActionType, Channel
from shared.logs import trace_fields

log = logging.getLogger(__name__)


def _count_accepted(events: Sequence[ActionRecord]) -> None:
    # One pass into plain dicts: collections.Counter cost ~3 % of a single POST's CPU.
    tally: dict[tuple[ActionType, Channel], int] = {}
    disposable: dict[Channel, int] = {}
    for event in events:
        pair = (event.type, event.channel)
        tally[pair] = tally.get(pair, 0) + 1
        if event.disposable_email:
            disposable[event.channel] = disposable.get(event.channel, 0) + 1
    for (kind, channel), count in tally.items():
        metrics.accepted(kind, channel).inc(count)
    for channel, count in disposable.items():
        metrics.DISPOSABLE_EMAILS.labels(channel.value).inc(count)


def _english() -> str:
    return "en"


@dataclass(frozen=True)
class Holding:
    """Where signatures wait for confirmation, how long, and the language to ask in: found
    only for a signature held, as most requests hold none (reading it from the request's
    query and Accept-Language cost 3-4 % of a single POST's CPU in the profile)."""

    store: PendingSignatures
    confirm_within: timedelta
    language: Callable[[], str] = _english


@dataclass(frozen=True)
class Held:
    """A signature held until its supporter confirms it: not published, not counted."""

    event: ActionRecord


async def hold(event: ActionRecord, action: Action, holding: Holding, now: datetime) -> Held:
    supporter = action.supporter
    # a single signature has a supporter with an email (model.ActionIn, whole_action.py)
    assert supporter is not None and supporter.email is not None
    language = (supporter.language or holding.language()).split("-")[0].lower()
    token = new_token()
    expires_at = now + holding.confirm_within
    held = HeldSignature(event, supporter.email, language, token_hash(token), expires_at)
    if await holding.store.hold(held, token):
        metrics.HELD.inc()
    return Held(event)


async def submit_action(
    action: Action,
    caller: Caller,
    cases: CaseLookup,
    ctx: Context,
    publisher: ActionPublisher,
    holding: Holding | None = None,
) -> ActionRecord | Held | Rejection:
    """The accepted event (acknowledged by Kafka), the signature held for confirmation
    (stored in PostgreSQL) or the rejection; PublishUnavailable propagates when Kafka
    cannot take it."""
    outcome = decide(action, caller, cases, ctx)
    if isinstance(outcome, Rejection):
        return outcome  # counted with the answer's status
    if holding is not None and needs_confirmation(outcome, cases(outcome.case_id)):
        return await hold(outcome, action, holding, ctx.now)
    try:
        await publisher.publish([outcome])
    except PublishUnavailable as exc:
        exc.action_id = outcome.action_id
        raise
    _count_accepted([outcome])
    return outcome


@dataclass(slots=True)
class ItemResult:
    """One per action of a batch. (Not frozen: a frozen dataclass sets each field through
    object.__setattr__, ~1 µs more per action, 3 % of a batch action's CPU.)"""

    index: int
    event: ActionRecord | None = None
    errors: tuple[FieldError, ...] = ()
    held: bool = False  # waiting for its supporter's confirmation, not published


async def submit_batch(
    items: Sequence[Action | list[FieldError]],
    caller: Caller,
    cases: CaseLookup,
    ctx: Context,
    publisher: ActionPublisher,
    holding: Holding | None = None,
) -> list[ItemResult]:
    """Per-item results; every accepted event was acknowledged together before this
    returns, or PublishUnavailable propagates and none counts as accepted. Signatures of
    campaigns that ask for confirmation are held instead."""
    results: list[ItemResult] = []
    for index, item in enumerate(items):
        if isinstance(item, list):
            metrics.rejected(422)
            results.append(ItemResult(index, errors=tuple(item)))
            continue
        outcome = decide(item, caller, cases, ctx)
        if isinstance(outcome, Rejection):
            metrics.rejected(outcome.status)
            results.append(ItemResult(index, errors=outcome.errors))
        elif holding is not None and needs_confirmation(outcome, cases(outcome.case_id)):
            await hold(outcome, item, holding, ctx.now)
            results.append(ItemResult(index, event=outcome, held=True))
        else:
            results.append(ItemResult(index, event=outcome))
    events = [result.event for result in results if result.event is not None and not result.held]
    if events:
        try:
            await publisher.publish(events)
        except PublishUnavailable as exc:  # the ids the client retries with, item by item
            exc.action_ids = [
                str(result.event.action_id) if result.event else None for result in results
            ]
            raise
        _count_accepted(events)
        if log.isEnabledFor(logging.DEBUG):
            for event in events:
                log.debug("accepted", extra=trace_fields(event))
    return results


async def confirm_signature(
    token: str, store: PendingSignatures, publisher: ActionPublisher
) -> Pending | None:
    """Publish the signature a confirmation link points at (once Kafka acknowledged it,
    it is marked confirmed); None for an unknown or expired link. PublishUnavailable
    propagates (the supporter is asked to try again)."""
    digest = token_hash(token)
    pending = await store.find(digest)
    if pending is None or pending.event is None:  # unknown, or confirmed before
        return pending
    await publisher.publish([pending.event])
    await store.confirm(digest)
    metrics.CONFIRMED.inc()
    _count_accepted([pending.event])
    return pending


MAIL_BATCH = 50


async def mail_confirmation_requests(
    store: PendingSignatures,
    mailer: ConfirmationMailer,
    link_of: Callable[[str], str],
    case_name: Callable[[str], str],
) -> int:
    """Email the requests not sent yet; one SMTP refusal ends this round (retried)."""
    mails = await store.unmailed(MAIL_BATCH)
    for mail in mails:
        try:
            await mailer.send(mail, link_of(mail.token), case_name(mail.case_id))
        except OSError:
            metrics.CONFIRMATION_MAIL_FAILURES.inc()
            raise
        await store.mailed(mail.action_id)
        metrics.CONFIRMATIONS_MAILED.inc()
    return len(mails)


async def erase_unconfirmed(store: PendingSignatures, now: datetime) -> int:
    erased = await store.expire(now)
    metrics.UNCONFIRMED_ERASED.inc(erased)
    return erased


async def send_heartbeats(publisher: ActionPublisher, every_s: float) -> None:
    """Publish a heartbeat action every `every_s` seconds until cancelled; a failed one is
    skipped (the missing heartbeat is the signal operators watch)."""
    while True:
        try:
            beat = heartbeat(datetime.now(UTC))
            await publisher.publish([beat])
            log.info("heartbeat sent", extra=trace_fields(beat))
        except PublishUnavailable:
            log.warning("heartbeat not written: Kafka unavailable")
        await asyncio.sleep(every_s)
