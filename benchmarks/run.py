"""End-to-end and per-stage throughput and peak memory, for 1 and 2 workers; prints tables.

    python benchmarks/corpus.py --docs 10000 --out bench/10k
    python benchmarks/run.py bench/10k                           # 1 and 2 workers, default stages
    python benchmarks/run.py bench/10k --workers 2 --set language.backend=\\"langdetect\\"
    python benchmarks/run.py bench/10k --datatrove --same-work   # also datatrove (bench extra), and ours
                                                                 # limited to the same work

With --datatrove, datatrove runs Gopher repetition + Gopher quality + C4 + FineWeb filters, then its
4-stage MinHash, then its Parquet writer; --same-work adds a run of ours limited to that work (the
`quality` and `dedup_near` stages, with ingest, stats, validate and publish), all in one invocation.

Each run is `python -m pipeline run --fresh` in a subprocess on <corpus>/jsonl. Peak RSS is sampled
from /proc every 50 ms over the whole process tree (main process + workers), as a sum and for the
largest single process. Per-stage figures come from the run's run.json: work seconds summed over
workers, so stage docs/s is per core. Timings on a shared machine are noisy; nothing here asserts.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PAGE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(parent, []).append(int(entry))
    return tree


def _ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of the whole line)
    except (OSError, IndexError, ValueError):
        return 0


def _rss(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


class PeakRss:
    """Samples the RSS of a process and all its descendants until stopped."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.total = 0
        self.largest = 0
        # The largest descendant: with workers, the map stages' memory (the main process is separate).
        self.worker = 0
        self.main = 0
        self._ticks: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            tree = _children()
            pids, stack = [], [self.pid]
            while stack:
                pid = stack.pop()
                pids.append(pid)
                stack += tree.get(pid, [])
            sizes = [_rss(pid) for pid in pids]
            for pid in pids:
                self._ticks[pid] = max(self._ticks.get(pid, 0), _ticks(pid))
            self.total = max(self.total, sum(sizes))
            self.largest = max(self.largest, max(sizes, default=0))
            self.worker = max(self.worker, max(sizes[1:], default=0))
            self.main = max(self.main, sizes[0] if sizes else 0)
            self._stop.wait(0.05)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def cpu(self) -> float:
        """CPU seconds (user + system) of every process of the tree, as last sampled (50 ms apart)."""
        return sum(self._ticks.values()) / TICKS

    @property
    def cpu_main(self) -> float:
        """CPU seconds of the main process alone (the rest is the workers and the pool's fork server)."""
        return self._ticks.get(self.pid, 0) / TICKS


def timed_subprocess(command: list[str], env: dict[str, str] | None, what: str) -> tuple[float, PeakRss]:
    """Run `command`, sampling the peak RSS of its process tree; (wall seconds, peaks).

    peak.cpu is the CPU time (user + system) of the whole tree: on a busy machine wall time measures the
    other load too, CPU time does not.
    """
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env)
    peak = PeakRss(process.pid)
    code = process.wait()
    wall = time.perf_counter() - start
    peak.stop()

    if code != 0:
        raise SystemExit(f"{what} failed with exit code {code}: {' '.join(command)}")
    return wall, peak


SAME_WORK = 'run.stages=["quality","dedup_near"]'


def run_pipeline(corpus: Path, workers: int, settings: list[str], work: Path, python: str, label: str) -> dict:
    output = work / f"out-w{workers}"
    command = [python, "-m", "pipeline", "run", "--config", str(REPO / "pipeline.toml"), "--fresh", "--quiet"]
    command += ["--input", str(corpus / "jsonl"), "--output", str(output), "--name", "bench"]
    command += ["--workers", str(workers), "--set", "run.keep_work=false"]
    for setting in settings:
        command += ["--set", setting]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    wall, peak = timed_subprocess(command, env, "the pipeline")
    run = json.loads((output / "bench.report" / "run.json").read_text())
    shutil.rmtree(output)
    return {
        "label": label,
        "workers": workers,
        "wall": wall,
        "rss_total": peak.total,
        "rss_largest": peak.largest,
        "rss_worker": peak.worker,
        "rss_main": peak.main,
        "cpu": peak.cpu,
        "cpu_main": peak.cpu_main,
        "run": run,
    }


