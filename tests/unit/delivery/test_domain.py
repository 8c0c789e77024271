from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.delivery.domain.csvsafe import PLAIN_STARTS, safe_cell, starts_a_formula
from services.delivery.domain.intake import first_name, sort_actions
from services.delivery.domain.policy import CutPolicy, CutReason
from services.delivery.domain.status import (
    DossierStatus,
    TransitionRefused,
    check_transition,
    retry_delay,
)
from shared.contracts.actions import ActionEvent, ActionType, Channel

pytestmark = pytest.mark.unit
NOW = datetime(2025, 12, 10, 12, tzinfo=UTC)


def action(**fields: object) -> ActionEvent:
    values: dict[str, object] = {
        "action_id": uuid.uuid4(),
        "case_id": "sonia-dahmani",
        "type": ActionType.SIGNATURE,
        "count": 1,
        "channel": Channel.WEB,
        "country": "FR",
        "supporter_key": "k1",
        "occurred_at": NOW,
        "accepted_at": NOW,
        "source": "anonymous",
    }
    values.update(fields)
    return ActionEvent.model_validate(values)


class TestCutPolicy:
    policy = CutPolicy(size=100, max_age=timedelta(hours=24))

    def test_nothing_pending_is_never_cut(self) -> None:
        assert self.policy.reason_to_cut(0, None, NOW, case_open=False) is None

    def test_cut_by_size_at_the_threshold_not_before(self) -> None:
        assert self.policy.reason_to_cut(99, NOW, NOW, True) is None
        assert self.policy.reason_to_cut(100, NOW, NOW, True) is CutReason.SIZE

    def test_cut_by_age_of_the_oldest_pending(self) -> None:
        young = NOW - timedelta(hours=23, minutes=59)
        assert self.policy.reason_to_cut(1, young, NOW, True) is None
        assert self.policy.reason_to_cut(1, NOW - timedelta(hours=24), NOW, True) is CutReason.AGE

    def test_a_closed_case_is_cut_at_once(self) -> None:
        assert self.policy.reason_to_cut(1, NOW, NOW, case_open=False) is CutReason.CLOSED


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ('=HYPERLINK("x")', '\'=HYPERLINK("x")'),
        ("+33 1", "'+33 1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTab", "'\tTab"),
        ("\rCR", "'\rCR"),
        ("\nLF", "'\nLF"),
        # Full-width and small forms: spreadsheets (East Asian locales) read them as the
        # ASCII sign; so does a formula behind leading spaces.
        ('\uff1dHYPERLINK("x")', '\'\uff1dHYPERLINK("x")'),
        ("\uff0b33 1", "'\uff0b33 1"),
        ("\uff0d2+3", "'\uff0d2+3"),
        ("\uff20SUM(A1)", "'\uff20SUM(A1)"),
        ("\ufe66cmd", "'\ufe66cmd"),
        ("\u22122+3", "'\u22122+3"),
        ("  =1+1", "'  =1+1"),
        ("\u3000\uff1d1+1", "'\u3000\uff1d1+1"),
        ("Awa Diallo", "Awa Diallo"),
        ("\uff21wa", "\uff21wa"),
        ("\u738b\u5c0f\u660e", "\u738b\u5c0f\u660e"),
        ("Jean-Luc", "Jean-Luc"),
        ("", ""),
    ],
)
def test_csv_cells_that_start_a_formula_become_text(cell: str, expected: str) -> None:
    assert safe_cell(cell) == expected


def test_a_cell_starting_with_an_ascii_letter_or_digit_is_never_a_formula() -> None:
    """safe_cell's shortcut (PLAIN_STARTS) gives the whole rule's answer."""
    for first in PLAIN_STARTS:
        for rest in ("", "=1+1", " -2", "\uff1dx"):
            assert not starts_a_formula(first + rest)
            assert safe_cell(first + rest) == first + rest


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Awa Diallo", "Awa"),
        ("  Иван  Петров ", "Иван"),
        ("王小明", "王小明"),
        ("", None),
        (None, None),
    ],
)
def test_first_name_is_the_first_word(name: str | None, expected: str | None) -> None:
    assert first_name(name) == expected


class TestSortActions:
    def test_only_consenting_signatures_carry_a_name(self) -> None:
        named = action(supporter_name="Awa Diallo", share_name_with_target=True)
        unnamed = action(supporter_key="k2", supporter_name=None, country="SN")
        out = sort_actions([named, unnamed])
        assert [(s.name, s.country) for s in out.named] == [("Awa Diallo", "FR")]
        assert [(u.supporter_key, u.country) for u in out.unnamed] == [("k2", "SN")]

    def test_one_signature_per_supporter_and_case_first_wins(self) -> None:
        first = action(supporter_name="A", share_name_with_target=True)
        again = action(supporter_name="B", share_name_with_target=True)
        other_case = action(case_id="juan-lopez", supporter_name="C", share_name_with_target=True)
        out = sort_actions([first, again, other_case])
        assert [(s.case_id, s.name) for s in out.named] == [
            ("sonia-dahmani", "A"),
            ("juan-lopez", "C"),
        ]

    def test_heartbeats_and_other_types_are_ignored(self) -> None:
        out = sort_actions(
            [action(heartbeat=True), action(type=ActionType.LETTER, supporter_key="k9")]
        )
        assert (out.named, out.unnamed, out.messages) == ([], [], [])

    def test_solidarity_message_keeps_first_name_only_with_consent(self) -> None:
        consented = action(
            type=ActionType.SOLIDARITY_MESSAGE,
            message="Courage!",
            supporter_name="Awa Diallo",
            share_name_with_target=True,
        )
        anonymous = action(
            type=ActionType.SOLIDARITY_MESSAGE, message="Stay strong", supporter_key="k3"
        )
        out = sort_actions([consented, anonymous])
        assert [(m.first_name, m.message) for m in out.messages] == [
            ("Awa", "Courage!"),
            (None, "Stay strong"),
        ]


class TestStateMachine:
    @pytest.mark.parametrize(
        ("current", "wanted"),
        [
            (DossierStatus.SEALED, DossierStatus.SENT),
            (DossierStatus.SEALED, DossierStatus.FAILED),
            (DossierStatus.FAILED, DossierStatus.FAILED),
            (DossierStatus.FAILED, DossierStatus.SENT),
            (DossierStatus.SENT, DossierStatus.ACKNOWLEDGED),
            (DossierStatus.SEALED, DossierStatus.ACKNOWLEDGED),
        ],
    )
    def test_allowed(self, current: DossierStatus, wanted: DossierStatus) -> None:
        check_transition(current, wanted)

    @pytest.mark.parametrize(
        ("current", "wanted"),
        [
            (DossierStatus.SENT, DossierStatus.FAILED),
            (DossierStatus.SENT, DossierStatus.SEALED),
            (DossierStatus.ACKNOWLEDGED, DossierStatus.SENT),
            (DossierStatus.SENT, DossierStatus.SENT),
        ],
    )
    def test_refused(self, current: DossierStatus, wanted: DossierStatus) -> None:
        with pytest.raises(TransitionRefused):
            check_transition(current, wanted)

    def test_retry_backoff_doubles_and_is_capped(self) -> None:
        delays = [retry_delay(n, base=2, cap=60).total_seconds() for n in range(1, 8)]
        assert delays == [2, 4, 8, 16, 32, 60, 60]
