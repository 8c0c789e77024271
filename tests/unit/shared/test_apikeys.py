"""Key names the system gives to actions of its own cannot be a key's."""

from __future__ import annotations

from typing import cast

import pytest

from shared import apikeys
from shared.db import Conn

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("name", ["web", "anonymous", "heartbeat"])
async def test_a_key_cannot_take_a_name_the_totals_give_to_keyless_actions(name: str) -> None:
    with pytest.raises(apikeys.KeyNameTaken):
        await apikeys.create_key(cast(Conn, None), name, {apikeys.Scope.ACTIONS_WRITE}, 0)
