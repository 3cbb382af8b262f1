"""The per-handler pacer, on real (short) time: no handler ever exceeds its window budget."""

from __future__ import annotations

import threading
import time

from reconciler.engine.pacing import Pacer


def _send(pacer: Pacer, handler: str, log: list[float], **headers: int) -> None:
    pacer.acquire(handler)
    log.append(time.monotonic())
    pacer.release(handler, **headers)


def test_the_limit_plus_one_request_waits_a_full_window() -> None:
    waits: list[tuple[str, float]] = []
    pacer = Pacer(3, 0.3, on_wait=lambda h, s: waits.append((h, s)))
    log: list[float] = []
    for _ in range(4):
        _send(pacer, "Room.get", log)
    assert log[3] - log[0] >= 0.3
    # The announced wait is what is left of the held window (window plus margin): never more,
    # and no fixed floor either (a loaded machine spends part of it before the 4th send).
    assert waits and waits[0][0] == "Room.get" and 0 < waits[0][1] <= pacer.hold_s


def test_handlers_have_separate_budgets() -> None:
    waits: list[tuple[str, float]] = []
    pacer = Pacer(2, 5.0, on_wait=lambda h, s: waits.append((h, s)))
    log: list[float] = []
    for _ in range(2):
        _send(pacer, "A.list", log)
    _send(pacer, "B.list", log)
    assert waits == []  # A's spent budget never holds B back


def test_no_window_ever_holds_more_than_the_limit_under_threads() -> None:
    pacer = Pacer(5, 0.25)
    log: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(4):
            pacer.acquire("X.get")
            with lock:
                log.append(time.monotonic())
            time.sleep(0.005)  # the answer takes a moment
            pacer.release("X.get")

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    log.sort()
    assert len(log) == 16
    # Any 6 consecutive sends span more than one window.
    assert all(log[i + 5] - log[i] >= 0.25 for i in range(len(log) - 5))


def test_a_lower_server_remaining_count_is_trusted() -> None:
    pacer = Pacer(30, 0.3)
    log: list[float] = []
    # The engine says its budget is gone although we sent one request (another client).
    _send(pacer, "Room.get", log, remaining=0, limit=30)
    _send(pacer, "Room.get", log)
    assert log[1] - log[0] >= 0.29


def test_ghost_hits_are_forgotten_when_the_server_counts_fewer() -> None:
    waits: list[tuple[str, float]] = []
    pacer = Pacer(3, 5.0, on_wait=lambda h, s: waits.append((h, s)))
    pacer.acquire("Room.get")
    pacer.acquire("Room.get")
    # First answer: the engine counts 3 hits, we know of 2 (one still in flight): 1 ghost.
    pacer.release("Room.get", remaining=0, limit=3)
    # Second answer: the engine counts only our 2 hits, so the ghost is gone.
    pacer.release("Room.get", remaining=1, limit=3)
    pacer.acquire("Room.get")
    assert waits == []


def test_a_full_budget_of_ghosts_blocks_until_they_expire() -> None:
    waits: list[tuple[str, float]] = []
    pacer = Pacer(3, 0.2, on_wait=lambda h, s: waits.append((h, s)))
    pacer.acquire("Room.get")
    pacer.release("Room.get", remaining=0, limit=3)
    pacer.acquire("Room.get")
    assert waits and waits[0][0] == "Room.get" and waits[0][1] >= 0.19


def test_429_blocks_the_handler_for_retry_after() -> None:
    waits: list[tuple[str, float]] = []
    pacer = Pacer(30, 5.0, on_wait=lambda h, s: waits.append((h, s)))
    pacer.acquire("Room.get")
    pacer.throttled("Room.get", 0.2)
    pacer.acquire("Room.get")
    assert waits[0][0] == "Room.get" and waits[0][1] >= 0.19
    pacer.acquire("Export.get")
    assert [h for h, _ in waits] == ["Room.get"]  # the 429 blocks only its own handler