def run_datatrove(corpus: Path, work: Path, python: str, workers: int) -> dict:
    """datatrove's JSONL reader -> its Gopher, C4 and FineWeb filters -> 4-stage MinHash dedup -> Parquet
    writer, timed the same way."""
    script = work / "datatrove_minhash.py"
    script.write_text(DATATROVE_SCRIPT, encoding="utf-8")
    command = [python, str(script), str(corpus / "jsonl"), str(work / "datatrove"), str(workers)]
    wall, peak = timed_subprocess(command, None, "datatrove")
    found = json.loads((work / "datatrove" / "stages.json").read_text())
    shutil.rmtree(work / "datatrove")
    return {
        "label": "datatrove: Gopher repetition + Gopher quality + C4 + FineWeb, MinHash, Parquet",
        "workers": workers,
        "wall": wall,
        "rss_total": peak.total,
        "rss_largest": peak.largest,
        "rss_worker": peak.worker,
        "rss_main": peak.main,
        "cpu": peak.cpu,
        "cpu_main": peak.cpu_main,
        "stages": found["stages"],
        "version": found["datatrove"],
    }


# Run in its own process (and interpreter, e.g. a venv with the bench extra): datatrove's reference
# quality filters (default parameters) and MinHash recipe (default MinhashConfig), reading and writing
# the same corpus as ours.
DATATROVE_SCRIPT = r"""
import json, sys, time
from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.dedup import MinhashDedupCluster, MinhashDedupFilter, MinhashDedupSignature
from datatrove.pipeline.dedup.minhash import MinhashConfig, MinhashDedupBuckets
from datatrove.pipeline.filters import (
    C4QualityFilter, FineWebQualityFilter, GopherQualityFilter, GopherRepetitionFilter
)
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.writers import JsonlWriter, ParquetWriter

def main():
    source, work, workers = sys.argv[1], sys.argv[2], int(sys.argv[3])
    config = MinhashConfig()
    tasks = workers
    stages = []

    def timed(name, executor):
        start = time.perf_counter()
        executor.run()
        stages.append({"name": name, "seconds": time.perf_counter() - start})

    timed("quality filters", LocalPipelineExecutor(
        pipeline=[JsonlReader(source), GopherRepetitionFilter(), GopherQualityFilter(), C4QualityFilter(),
                  FineWebQualityFilter(), JsonlWriter(f"{work}/filtered")],
        tasks=tasks, workers=workers, logging_dir=f"{work}/logs/0"))
    timed("signatures", LocalPipelineExecutor(
        pipeline=[JsonlReader(f"{work}/filtered"),
                  MinhashDedupSignature(output_folder=f"{work}/signatures", config=config)],
        tasks=tasks, workers=workers, logging_dir=f"{work}/logs/1"))
    timed("buckets", LocalPipelineExecutor(
        pipeline=[
            MinhashDedupBuckets(input_folder=f"{work}/signatures", output_folder=f"{work}/buckets", config=config)
        ],
        tasks=config.num_buckets, workers=workers, logging_dir=f"{work}/logs/2"))
    timed("cluster", LocalPipelineExecutor(
        pipeline=[
            MinhashDedupCluster(input_folder=f"{work}/buckets", output_folder=f"{work}/remove_ids", config=config)
        ],
        tasks=1, logging_dir=f"{work}/logs/3"))
    timed("filter+write", LocalPipelineExecutor(
        pipeline=[JsonlReader(f"{work}/filtered"), MinhashDedupFilter(input_folder=f"{work}/remove_ids"),
                  ParquetWriter(f"{work}/parquet")],
        tasks=tasks, workers=workers, logging_dir=f"{work}/logs/4"))
    from importlib.metadata import version

    with open(f"{work}/stages.json", "w") as f:
        json.dump({"datatrove": version("datatrove"), "stages": stages}, f)


# datatrove's pool starts processes that re-import this file.
if __name__ == "__main__":
    main()
"""


