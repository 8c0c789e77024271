"""Solidarity messages reach the person of the case: message, country, and the first
name only of those who agreed to share their name; plus the service's metrics."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from shared.apikeys import Scope
from shared.contracts.actions import ActionEvent, ActionType, Channel
from tests.integration.delivery.conftest import MakeSettings
from tests.integration.delivery.helpers import (
    case,
    new_key,
    publish,
    serving,
    signature,
    stored,
)
from tests.waiting import wait_until

pytestmark = pytest.mark.integration


def message(case_id: str, text: str, name: str | None, consent: bool) -> ActionEvent:
    now = datetime.now(UTC)
    return ActionEvent(
        action_id=uuid.uuid4(),
        case_id=case_id,
        type=ActionType.SOLIDARITY_MESSAGE,
        count=1,
        channel=Channel.WEB,
        country="BR",
        supporter_key=uuid.uuid4().hex,
        supporter_name=name if consent else None,
        share_name_with_target=consent,
        message=text,
        occurred_at=now,
        accepted_at=now,
        source="test",
    )


async def test_solidarity_dossier_has_first_names_only_with_consent(
    make_settings: MakeSettings,
) -> None:
    settings = await make_settings()
    case_id = "case-" + settings.db_schema[-10:]
    target = {"id": "authority", "name": "Ministry", "country": "TN", "language": "fr"}
    actions = [
        message(case_id, "=Tenez bon !", "Awa Diallo", consent=True),
        message(case_id, "Força!", "Hidden Person", consent=False),
        signature(case_id, "k1", "Jean Dupont"),
    ]
    await publish(settings, [case(case_id, [target])], actions)
    key = await new_key(settings, {Scope.DOSSIERS_READ, Scope.DOSSIERS_WRITE})
    headers = {"X-API-Key": key}
    async with serving(settings) as client:
        await wait_until(lambda: stored(settings, "solidarity_messages"), lambda n: n == 2)
        await wait_until(lambda: stored(settings, "signatures"), lambda n: n == 1)

        async def cut() -> list[dict[str, Any]]:
            response = await client.post(f"/v1/cases/{case_id}/dossiers", headers=headers)
            return list(response.json())

        dossiers = await wait_until(cut, lambda ds: any(d["kind"] == "solidarity" for d in ds))
        [solidarity] = [d for d in dossiers if d["kind"] == "solidarity"]
        assert solidarity["count"] == 2 and solidarity["target_id"] == case_id

        async def rendered() -> dict[str, Any]:
            response = await client.get(f"/v1/dossiers/{solidarity['id']}", headers=headers)
            return dict(response.json())

        manifest = await wait_until(rendered, lambda m: "dossier.pdf" in m["sha256"])
        assert set(manifest["sha256"]) == {"messages.csv", "dossier.pdf"}
        got = await client.get(f"/v1/dossiers/{solidarity['id']}/messages.csv", headers=headers)
        rows = list(csv.reader(io.StringIO(got.text)))
        assert rows[0] == ["first_name", "country", "message"]
        assert sorted(rows[1:]) == [["", "BR", "Força!"], ["Awa", "BR", "'=Tenez bon !"]]
        assert "Diallo" not in got.text and "Hidden" not in got.text

        metrics = (await client.get("/metrics")).text
        assert f'plume_delivery_pending_signatures{{case="{case_id}"}}' in metrics
        assert "plume_delivery_render_seconds_count" in metrics
