"""The wave detector on a made-up clock: a network, a domain or a source far above its
usual rate is flagged; steady traffic, a busy key at its usual rate, and warm-up are not;
memory stays bounded."""

from __future__ import annotations

from dataclasses import replace

import pytest

from services.counter.domain.model import LedgerEntry, entry_of
from services.counter.domain.waves import DOMAIN, NETWORK, SOURCE, Thresholds, WaveDetector
from shared.contracts.actions import Channel
from tests.unit.counter.builders import action

pytestmark = pytest.mark.unit
T = Thresholds(window_s=60, bucket_s=5, usual_s=3600, factor=10, min_actions=50, warmup_s=300)
START = 1_000_000.0


def entries(
    n: int, network: str, domain: str, source: str = "anonymous", channel: Channel = Channel.WEB
) -> list[LedgerEntry]:
    made = [entry_of(action(source=source, channel=channel)) for _ in range(n)]
    return [e._replace(network_hash=network, email_domain_hash=domain) for e in made]


def steady(detector: WaveDetector, seconds: int, start: float = START) -> float:
    """Normal traffic: every 5 s, 10 actions from 10 networks and 3 domains, plus a
    busy domain ("gmail") with 20 actions."""
    now = start
    for tick in range(seconds // 5):
        now = start + 5 * tick
        normal = [e for i in range(10) for e in entries(1, f"net-{tick}-{i}", f"dom-{i % 3}")]
        detector.observe(normal + entries(20, f"net-b-{tick}", "gmail"), now)
    return now


def test_a_bot_wave_is_flagged_by_network_and_domain_not_the_busy_domain() -> None:
    detector = WaveDetector(T, START)
    now = steady(detector, 600)
    assert detector.waves(now) == []
    detector.observe(entries(120, "bot-net", "bot-mail"), now + 1)
    waves = detector.waves(now + 2)
    assert {(w.kind, w.key, w.actions) for w in waves} == {
        (NETWORK, "bot-net", 120),
        (DOMAIN, "bot-mail", 120),
    }
    assert all(w.case_id == "case-a" and w.usual == 0 for w in waves)


def test_few_actions_are_never_a_wave_and_a_doubling_is_not_far_above() -> None:
    detector = WaveDetector(T, START)
    now = steady(detector, 600)
    detector.observe(entries(49, "small-net", "small-mail"), now + 1)
    busy = [e for i in range(240) for e in entries(1, f"other-{i}", "gmail")]
    detector.observe(busy, now + 1)  # gmail at twice its usual rate: not a wave
    assert detector.waves(now + 2) == []


def test_no_flag_while_warming_up() -> None:
    detector = WaveDetector(T, START)
    detector.observe(entries(500, "bot-net", "bot-mail"), START + 10)
    assert detector.waves(START + 11) == []
    assert detector.waves(START + 301) == []  # by then the wave has left the window


def test_a_partner_source_is_judged_but_its_networks_are_not() -> None:
    detector = WaveDetector(T, START)
    now = steady(detector, 600)
    detector.observe(entries(300, "partner-server", "x", "partner-1", Channel.PARTNER), now + 1)
    assert [(w.kind, w.key) for w in detector.waves(now + 2)] == [(SOURCE, "partner-1")]


def test_a_wave_becomes_usual_only_after_it_leaves_the_window() -> None:
    detector = WaveDetector(T, START)
    now = steady(detector, 600)
    for second in range(0, 60, 5):
        detector.observe(entries(20, "bot-net", "d"), now + second)
    assert any(w.key == "bot-net" for w in detector.waves(now + 59))
    detector.forget("case-a", NETWORK, "bot-net")
    assert not any(w.key == "bot-net" for w in detector.waves(now + 59))


def test_memory_stays_bounded() -> None:
    detector = WaveDetector(replace(T, max_keys=1_000), START)
    now = steady(detector, 3600)
    assert len(detector.rates) < 1_000
    idle = detector.waves(now + 3600)  # an hour without traffic: networks forgotten
    assert idle == [] and len(detector.rates) == 5  # the usual of the source and domains
    for i in range(5):
        detector.observe(entries(1, f"burst-{i}", "x"), now + 3600)
    detector.observe([e for i in range(2_000) for e in entries(1, f"many-{i}", "y")], now + 3601)
    assert len(detector.rates) <= 1_000
