"""Read back the actions a topic holds, to compare with what intake acknowledged."""

from __future__ import annotations

from shared.contracts.actions import ActionEvent
from shared.kafka import decode
from tests.readback import read_records


async def read_actions(bootstrap: str, topic: str) -> list[tuple[bytes, ActionEvent]]:
    """Every (key, event) of `topic` up to its current end."""
    return [
        (key or b"", decode(ActionEvent, value))
        for key, value in await read_records(bootstrap, topic)
    ]
