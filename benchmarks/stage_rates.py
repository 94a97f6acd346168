"""Per-stage CPU rates in one process, and the floor under the two costliest stages. Prints tables.

    python benchmarks/stage_rates.py /tmp/bench/20k [--docs 5000]

Every default stage (and stats, validate) runs in order on the first --docs records of a corpus made
by benchmarks/corpus.py, in batches of run.batch_size, exactly as the runner chains them (global
stages: prepare, collect, decide, apply). Times are CPU seconds of this process (time.process_time),
so other load on the machine does not count. docs/s per core = documents in / CPU seconds. What a
stage loads once per process (language's detector profiles, dedup_near's compiled MinHash kernel) is
timed apart, as start-up, by running the stage on one record first; in a run the pool's fork server
pays it once for all workers.

The floors are what the underlying libraries cost on the same text, below which the stage cannot go
without replacing them: for normalize, Python's unicodedata NFC plus the stage's four regex passes
(everything but ftfy); for dedup_near, Arrow's tokenising kernels, then the numpy MinHash alone.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pyarrow as pa

from pipeline.config import load_config
from pipeline.execution.plan import build_plan
from pipeline.ingest import ingest, list_inputs
from pipeline.stage import GlobalStage, MapStage
from pipeline.stages.dedup_near.shingles import normalized_tokens
from pipeline.stages.normalize import Normalize, NormalizeConfig

REPO = Path(__file__).resolve().parent.parent


def batches_of(corpus: Path, docs: int, batch_size: int) -> list[pa.RecordBatch]:
    config = load_config(REPO / "pipeline.toml")
    files = list_inputs(corpus / "jsonl", [])
    out, total = [], 0
    for batch in ingest(files, config.ingest, batch_size):
        kept = batch.kept.slice(0, max(0, docs - total))
        if kept.num_rows:
            out.append(kept)
            total += kept.num_rows
        if total >= docs:
            break
    return out


def text_mb(batches: list[pa.RecordBatch]) -> float:
    return sum(len(t.encode("utf-8")) for b in batches for t in b.column("text").to_pylist()) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=Path, help="a folder made by benchmarks/corpus.py")
    parser.add_argument("--docs", type=int, default=5000)
    args = parser.parse_args()
    config = load_config(REPO / "pipeline.toml")
    plan = build_plan(config)
    batches = batches_of(args.corpus, args.docs, config.run.batch_size)
    print(f"{sum(b.num_rows for b in batches):,} documents, {text_mb(batches):.1f} MB of text")
    print("| stage | docs in | MB in | start-up CPU s | CPU s | docs/s per core | MB/s per core |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    inputs: dict[str, list[pa.RecordBatch]] = {}
    for stage in plan.stages:
        docs, mb = sum(b.num_rows for b in batches), text_mb(batches)
        inputs[stage.name] = batches
        start = time.process_time()
        one = batches[0].slice(0, 1)
        if isinstance(stage, MapStage):
            stage.process(one)
        elif isinstance(stage, GlobalStage):
            stage.prepare(one)  # pure: loads what the stage needs, changes no state
        startup = time.process_time() - start
        start = time.process_time()
        kept: list[pa.RecordBatch] = []
        if isinstance(stage, MapStage):
            kept = [stage.process(b).kept for b in batches]
        elif isinstance(stage, GlobalStage):
            for b in batches:
                stage.collect(b, stage.prepare(b))
            stage.decide()
            kept = [stage.apply(b).kept for b in batches]
        seconds = time.process_time() - start
        print(
            f"| {stage.name} | {docs:,} | {mb:.1f} | {startup:.2f} | {seconds:.2f} | {docs / seconds:,.0f} | "
            f"{mb / seconds:.2f} |"
        )
        batches = [b for b in kept if b.num_rows]
    print()
    floors(inputs["normalize"], inputs["dedup_near"], plan)


def floors(normalize_input: list[pa.RecordBatch], near_input: list[pa.RecordBatch], plan) -> None:  # type: ignore[no-untyped-def]
    import ftfy

    normalize = next(s for s in plan.stages if s.name == "normalize")
    near = next(s for s in plan.stages if s.name == "dedup_near")
    texts = [t for b in normalize_input for t in b.column("text").to_pylist()]
    mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    print("| step | MB | CPU s | MB/s per core |")
    print("|---|---:|---:|---:|")

    def row(name: str, megabytes: float, function) -> None:  # type: ignore[no-untyped-def]
        start = time.process_time()
        function()
        seconds = time.process_time() - start
        print(f"| {name} | {megabytes:.1f} | {seconds:.2f} | {megabytes / seconds:.2f} |")

    fixer = normalize.mojibake_fixer()
    floor = Normalize(NormalizeConfig(fix_mojibake=False))
    row("normalize without ftfy (NFC + regex passes: the floor)", mb, lambda: [floor.normalize(t) for t in texts])
    non_ascii = [t for t in texts if not t.isascii()]
    na_mb = sum(len(t.encode("utf-8")) for t in non_ascii) / 1e6
    row("screen + ftfy where needed, non-ASCII texts", na_mb, lambda: [fixer.fix(t) for t in non_ascii])
    row(
        "ftfy.fix_text on every non-ASCII text (before)",
        na_mb,
        lambda: [ftfy.fix_text(t, fixer._config) for t in non_ascii],
    )
    near_texts = [b.column("text") for b in near_input]
    near_mb = sum(len(t.encode("utf-8")) for b in near_input for t in b.column("text").to_pylist()) / 1e6
    row("dedup_near: Arrow tokenising kernels", near_mb, lambda: [normalized_tokens(t, False) for t in near_texts])
    shingled = [near._shingler.shingle(t) for t in near_texts]
    row(
        "dedup_near: MinHash signatures (128 permutations, numba kernel if installed)",
        near_mb,
        lambda: [near._permutations.signatures(s.hashes, s.offsets) for s in shingled],
    )
    row("dedup_near: prepare (all of pass 1's per-record work)", near_mb, lambda: [near.prepare(b) for b in near_input])


if __name__ == "__main__":
    main()
