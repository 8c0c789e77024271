"""The campaign file (`plume campaign load`) and the case records of `plume.cases.v1`."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, EmailStr, Field, model_validator

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
Slug = Annotated[str, Field(pattern=SLUG_PATTERN, min_length=1, max_length=80)]
CountryCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
LanguageCode = Annotated[str, Field(pattern=r"^[a-z]{2}$")]
# A web origin allowed to call intake from a browser (CORS): scheme, host, optional port.
Origin = Annotated[str, Field(pattern=r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$", max_length=300)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CaseStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class ManualDelivery(Strict):
    channel: Literal["manual"] = "manual"


class EmailDelivery(Strict):
    channel: Literal["email"]
    address: EmailStr


class WebhookDelivery(Strict):
    channel: Literal["webhook"]
    url: AnyHttpUrl


Delivery = Annotated[
    ManualDelivery | EmailDelivery | WebhookDelivery, Field(discriminator="channel")
]


class Target(Strict):
    id: Slug
    name: str = Field(min_length=1, max_length=300)
    # The name in other languages: the cover letter uses the one in the target's language.
    names: dict[LanguageCode, str] = Field(default_factory=dict)
    country: CountryCode
    language: LanguageCode
    delivery: Delivery = ManualDelivery()


class Case(Strict):
    id: Slug
    name: str = Field(min_length=1, max_length=200)
    country: CountryCode
    status: CaseStatus = CaseStatus.OPEN
    # The name in other languages, shown to supporters in theirs (the widget).
    names: dict[LanguageCode, str] = Field(default_factory=dict)
    summary: dict[LanguageCode, str] = Field(default_factory=dict)
    # Actions the widget's progress bar aims at; none: no progress bar.
    goal: int | None = Field(default=None, gt=0)
    # Whether the widget also offers a solidarity message to the person of the case.
    solidarity_messages: bool = False
    # What the case asks of its targets, for the dossiers' cover letters (any languages).
    request: dict[LanguageCode, str] = Field(default_factory=dict)
    targets: list[Target] = Field(min_length=1)

    @model_validator(mode="after")
    def _targets_unique(self) -> Case:
        _refuse_repeats("target id", [t.id for t in self.targets])
        return self


class Sender(Strict):
    """Who signs the dossiers' cover letters: an organisation, its postal address lines and
    how to reach it."""

    name: str = Field(min_length=1, max_length=200)
    address: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=6
    )
    email: EmailStr | None = None
    website: AnyHttpUrl | None = None


class CampaignFile(Strict):
    id: Slug
    name: str = Field(min_length=1, max_length=200)
    milestones: list[Annotated[int, Field(gt=0)]] = Field(default_factory=list)
    sender: Sender | None = None
    # Web origins whose pages may call intake from a browser (with PLUME_INTAKE_CORS_ORIGINS).
    allowed_origins: list[Origin] = Field(default_factory=list)
    # A signature counts (and reaches a dossier) only once its supporter confirmed it from
    # the link emailed to them (intake holds it until then).
    confirm_signatures: bool = False
    # The consent texts supporters are shown, by id, each in its languages; an action names
    # the one its supporter saw (`consent.text_id`), kept with the signature as proof.
    consent_texts: dict[Slug, dict[LanguageCode, str]] = Field(default_factory=dict)
    cases: list[Case] = Field(min_length=1)

    @model_validator(mode="after")
    def _cases_unique(self) -> CampaignFile:
        _refuse_repeats("case id", [c.id for c in self.cases])
        return self


def _refuse_repeats(what: str, ids: list[str]) -> None:
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise ValueError(f"{what} repeated: {', '.join(repeated)}")


class CaseRecord(Strict):
    """Value of `plume.cases.v1` (compacted, keyed by case id): the latest state of a case."""

    schema_version: Literal[1] = 1
    campaign_id: str
    campaign_name: str
    milestones: list[int]
    case: Case
    sender: Sender | None = None
    allowed_origins: list[str] = Field(default_factory=list)
    confirm_signatures: bool = False
    consent_texts: dict[str, dict[str, str]] = Field(default_factory=dict)

    @property
    def is_open(self) -> bool:
        return self.case.status is CaseStatus.OPEN


def case_records(campaign: CampaignFile) -> list[CaseRecord]:
    """Split a campaign file into the per-case records that are published."""
    milestones = sorted(set(campaign.milestones))
    return [
        CaseRecord(
            campaign_id=campaign.id,
            campaign_name=campaign.name,
            milestones=milestones,
            case=case,
            sender=campaign.sender,
            allowed_origins=campaign.allowed_origins,
            confirm_signatures=campaign.confirm_signatures,
            consent_texts=campaign.consent_texts,
        )
        for case in campaign.cases
    ]
