"""Who a dossier goes to, and what of the case its cover letter keeps: signatures go to
every authority the case targets; solidarity messages go to the person of the case."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.delivery.domain.policy import CutReason
from shared.contracts.catalog import CaseRecord
from shared.contracts.dossiers import DossierKind


@dataclass(frozen=True)
class Addressee:
    target_id: str
    target: dict[str, Any]  # as the dossier stores it (JSON): name, language, delivery


@dataclass(frozen=True)
class CutOrder:
    """Seal what is pending of one case and kind into one dossier per addressee, each
    with `snapshot`, what its cover letter needs."""

    case_id: str
    kind: DossierKind
    reason: CutReason
    addressees: list[Addressee]
    snapshot: dict[str, Any]


def cut_order(record: CaseRecord, kind: DossierKind, reason: CutReason) -> CutOrder:
    return CutOrder(record.case.id, kind, reason, addressees(record, kind), case_snapshot(record))


def addressees(record: CaseRecord, kind: DossierKind) -> list[Addressee]:
    """One dossier per addressee of this kind of items."""
    case = record.case
    if kind is DossierKind.SIGNATURES:
        return [Addressee(t.id, t.model_dump(mode="json")) for t in case.targets]
    # The person of the case, handed over by hand, addressed in the language of the
    # case's first target (the authorities of the person's country).
    person = {
        "id": case.id,
        "name": case.name,
        "language": case.targets[0].language,
        "delivery": {"channel": "manual"},
    }
    return [Addressee(case.id, person)]


def case_snapshot(record: CaseRecord) -> dict[str, Any]:
    """What the cover letter needs, fixed at the cut (a later campaign edit leaves it)."""
    case = record.case
    return {
        "name": case.name,
        "summary": case.summary,
        "request": case.request,
        "sender": record.sender.model_dump(mode="json") if record.sender else None,
        "campaign": record.campaign_name,
    }


def webhook_targets(records: list[CaseRecord]) -> list[str]:
    """Ids of the targets (case/target) delivered by webhook."""
    return [
        f"{record.case.id}/{target.id}"
        for record in records
        for target in record.case.targets
        if target.delivery.channel == "webhook"
    ]


class WebhookSecretMissing(Exception):
    """Webhook targets exist but no secret to sign their requests with was set."""

    def __init__(self, targets: list[str]) -> None:
        shown = ", ".join(targets[:5]) + (", ..." if len(targets) > 5 else "")
        super().__init__(
            f"{len(targets)} target(s) are delivered by webhook ({shown}) but "
            "PLUME_DELIVERY_WEBHOOK_SECRET is not set: set it to the secret the receivers "
            "check the X-Plume-Signature header with"
        )


def require_webhook_secret(records: list[CaseRecord], secret_set: bool) -> None:
    """Refuse (WebhookSecretMissing) to deliver by webhook without a secret."""
    targets = webhook_targets(records)
    if targets and not secret_set:
        raise WebhookSecretMissing(targets)
