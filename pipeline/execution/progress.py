"""Progress per step: a live tqdm bar on a terminal, a plain log line every few seconds otherwise.

Shows records done (of the known total once the upstream step has finished), MB of text, rate, ETA
and records rejected so far. `--quiet` shows nothing.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Literal

Mode = Literal["auto", "bar", "log", "quiet"]
LOG_EVERY_SECONDS = 10.0


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"


class StepProgress:
    def __init__(self, name: str, total: int | None, mode: str, log: Callable[[str], None]) -> None:
        self.name = name
        self.total = total
        self.mode = mode
        self.log = log
        self.records = 0
        self.bytes = 0
        self.rejected = 0
        self.started = time.perf_counter()
        self._last_log = self.started
        self._bar = None
        if mode == "bar":
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=f"{name:<22}", unit=" rec", file=sys.stderr, leave=True)

    def update(self, records: int, text_bytes: int, rejected: int) -> None:
        self.records += records
        self.bytes += text_bytes
        self.rejected += rejected
        if self._bar is not None:
            self._bar.update(records)
            self._bar.set_postfix_str(f"{self.bytes / 1e6:,.1f} MB, rejected {self.rejected:,}", refresh=False)
        elif self.mode == "log":
            now = time.perf_counter()
            if now - self._last_log >= LOG_EVERY_SECONDS:
                self._last_log = now
                self.log(self._line(now))

    def _line(self, now: float) -> str:
        elapsed = max(now - self.started, 1e-9)
        rate = self.records / elapsed
        done = f"{self.records:,}"
        eta = ""
        if self.total:
            done += f"/{self.total:,} ({100 * self.records / self.total:.0f}%)"
            if rate > 0:
                eta = f", ETA {_duration((self.total - self.records) / rate)}"
        return (
            f"{self.name}: {done} records, {self.bytes / 1e6:,.1f} MB, {rate:,.0f} rec/s{eta}, "
            f"rejected {self.rejected:,}"
        )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        elif self.mode == "log":
            self.log(self._line(time.perf_counter()) + f", done in {_duration(time.perf_counter() - self.started)}")


class Progress:
    def __init__(self, mode: Mode = "auto", log: Callable[[str], None] | None = None) -> None:
        if mode == "auto":
            mode = "bar" if sys.stderr.isatty() else "log"
        self.mode = mode
        self.log = log or (lambda message: print(message, file=sys.stderr, flush=True))

    def step(self, name: str, total: int | None) -> StepProgress:
        return StepProgress(name, total, self.mode, self.log)

    def note(self, message: str) -> None:
        if self.mode != "quiet":
            self.log(message)
