"""The main process's peak resident memory in each step of a run. Prints a table.

    python benchmarks/memory_phases.py bench/m1m --workers 2
    python benchmarks/memory_phases.py bench/m1m --workers 2 --set publish.max_row_group_bytes=16000000

The run is the one `benchmarks/run.py` times (`python -m pipeline run --fresh` on <corpus>/jsonl with
the repository's pipeline.toml), made in this process, so that a thread can read the process's
resident memory from /proc every 10 ms and charge it to the step the run is in: a global stage's
first pass includes its decision, and "publish" everything from the ledger merge to the report.
`run.py` gives the whole run's peak per process; this says where in the run the main process's
peak is. Linux only (it reads /proc/self/statm).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
INTERVAL = 0.01


def resident_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class Sampler:
    """Peak and starting resident memory per step, sampled by a daemon thread."""

    def __init__(self) -> None:
        self.step = "startup"
        self.peaks: dict[str, float] = {}
        self.starts: dict[str, float] = {}

    def enter(self, step: str) -> None:
        self.starts.setdefault(step, resident_mb())
        self.step = step

    def run(self) -> None:
        while True:
            step, now = self.step, resident_mb()
            self.peaks[step] = max(self.peaks.get(step, 0.0), now)
            time.sleep(INTERVAL)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=Path, help="a folder made by benchmarks/corpus.py")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--set", dest="settings", action="append", default=[], help="config override, as for run")
    args = parser.parse_args()

    # As `python -m pipeline` does, before pyarrow is imported (see pipeline/execution/malloc.py).
    from pipeline.execution.malloc import arrow_uses_malloc

    arrow_uses_malloc()
    import pipeline.execution.progress as progress
    from pipeline.cli import main as cli_main

    sampler = Sampler()
    step = progress.Progress.step

    def entering(self: progress.Progress, name: str, total: int | None) -> progress.StepProgress:
        sampler.enter(name)
        return step(self, name, total)

    progress.Progress.step = entering  # type: ignore[method-assign]
    threading.Thread(target=sampler.run, daemon=True).start()
    with tempfile.TemporaryDirectory(prefix="memory-phases-") as work:
        argv = ["run", "--config", str(REPO / "pipeline.toml"), "--fresh", "--quiet"]
        argv += ["--input", str(args.corpus / "jsonl"), "--output", work, "--name", "bench"]
        argv += ["--workers", str(args.workers), "--set", "run.keep_work=false"]
        for setting in args.settings:
            argv += ["--set", setting]
        sys.argv = ["pipeline", *argv]
        code = cli_main()
    print(f"corpus {args.corpus}, {args.workers} workers, exit code {code}")
    print()
    print("| step | main process at its start (MB) | peak (MB) |")
    print("|---|---:|---:|")
    for name, peak in sampler.peaks.items():
        start = sampler.starts.get(name)
        print(f"| {name} | {'–' if start is None else f'{start:.0f}'} | {peak:.0f} |")
    print(f"| whole run (`ru_maxrss`) | | {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} |")
    return code


if __name__ == "__main__":
    sys.exit(main())
