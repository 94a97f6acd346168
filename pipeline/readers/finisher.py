"""Finish `Pending` records (HTML extraction) in worker processes, returning results in input order.

Extraction is the costly part of web ingest (tens of pages per second per core), so with
`ingest.workers > 1` pages are extracted in a process pool. At most a fixed window of pages is in
flight, so memory stays bounded whatever the archive size, and results come back in the order the
readers produced them, so the output does not depend on the number of workers.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Generic, TypeVar

from pipeline.readers.base import Pending, RawRecord, ReaderOptions

# Pages in flight per worker: enough to keep every worker busy while the reader is reading.
_WINDOW_PER_WORKER = 4

_worker_options: Any = None
T = TypeVar("T")
_Slot = tuple[Any, Pending | None, "Future[RawRecord] | RawRecord"]


def _init_worker(options: ReaderOptions) -> None:
    global _worker_options
    _worker_options = options


def _finish_in_worker(job: Pending) -> RawRecord:
    return job.finish(_worker_options)


class Finisher(Generic[T]):
    """Turns a stream of `(tag, RawRecord | Pending)` into `(tag, RawRecord)`, in order."""

    def __init__(self, options: ReaderOptions) -> None:
        self.options = options
        self.workers = max(1, int(getattr(options, "workers", 1)))
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> Finisher[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _submit(self, job: Pending) -> Future[RawRecord] | RawRecord:
        if self.workers == 1:
            return job.finish(self.options)
        if self._pool is None:
            # Not fork: the parent holds Arrow and Parquet writer threads that fork would copy. A
            # forkserver that never re-runs the user's script (pipeline.run without a main guard).
            from pipeline.execution.processes import worker_context

            self._pool = ProcessPoolExecutor(
                self.workers,
                mp_context=worker_context(),
                initializer=_init_worker,
                initargs=(self.options,),
            )
        try:
            return self._pool.submit(_finish_in_worker, job)
        except BrokenProcessPool:
            # A worker crashed earlier: start a fresh pool for the next page, finish this one here.
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
            return job.finish(self.options)

    def _result(self, job: Pending | None, value: Future[RawRecord] | RawRecord) -> RawRecord:
        if isinstance(value, RawRecord):
            return value
        try:
            return value.result()
        except Exception:
            # A worker died (or could not pickle the result): finish this page here instead, where
            # web_document turns any extraction error into a ledger row.
            assert job is not None
            return job.finish(self.options)

    def finish(self, records: Iterable[tuple[T, RawRecord | Pending]]) -> Iterator[tuple[T, RawRecord]]:
        window: deque[_Slot] = deque()
        limit = self.workers * _WINDOW_PER_WORKER
        for tag, record in records:
            if isinstance(record, Pending):
                window.append((tag, record, self._submit(record)))
            else:
                window.append((tag, None, record))
            while window and (len(window) > limit or isinstance(window[0][2], RawRecord)):
                head, job, value = window.popleft()
                yield head, self._result(job, value)
        while window:
            head, job, value = window.popleft()
            yield head, self._result(job, value)
