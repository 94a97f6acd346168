"""What the one-function shortcuts cost: `@filter_stage` / `@map_stage` against Arrow-native stages.

    python benchmarks/stage_shortcuts.py [--docs 100000] [--batch-size 1000]

Synthetic English-like documents (generated, no data needed). For the same filter (reject texts
containing "lorem ipsum") and the same mapper (add a word count), prints documents/s of the shortcut
(Python objects per record) and of a `MapStage` written on Arrow columns, and checks both give the
same records. Also prints the time `import pipeline` takes in a fresh interpreter.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import time
from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc

import pipeline
from pipeline.testing import make_batch

WORDS = [
    "the",
    "a",
    "committee",
    "library",
    "weather",
    "town",
    "meeting",
    "report",
    "winter",
    "summer",
    "bread",
    "price",
    "new",
    "old",
]
WORD_COUNT = pipeline.described("word_count", pa.int64(), "Words in the text.")


@pipeline.filter_stage(name="no_lorem", reason="placeholder")
def no_lorem(text: str) -> str | None:
    return "lorem ipsum" if "lorem ipsum" in text.lower() else None


class NoLoremArrow(pipeline.MapStage):
    name = "no_lorem_arrow"
    config_class = pipeline.NoOptions

    def process(self, batch: pa.RecordBatch) -> pipeline.StageResult:
        mask = pc.match_substring(batch.column("text"), "lorem ipsum", ignore_case=True)
        return pipeline.StageResult(
            pipeline.split(batch, mask), pipeline.rejections(batch, mask, self.name, "placeholder", "lorem ipsum")
        )


@pipeline.map_stage(name="word_count", fields=[WORD_COUNT])
def word_count(record: dict) -> dict:
    return {**record, "word_count": len(record["text"].split())}


class WordCountArrow(pipeline.MapStage):
    name = "word_count_arrow"
    config_class = pipeline.NoOptions

    def output_fields(self) -> list[pa.Field]:
        return [WORD_COUNT]

    def process(self, batch: pa.RecordBatch) -> pipeline.StageResult:
        counts = pc.list_value_length(pc.utf8_split_whitespace(batch.column("text"))).cast(pa.int64())
        return pipeline.StageResult(batch.append_column(WORD_COUNT, counts), pipeline.empty_ledger())


def documents(count: int) -> list[str]:
    rng = random.Random(0)
    texts = []
    for index in range(count):
        words = [rng.choice(WORDS) for _ in range(rng.randint(50, 400))]
        if index % 50 == 0:
            words[3:3] = ["Lorem", "ipsum"]
        texts.append(" ".join(words))
    return texts


def timed(stage: pipeline.MapStage, batches: list[pa.RecordBatch]) -> tuple[float, pa.Table]:
    start = time.perf_counter()
    kept = [stage.process(batch).kept for batch in batches]
    return time.perf_counter() - start, pa.Table.from_batches(kept)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    args = parser.parse_args()
    batch = make_batch(documents(args.docs))
    batches = [batch.slice(i, args.batch_size) for i in range(0, batch.num_rows, args.batch_size)]
    pairs: list[tuple[str, Callable[[], pipeline.MapStage], Callable[[], pipeline.MapStage]]] = [
        ("filter (lorem ipsum)", lambda: no_lorem(pipeline.NoOptions()), lambda: NoLoremArrow(pipeline.NoOptions())),
        ("map (word count)", lambda: word_count(pipeline.NoOptions()), lambda: WordCountArrow(pipeline.NoOptions())),
    ]
    print(f"{args.docs:,} documents, {batch.nbytes / 1e6:,.1f} MB, batches of {args.batch_size}")
    print(f"{'stage':<22} {'shortcut docs/s':>16} {'Arrow docs/s':>14} {'same output':>12}")
    for label, shortcut, native in pairs:
        short_seconds, short_kept = timed(shortcut(), batches)
        native_seconds, native_kept = timed(native(), batches)
        same = short_kept.select(short_kept.schema.names).equals(native_kept)
        print(f"{label:<22} {args.docs / short_seconds:>16,.0f} {args.docs / native_seconds:>14,.0f} {same!s:>12}")
    code = "import time; t = time.perf_counter(); import pipeline; print(time.perf_counter() - t)"
    seconds = min(float(subprocess.check_output([sys.executable, "-c", code])) for _ in range(5))
    print(f"import pipeline: {seconds * 1000:.1f} ms (best of 5)")


if __name__ == "__main__":
    main()
