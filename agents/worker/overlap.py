"""Two stages over a sequence of batches: prepare the next one while the one before is stored.

``prepare`` is synchronous (decoding: CPU in this process); ``store`` awaits the database (a
transaction, then the offsets).  While PostgreSQL works on batch N, the event loop prepares batch
N+1; batch N+1 is stored only after ``store`` of batch N has returned, so batches are stored, and
their offsets acknowledged, strictly in the order they were read.  At most one batch is prepared
ahead: while a store waits (the database is down), no further batch is taken from the source, so
the reading stops behind it (backpressure).  Batch N+1 is taken while N is stored only once a full
batch is waiting (``ready``); otherwise when N is stored: taking what little has arrived the moment
N began would halve the batches, and double the transactions, whenever the input trickles.

``gather`` builds the batches from runs of messages: the first run is awaited, the runs queued behind
it are added, up to a number of messages, and while there are fewer, those that arrive within a
short linger (``IOC_BATCH_LINGER_S``): a transaction's cost is mostly per transaction, so a slow
trickle is stored in a few larger ones rather than one per message.
"""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sized
from typing import Generic, Optional, TypeVar

B = TypeVar("B")  # a batch as read
P = TypeVar("P")  # a prepared batch
R = TypeVar("R", bound=Sized)  # a run of messages


async def gather(runs: AsyncIterator[R], waiting: Callable[[], bool], limit: int, linger_s: float = 0.0,
                 arrived: Callable[[R], float] | None = None, poll_s: float = 0.005,
                 weigh: Callable[[R], int] | None = None, max_weight: int = 0) -> AsyncIterator[list[R]]:
    """Lists of runs: one awaited, then those ``waiting`` already, until ``limit`` messages (the run
    that reaches it included) or, with ``weigh``, until their weight reaches ``max_weight`` (the
    bytes a batch holds: what its decoding costs in memory); while less is there, runs arriving within
    ``linger_s`` of the first one (of when it ``arrived``, on the event loop's clock, when told; else
    of when it was taken) are added too, looked at every ``poll_s``.  A trickle of messages then makes
    one transaction per ``linger_s``, not one per message; a backlog, or a run that has waited that
    long already, never waits."""
    loop = asyncio.get_running_loop()
    while True:
        try:
            first = await runs.__anext__()
        except StopAsyncIteration:
            return
        batch, size = [first], len(first)
        weight = weigh(first) if weigh else 0
        deadline = (arrived(first) if arrived else loop.time()) + linger_s
        while size < limit and (weigh is None or weight < max_weight):
            if not waiting():
                left = deadline - loop.time()
                if left <= 0:
                    break
                await asyncio.sleep(min(poll_s, left))
                continue
            try:
                run = await runs.__anext__()
            except StopAsyncIteration:
                yield batch
                return
            batch.append(run)
            size += len(run)
            if weigh:
                weight += weigh(run)
        yield batch


class Overlap(Generic[B, P]):
    #: how often, while a batch is stored, whether a full batch waits is looked at (seconds)
    poll_s = 0.005

    def __init__(self, prepare: Callable[[B], P], store: Callable[[P], Awaitable[None]],
                 ready: Callable[[], bool] = lambda: True) -> None:
        self.prepare = prepare
        self.store = store
        self.ready = ready

    async def run(self, batches: AsyncIterator[B]) -> None:
        """Prepare and store every batch; on leaving (the source ends, an error, a cancel), a store
        still running is cancelled, its batch not counted as stored."""
        storing: Optional[asyncio.Future] = None
        try:
            while True:
                while storing is not None and not storing.done() and not self.ready():
                    await asyncio.wait((storing,), timeout=self.poll_s)
                try:
                    batch = await batches.__anext__()
                except StopAsyncIteration:
                    break
                prepared = self.prepare(batch)
                if storing is not None:
                    await storing
                storing = asyncio.ensure_future(self.store(prepared))
                await asyncio.sleep(0)  # the store sends its first query before the next batch is decoded
            if storing is not None:
                await storing
        finally:
            if storing is not None and not storing.done():
                storing.cancel()
                await asyncio.gather(storing, return_exceptions=True)
