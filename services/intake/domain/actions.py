"""The decision on one validated action: may this caller send it, is its case open, and
what exactly goes on the wire (only the personal data the supporter consented to share)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from services.intake.domain.errors import FieldError
from services.intake.domain.fast_model import Action, FastTracking
from services.intake.domain.model import TrackingIn
from services.intake.domain.origins import Origin, origin_of
from services.intake.domain.supporter_key import supporter_key
from shared.action_ids import new_action_id
from shared.contracts.action_record import ActionRecord, TrackingRecord
from shared.contracts.actions import NO_COUNTRY, ActionType, Channel
from shared.contracts.catalog import CaseRecord

CaseLookup = Callable[[str], CaseRecord | None]


@dataclass(frozen=True)
class Caller:
    """Who is sending: the key's name (or "anonymous") and whether it may send tallies."""

    source: str
    may_tally: bool = False
    partner: bool = False  # sending through the batch endpoint


ANONYMOUS = Caller("anonymous")
HEARTBEAT_CASE = "plume-heartbeat"  # reserved: never a campaign's case


@dataclass(frozen=True)
class Context:
    secret: bytes
    now: datetime
    clock_skew_s: int
    request_id: str | None = None
    client_address: str | None = None  # as the HTTP layer decided it
    origin_secret: bytes | None = None  # key of the abuse-detection hashes (origins.py)

    def origin(self, email: str | None) -> Origin:
        if self.origin_secret is None:
            return Origin()
        return origin_of(self.origin_secret, self.client_address, email)


@dataclass(frozen=True)
class Rejection:
    status: int  # 403 tally not allowed, 409 closed case, 422 invalid
    title: str
    errors: tuple[FieldError, ...] = ()
    action_id: UUID | None = None


def decide(
    action: Action, caller: Caller, cases: CaseLookup, ctx: Context
) -> ActionRecord | Rejection:
    """The event to publish for `action`, or why it is refused. `action` was validated
    against the catalogue and the clock (model.Rules, at `ctx.now`): an unknown case or a
    future date was refused there, listed with every other failing field."""
    action_id = action.action_id or new_action_id()
    tally, closed = _tally_refused(action, caller), _case_refused(action, cases)
    consent = _consent_text_refused(action, cases)
    if tally or closed or consent:  # every fault listed, under the status of the first
        refusals = [refusal for refusal in (tally, closed, consent) if refusal]
        status, title = refusals[0][0], refusals[0][1]
        return Rejection(status, title, tuple(r[2] for r in refusals), action_id)
    occurred_at = action.occurred_at or ctx.now
    return _event(action, action_id, occurred_at, _channel(action, caller), caller, ctx)


def _tally_refused(action: Action, caller: Caller) -> tuple[int, str, FieldError] | None:
    if action.count is None or action.count <= 1 or caller.may_tally:
        return None
    title = "Tallies need a key with the actions:tally scope"
    message = "must be 1 without the actions:tally scope"
    return 403, title, {"field": "count", "code": "tally_scope_required", "message": message}


def _case_refused(action: Action, cases: CaseLookup) -> tuple[int, str, FieldError] | None:
    case = cases(action.case_id)
    if case is not None and case.is_open:  # None: removed from the catalogue since then
        return None
    message = "is closed and takes no more actions"
    return (
        409,
        "The case is closed",
        {"field": "case_id", "code": "case_closed", "message": message},
    )


def _consent_text_refused(action: Action, cases: CaseLookup) -> tuple[int, str, FieldError] | None:
    text_id, case = action.consent.text_id, cases(action.case_id)
    if text_id is None or case is None or text_id in case.consent_texts:
        return None
    message = "is not a consent text of the campaign"
    return (
        422,
        "Validation failed",
        {"field": "consent.text_id", "code": "unknown_consent_text", "message": message},
    )


def _channel(action: Action, caller: Caller) -> Channel:
    if caller.partner:
        return Channel.PARTNER
    if action.count is not None and caller.may_tally:
        return Channel.EVENT
    return Channel.WEB


def _event(
    action: Action,
    action_id: UUID,
    occurred_at: datetime,
    channel: Channel,
    caller: Caller,
    ctx: Context,
) -> ActionRecord:
    supporter, consent = action.supporter, action.consent
    email = supporter.email if supporter else None  # a tally's supporters may have none
    origin = ctx.origin(email)
    tracking = action.tracking
    # A Struct, not an ActionEvent: what ActionIn validated needs no second check, and
    # ActionEvent's validation and encoding cost four times the Struct's (action_record.py).
    return ActionRecord(
        schema_version=1,
        action_id=action_id,
        case_id=action.case_id,
        type=action.type,
        count=action.count or 1,
        channel=channel,
        country=(supporter.country if supporter else None) or NO_COUNTRY,
        supporter_key=supporter_key(ctx.secret, email) if email else None,
        supporter_name=supporter.name if supporter and consent.share_name_with_target else None,
        supporter_email=email if consent.contact else None,
        share_name_with_target=consent.share_name_with_target,
        contact=consent.contact,
        consent_text_id=consent.text_id,
        message=action.message,
        language=supporter.language if supporter else None,
        tracking=_tracking(tracking) if tracking else None,
        occurred_at=occurred_at,
        accepted_at=ctx.now,
        source=caller.source,
        request_id=ctx.request_id,
        heartbeat=False,
        network_hash=origin.network_hash,
        email_domain_hash=origin.email_domain_hash,
        disposable_email=origin.disposable_email,
    )


def _tracking(tracking: TrackingIn | FastTracking) -> TrackingRecord:
    return TrackingRecord(
        utm_source=tracking.utm_source,
        utm_medium=tracking.utm_medium,
        utm_campaign=tracking.utm_campaign,
        referrer=tracking.referrer,
    )


def heartbeat(now: datetime) -> ActionRecord:
    """The synthetic action that proves the pipeline alive; flagged so nobody counts it.
    Its request id lets an operator follow it through every service's log."""
    action_id = new_action_id()
    return ActionRecord(
        schema_version=1,
        action_id=action_id,
        request_id=f"heartbeat-{action_id.hex[:16]}",
        case_id=HEARTBEAT_CASE,
        type=ActionType.TWEET,
        count=1,
        channel=Channel.WEB,
        occurred_at=now,
        accepted_at=now,
        source="heartbeat",
        heartbeat=True,
        country=NO_COUNTRY,
        share_name_with_target=False,
        contact=False,
        disposable_email=False,
    )
