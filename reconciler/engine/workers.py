"""Run many small jobs on a few threads: results in order, the first error raised after all ran."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TypeVar, cast

T = TypeVar("T")


def run_all(jobs: Sequence[Callable[[], T]], workers: int, name: str = "engine") -> list[T]:
    """Run `jobs` on up to `workers` threads; their results in job order.

    Every job runs even when some fail; then the error of the first failed job (in job
    order) is raised. A ThreadPoolExecutor did this before, at the cost of a Future, a
    Condition and a queue item per job: thousands per plan. If the waiting thread is
    interrupted (Ctrl-C), the threads finish the jobs they hold and start no new one.
    """
    if len(jobs) <= 1:
        return [job() for job in jobs]
    results: list[T | None] = [None] * len(jobs)
    errors: list[BaseException | None] = [None] * len(jobs)
    pending = iter(range(len(jobs)))
    lock = threading.Lock()
    stop = threading.Event()

    def work() -> None:
        while not stop.is_set():
            with lock:
                i = next(pending, None)
            if i is None:
                return
            try:
                results[i] = jobs[i]()
            except BaseException as exc:  # kept for the caller, like a Future would
                errors[i] = exc

    count = min(max(workers, 1), len(jobs))
    threads = [threading.Thread(target=work, name=f"{name}_{n}") for n in range(count)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    except BaseException:
        stop.set()
        raise
    first = next((e for e in errors if e is not None), None)
    if first is not None:
        raise first
    return cast(list[T], results)  # no job failed: every slot holds its result
