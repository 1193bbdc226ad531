import asyncio
import functools

import pytest

from agents.worker.overlap import Overlap, gather


async def source(items, pulled):
    for item in items:
        pulled.append(item)
        yield item


async def test_the_next_batch_is_prepared_while_the_one_before_is_stored_and_stores_keep_their_order():
    log = []
    release = {n: asyncio.Event() for n in range(3)}

    def prepare(n):
        log.append(("prepare", n))
        return n

    async def store(n):
        log.append(("store", n))
        await release[n].wait()
        log.append(("stored", n))

    task = asyncio.create_task(Overlap(prepare, store).run(source(range(3), [])))
    await asyncio.sleep(0.01)
    assert log == [("prepare", 0), ("store", 0), ("prepare", 1)]  # 1 decoded while 0 is written
    release[1].set()  # a later batch cannot be stored first
    await asyncio.sleep(0.01)
    assert ("store", 1) not in log
    release[0].set()
    await asyncio.sleep(0.01)
    assert log[3:] == [("stored", 0), ("store", 1), ("stored", 1), ("prepare", 2), ("store", 2)]
    release[2].set()
    await task
    assert log[-1] == ("stored", 2)


async def test_while_no_full_batch_waits_the_next_is_taken_once_the_one_before_is_stored():
    log, pulled, full = [], [], [False]
    release = asyncio.Event()

    async def store(n):
        log.append(("store", n))
        await release.wait()
        log.append(("stored", n))

    task = asyncio.create_task(Overlap(lambda n: n, store, ready=lambda: full[0]).run(source(range(3), pulled)))
    await asyncio.sleep(0.03)
    assert pulled == [0]  # the input trickles: it gathers while 0 is written
    full[0] = True
    await asyncio.sleep(0.03)
    assert pulled == [0, 1] and ("store", 1) not in log  # a full batch waits: decoded ahead, stored after 0
    release.set()
    await task
    assert log == [("store", 0), ("stored", 0), ("store", 1), ("stored", 1), ("store", 2), ("stored", 2)]


async def test_a_stuck_store_stops_the_reading_one_batch_ahead():
    pulled = []
    stuck = asyncio.Event()

    async def store(n):
        await stuck.wait()  # the database is down

    task = asyncio.create_task(Overlap(lambda n: n, store).run(source(range(100), pulled)))
    await asyncio.sleep(0.05)
    assert pulled == [0, 1]
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_a_store_still_running_is_cancelled_when_the_loop_leaves():
    cancelled = []

    async def store(n):
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.append(n)
            raise

    async def failing():
        yield 0
        await asyncio.sleep(0.01)  # the store has begun
        raise RuntimeError("the stream failed")

    with pytest.raises(RuntimeError, match="the stream failed"):
        await Overlap(lambda n: n, store).run(failing())
    assert cancelled == [0]


async def test_a_failing_store_ends_the_loop_with_its_error():
    async def store(n):
        raise ValueError(f"store {n}")

    with pytest.raises(ValueError, match="store 0"):
        await Overlap(lambda n: n, store).run(source(range(3), []))


async def queued(queue: asyncio.Queue):
    while True:
        yield await queue.get()


async def test_gather_takes_the_runs_already_waiting_up_to_a_number_of_messages():
    queue: asyncio.Queue = asyncio.Queue()
    for run in (["a"], ["b", "c"], ["d"], ["e", "f", "g"], ["h"]):
        queue.put_nowait(run)

    async def runs():
        while True:
            yield await queue.get()

    batches = gather(runs(), lambda: not queue.empty(), limit=3)
    assert await batches.__anext__() == [["a"], ["b", "c"]]
    assert await batches.__anext__() == [["d"], ["e", "f", "g"]]  # the run reaching the limit is kept whole
    assert await batches.__anext__() == [["h"]]  # nothing else waiting: no waiting for more
    queue.put_nowait(["i"])
    assert await batches.__anext__() == [["i"]]


async def test_gather_stops_at_a_weight_before_the_number_of_messages():
    queue: asyncio.Queue = asyncio.Queue()
    for run in (["a" * 5], ["b" * 600, "c"], ["d"], ["e" * 900], ["f"]):  # runs of "messages", weighed in bytes
        queue.put_nowait(run)

    def weigh(run):
        return sum(map(len, run))

    batches = gather(queued(queue), lambda: not queue.empty(), limit=100, weigh=weigh, max_weight=1000)
    # 607 bytes: room for more; the run that reaches the weight is kept whole, as the one reaching the limit
    assert await batches.__anext__() == [["a" * 5], ["b" * 600, "c"], ["d"], ["e" * 900]]
    assert await batches.__anext__() == [["f"]]
    queue.put_nowait(["g" * 1000])
    queue.put_nowait(["h"])
    assert await batches.__anext__() == [["g" * 1000]]  # a run of the whole weight: alone
    assert await batches.__anext__() == [["h"]]


async def test_gather_ends_with_its_source():
    async def runs():
        yield ["a"]
        yield ["b"]

    assert [b async for b in gather(runs(), lambda: True, limit=10)] == [[["a"], ["b"]]]


async def test_gather_lingers_for_runs_that_arrive_soon_after_the_first():
    queue: asyncio.Queue = asyncio.Queue()
    runs = functools.partial(queued, queue)
    queue.put_nowait(["a"])
    batches = gather(runs(), lambda: not queue.empty(), limit=3, linger_s=30)
    taken = asyncio.ensure_future(batches.__anext__())
    await asyncio.sleep(0)
    assert not taken.done()  # fewer than the limit, well within the linger: it waits for more
    queue.put_nowait(["b"])
    await asyncio.sleep(0.02)
    assert not taken.done()
    queue.put_nowait(["c", "d"])  # reaches the limit: taken at once, the linger not waited out
    assert await asyncio.wait_for(taken, 10) == [["a"], ["b"], ["c", "d"]]


async def test_gather_stops_lingering_at_its_end():
    queue: asyncio.Queue = asyncio.Queue()
    runs = functools.partial(queued, queue)
    queue.put_nowait(["a"])
    batches = gather(runs(), lambda: not queue.empty(), limit=100, linger_s=0.05)
    assert await asyncio.wait_for(batches.__anext__(), 10) == [["a"]]  # nothing more came: the batch goes


async def test_gather_lingers_from_when_the_first_run_arrived():
    queue: asyncio.Queue = asyncio.Queue()
    runs = functools.partial(queued, queue)
    loop = asyncio.get_running_loop()
    old = (loop.time() - 60, "a")  # waited a minute already: goes without lingering
    queue.put_nowait(old)
    batches = gather(runs(), lambda: not queue.empty(), limit=100, linger_s=30, arrived=lambda run: run[0])
    assert await asyncio.wait_for(batches.__anext__(), 10) == [old]
    new = (loop.time(), "b")  # just arrived: lingers for more
    queue.put_nowait(new)
    taken = asyncio.ensure_future(batches.__anext__())
    await asyncio.sleep(0.02)
    assert not taken.done()
    taken.cancel()
