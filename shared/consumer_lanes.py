"""The bookkeeping of PositionedConsumer's lanes (shared/positioned_consumer.py): which
lane holds each partition, and how much fetched work is not committed yet.

A partition stays with one lane until the next assignment, so its records are committed
in the order they were fetched, while each lane takes its next records as soon as it has
committed the last: no lane waits for the slowest of a batch."""

from __future__ import annotations

import asyncio
from collections.abc import Hashable


class LaneMap:
    """The lane of each partition: a new one goes to the lane holding fewest partitions."""

    def __init__(self, lanes: int) -> None:
        self.lanes = lanes
        self._lane_of: dict[Hashable, int] = {}
        self._held = [0] * lanes

    def lane_of(self, partition: Hashable) -> int:
        lane = self._lane_of.get(partition)
        if lane is None:
            lane = min(range(self.lanes), key=self._held.__getitem__)
            self._lane_of[partition] = lane
            self._held[lane] += 1
        return lane

    def forget(self) -> None:
        """Call only when no lane holds work (a partition may then change lanes)."""
        self._lane_of.clear()
        self._held = [0] * self.lanes


class Unsettled:
    """Chunks of records handed to the lanes and not yet done with (committed, set aside,
    or given up at a stop)."""

    def __init__(self) -> None:
        self.count = 0
        self.settled = asyncio.Event()
        self.settled.set()

    def add(self) -> bool:
        """Count one more; True when it is the first since all were settled."""
        self.count += 1
        self.settled.clear()
        return self.count == 1

    def done(self) -> bool:
        """Count one less; True when it was the last."""
        self.count -= 1
        if self.count <= 0:
            self.reset()
            return True
        return False

    def reset(self) -> None:
        """Nothing is unsettled any more (the lanes and their queues are gone)."""
        self.count = 0
        self.settled.set()
