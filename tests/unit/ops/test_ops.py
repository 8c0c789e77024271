from __future__ import annotations

import pytest

from ops.ledger import RequestLog, Sent
from ops.load import Outcome
from ops.traffic import TrafficMaker, peak_rate
from ops.verify import Verdict

pytestmark = pytest.mark.unit


def test_peak_is_on_the_evening_of_10_december() -> None:
    rates = [peak_rate(i / 100, peak=1000, base=100) for i in range(101)]
    assert max(range(101), key=lambda i: rates[i]) == 75
    assert rates[0] < 150 and rates[75] == pytest.approx(1000)


def test_online_actions_follow_the_contract_shape() -> None:
    maker = TrafficMaker(["sonia-dahmani", "damisoa"], seed=7)
    actions = [maker.online_action() for _ in range(500)]
    assert {a["case_id"] for a in actions} == {"sonia-dahmani", "damisoa"}
    assert len({a["supporter"]["email"] for a in actions}) == 500
    assert all(a["supporter"]["email"].endswith("@example.org") for a in actions)
    assert all("message" in a for a in actions if a["type"] == "solidarity_message")
    assert sum(a["type"] == "signature" for a in actions) > 250


def test_tally_has_no_supporter_and_a_count() -> None:
    tally = TrafficMaker(["damisoa"], seed=1).tally(300)
    assert tally["count"] == 300 and "supporter" not in tally


def test_request_log_counts_by_outcome() -> None:
    log = RequestLog("chaos-x")
    body, sent = log.action(3)
    assert body["case_id"] == "chaos-x" and sent.name.endswith("0000003")
    log.sent += [Sent("a", "n", True, Outcome.OK), Sent("b", "m", False, Outcome.REFUSED)]
    assert log.count(Outcome.OK) == 1 and log.ids(Outcome.REFUSED) == {"b"}


def test_verdict_is_clean_only_without_any_violation() -> None:
    verdict = Verdict({"ok": 10}, faults_injected=6)
    assert verdict.clean and "CLEAN" in verdict.report()
    verdict.lost = 1
    assert not verdict.clean and "lost: 1" in verdict.report()


def test_the_probe_s_batches_are_valid_and_of_the_size_asked() -> None:
    from ops.probe import address
    from ops.probe_batches import BATCH_ITEMS, batch_body
    from services.intake.domain.model import BatchIn
    from services.intake.entrypoints.requests import BATCH_LIMIT

    body = batch_body("sonia-dahmani", BATCH_LIMIT - 4_096)
    assert BATCH_LIMIT - 64 * 1024 < len(body) <= BATCH_LIMIT
    assert len(BatchIn.model_validate_json(body).actions) == BATCH_ITEMS
    assert len({address(i) for i in range(70_000)}) == 70_000
