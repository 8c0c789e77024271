"""The data-key store's contract against the in-memory fake."""

from __future__ import annotations

from typing import Any, cast

import pytest

from shared.db import Conn
from tests.unit.shared.data_keys_contract import DataKeysContract, Store
from tests.unit.shared.fake_data_keys import FakeDataKeyStore

pytestmark = pytest.mark.unit


class TestFakeDataKeys(DataKeysContract):
    @pytest.fixture
    def store(self) -> Store:
        no_connection = cast(Any, None)  # the fake holds no transaction
        return Store(FakeDataKeyStore(), cast(Conn, no_connection))