def versions() -> str:
    names = ["pyarrow", "langdetect", "langdetect-rs", "ftfy"]
    found = []
    for name in names:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} -")
    return ", ".join(found)


def machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs ({model}), Python {platform.python_version()}"
    )


def print_tables(corpus: Path, results: list[dict], datatrove: list[dict]) -> None:
    manifest = json.loads((corpus / "manifest.json").read_text())
    docs, mb = manifest["docs"], manifest["jsonl_bytes"] / 1e6
    print(f"corpus {corpus}: {docs:,} documents, {mb:,.1f} MB of JSONL")
    print(f"machine: {machine()}")
    print(f"versions: {versions()}" + "".join(f", datatrove {r['version']} (bench extra)" for r in datatrove[:1]))
    print("load average at the end: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
    print()
    print(
        "| run | workers | wall s | docs/s | CPU s (all processes) | of which main | docs per CPU s | "
        "peak RSS main (MB) | largest worker (MB) | total (MB) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for rows in (results, datatrove):
        for r in rows:
            print(
                f"| {r['label']} | {r['workers']} | {r['wall']:.1f} | {docs / r['wall']:,.0f} | {r['cpu']:.1f} | "
                f"{r['cpu_main']:.1f} | "
                f"{docs / max(r['cpu'], 1e-9):,.0f} | {r['rss_main'] / 1e6:,.0f} | {r['rss_worker'] / 1e6:,.0f} | "
                f"{r['rss_total'] / 1e6:,.0f} |"
            )
    print()
    print("| run | stage | workers | docs in | work s (all cores) | docs/s per core | MB/s per core | state B/doc |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for r in results:
        for stage in r["run"]["stages"]:
            seconds = max(stage["seconds"], 1e-9)
            print(
                f"| {r['label']} | {stage['name']} | {r['workers']} | {stage['records_in']:,} | "
                f"{stage['seconds']:.2f} | "
                f"{stage['records_in'] / seconds:,.0f} | {stage.get('bytes_in', 0) / 1e6 / seconds:.2f} | "
                f"{stage['bytes_per_document']} |"
            )
    print()
    print("| run | step | workers | wall s |")
    print("|---|---|---:|---:|")
    for r in results:
        for step in r["run"]["execution"]["steps"]:
            print(f"| {r['label']} | {step['step']} | {r['workers']} | {step['seconds']:.2f} |")
    for r in datatrove:
        for stage in r["stages"]:
            print(f"| datatrove | {stage['name']} | {r['workers']} | {stage['seconds']:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=Path, help="a folder made by benchmarks/corpus.py")
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts (default 1,2)")
    parser.add_argument("--set", dest="settings", action="append", default=[], help="config override, as for run")
    parser.add_argument("--datatrove", action="store_true", help="also run datatrove's filters and MinHash")
    parser.add_argument(
        "--same-work", action="store_true", help="also run ours limited to datatrove's work (quality, dedup_near)"
    )
    parser.add_argument("--python", default=sys.executable, help="interpreter for datatrove (one with the extra)")
    parser.add_argument("--work", type=Path, help="scratch folder (default: a temporary folder)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="pipeline-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    counts = [int(w) for w in args.workers.split(",")]
    results = [run_pipeline(args.corpus, w, args.settings, work, sys.executable, "pipeline") for w in counts]
    if args.same_work:
        results += [
            run_pipeline(args.corpus, w, [*args.settings, SAME_WORK], work, sys.executable, "pipeline, same work")
            for w in counts
        ]
    datatrove = []
    if args.datatrove:
        datatrove = [run_datatrove(args.corpus, work, args.python, w) for w in counts]
    if args.settings:
        print("settings: " + " ".join(args.settings))
    print_tables(args.corpus, results, datatrove)


if __name__ == "__main__":
    main()
