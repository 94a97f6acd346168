"""Benchmark of dedup_near against datasketch MinHashLSH and datatrove's 4-stage MinHash (not a test).

    PYTHONPATH=. python benchmarks/dedup_near.py [--bases 6000] [--datatrove-python /path/to/python] [--evaldata DIR]

Builds a corpus from real text in the public evaluation data (--evaldata or $PIPELINE_EVALDATA): lingua
sentences in 75 languages grouped into documents of 1–40 sentences, the article-extraction benchmark's
ground-truth bodies. It plants near-duplicates at target Jaccard levels by editing, inserting, deleting
and swapping words (characters in Chinese, Japanese and Thai) and swapping paragraphs, adds exact
copies, and measures the true Jaccard of every planted pair (normalised word 5-grams, character 5-grams
for unspaced scripts). Each method runs in its own child process (so peak RSS is its own) and reports
which documents it removed and, where it can, which kept document each one duplicated. A removed pair is
correct when its true Jaccard is at least the threshold; a planted pair at or above the threshold is
caught when not both copies survive.

Also the real pairs: the article-extraction benchmark's ground-truth body and trafilatura's extraction of
the same page should be caught; bodies of different pages must never be.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
from evaldata import evaldata_folder

REPO = Path(__file__).resolve().parent.parent
# Set by main() from --evaldata or $PIPELINE_EVALDATA (see benchmarks/evaldata.py).
EVALDATA = Path()
THRESHOLD = 0.8
NUM_PERM = 128
NGRAM = 5
LEVELS = [0.95, 0.9, 0.85, 0.8, 0.7, 0.5]
BANDS = [(0.95, 1.01), (0.9, 0.95), (0.85, 0.9), (0.8, 0.85), (0.7, 0.8), (0.5, 0.7), (0.0, 0.5)]
UNSPACED = {"zh", "ja", "th"}


# -- the corpus --------------------------------------------------------------------------------------


def _tokens(texts: list[str]) -> list[list[str]]:
    from pipeline.stages.dedup_near.shingles import normalized_tokens

    out: list[list[str]] = []
    for i in range(0, len(texts), 2000):
        out.extend(normalized_tokens(pa.array(texts[i : i + 2000], pa.string()), False).to_pylist())
    return out


def shingle_set(tokens: list[str]) -> set[tuple[str, ...]]:
    if len(tokens) < NGRAM:
        return {tuple(tokens)}
    return {tuple(tokens[i : i + NGRAM]) for i in range(len(tokens) - NGRAM + 1)}


def true_jaccard(a: str, b: str) -> float:
    sa, sb = (shingle_set(t) for t in _tokens([a, b]))
    return len(sa & sb) / len(sa | sb)


def _bases(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """(language, text) documents: article bodies, then lingua sentences without reuse."""
    bodies = json.loads((EVALDATA / "article-extraction-benchmark" / "ground-truth.json").read_text())
    bases = [("en", v["articleBody"]) for _, v in sorted(bodies.items()) if v.get("articleBody", "").strip()]
    pools: dict[str, list[str]] = {}
    for path in sorted((EVALDATA / "lingua-sentences").glob("*.txt")):
        if path.stem == "LICENSE":
            continue
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        rng.shuffle(lines)
        pools[path.stem] = lines
    languages = sorted(pools)
    while len(bases) < count and any(pools.values()):
        language = rng.choice(languages)
        pool = pools[language]
        if not pool:
            continue
        size = min(len(pool), rng.choice([1, 2, 3, 5, 8, 12, 20, 30, 40]))
        sentences = [pool.pop() for _ in range(size)]
        paragraphs = [" ".join(sentences[i : i + 4]) for i in range(0, len(sentences), 4)]
        joiner = "" if language in UNSPACED else " "
        paragraphs = [p.replace(" ", joiner) if language in {"zh", "ja"} else p for p in paragraphs]
        bases.append((language, "\n\n".join(paragraphs)))
    return bases[:count]


def _units(language: str, paragraph: str) -> list[str]:
    return list(paragraph) if language in UNSPACED else paragraph.split()


def _join(language: str, paragraphs: list[list[str]]) -> str:
    sep = "" if language in UNSPACED else " "
    return "\n\n".join(sep.join(p) for p in paragraphs if p)


def _variant(rng: random.Random, language: str, text: str, target: float, filler: list[str]) -> tuple[str, float]:
    """Edit `text` until its true Jaccard with the original falls to about `target`."""
    original = shingle_set(_tokens([text])[0])
    paragraphs = [_units(language, p) for p in text.split("\n\n")]
    current, similarity = text, 1.0
    step = 1
    for _ in range(400):
        for _ in range(step):
            kind = rng.choice(["edit", "edit", "insert", "delete", "swap", "paragraphs"])
            p = rng.randrange(len(paragraphs))
            units = paragraphs[p]
            if kind == "paragraphs" and len(paragraphs) > 1:
                q = rng.randrange(len(paragraphs))
                paragraphs[p], paragraphs[q] = paragraphs[q], paragraphs[p]
            elif kind == "insert" or not units:
                units.insert(rng.randrange(len(units) + 1), rng.choice(filler))
            elif kind == "edit":
                units[rng.randrange(len(units))] = rng.choice(filler)
            elif kind == "delete" and len(units) > 1:
                del units[rng.randrange(len(units))]
            elif len(units) > 1:
                i = rng.randrange(len(units) - 1)
                units[i], units[i + 1] = units[i + 1], units[i]
        candidate = _join(language, paragraphs)
        shingles = shingle_set(_tokens([candidate])[0])
        similarity = len(original & shingles) / len(original | shingles)
        current = candidate
        if similarity <= target + 0.01:
            break
        # Each edit changes about NGRAM shingles: aim at half the remaining distance.
        remaining = (similarity - target) * len(original) / (2 * NGRAM)
        step = max(1, int(remaining / 2))
    return current, similarity


def build_corpus(bases_count: int, seed: int) -> tuple[list[dict[str, str]], list[tuple[str, str, float]]]:
    rng = random.Random(seed)
    bases = _bases(rng, bases_count)
    filler_words: dict[str, list[str]] = {}
    for language, text in bases:
        filler_words.setdefault(language, []).extend(_units(language, text.replace("\n\n", " "))[:50])
    docs: list[dict[str, str]] = []
    pairs: list[tuple[str, str, float]] = []
    for index, (language, text) in enumerate(bases):
        base_id = f"b{index:06d}"
        docs.append({"id": base_id, "text": text, "language": language})
        roll = rng.random()
        if roll < 0.45:
            target = LEVELS[index % len(LEVELS)]
            variant, similarity = _variant(rng, language, text, target, filler_words[language])
            docs.append({"id": f"v{index:06d}", "text": variant, "language": language})
            pairs.append((base_id, f"v{index:06d}", similarity))
        elif roll < 0.55:
            docs.append({"id": f"c{index:06d}", "text": text, "language": language})
            pairs.append((base_id, f"c{index:06d}", 1.0))
    order = list(range(len(docs)))
    rng.shuffle(order)
    return [docs[i] for i in order], pairs


# -- the methods (each runs in a child process) ------------------------------------------------------


def _read(corpus: Path, size: int = 1000) -> Iterator[list[dict[str, str]]]:
    """The corpus file in chunks, read as it goes: no method holds the whole corpus in memory."""
    chunk: list[dict[str, str]] = []
    with corpus.open(encoding="utf-8") as f:
        for line in f:
            chunk.append(json.loads(line))
            if len(chunk) == size:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


def _batches(chunks: Iterator[list[dict[str, str]]]) -> Iterator[pa.RecordBatch]:
    for chunk in chunks:
        ids = [d["id"] for d in chunk]
        yield pa.RecordBatch.from_pydict(
            {
                "id": ids,
                "text": [d["text"] for d in chunk],
                "source": ids,
                "url": pa.nulls(len(chunk), pa.string()),
                "file": ["corpus"] * len(chunk),
            }
        )


def run_pipeline_stage(corpus: Path, workers: int) -> list[tuple[str, str | None]]:
    from multiprocessing import get_context

    from pipeline.stages.dedup_near import DedupNear, DedupNearConfig

    stage = DedupNear(DedupNearConfig(threshold=THRESHOLD, num_perm=NUM_PERM, ngram=NGRAM))
    # Batches are made on the fly in both passes, as the runner streams them (it re-reads a spill).
    if workers > 1:
        with get_context("fork").Pool(workers) as pool:
            batches = _batches(_read(corpus))
            prepared_batches = pool.imap(stage.prepare, _batches(_read(corpus)))
            for batch, prepared in zip(batches, prepared_batches, strict=True):
                stage.collect(batch, prepared)
    else:
        for batch in _batches(_read(corpus)):
            stage.collect(batch, stage.prepare(batch))
    stage.decide()
    return _removed(stage, _batches(_read(corpus)))


def _removed(stage: Any, batches: Any) -> list[tuple[str, str | None]]:
    """(removed id, kept id) after the decided dedup_near's pass 2 and the survivors stage, which (run
    last in the pipeline) rejects the copies dedup_near marked."""
    from pipeline.stages.survivors import Survivors, SurvivorsConfig

    survivors = Survivors(SurvivorsConfig(stages=["dedup_near"]))
    annotated = [stage.apply(batch).kept for batch in batches]
    for batch in annotated:
        survivors.collect(batch, None)
    survivors.decide()
    removed: list[tuple[str, str | None]] = []
    for batch in annotated:
        rejected = survivors.apply(batch).rejected
        removed.extend(zip(rejected.column("id").to_pylist(), rejected.column("duplicate_of").to_pylist(), strict=True))
    return removed


_PUNCTUATION = re.compile(r"[^\w\s]+")


def _python_tokens(texts: list[str]) -> list[list[str]]:
    """The usual way: NFKC, lower case, punctuation to spaces with a regex, split, all in Python."""
    return [_PUNCTUATION.sub(" ", unicodedata.normalize("NFKC", t).lower()).split() for t in texts]


def run_datasketch(corpus: Path, python_shingles: bool) -> list[tuple[str, str | None]]:
    from datasketch import MinHash, MinHashLSH

    # Either the stage's own tokens (Arrow kernels: datasketch only signs) or tokens made in Python.
    tokenize = _python_tokens if python_shingles else _tokens
    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM, weights=(0.05, 0.95))
    removed: list[tuple[str, str | None]] = []
    for chunk in _read(corpus):
        for doc, tokens in zip(chunk, tokenize([d["text"] for d in chunk]), strict=True):
            m = MinHash(num_perm=NUM_PERM)
            m.update_batch([" ".join(s).encode("utf-8") for s in shingle_set(tokens)])
            found = lsh.query(m)
            if found:
                removed.append((doc["id"], min(found)))
            else:
                lsh.insert(doc["id"], m)
    return removed


def datatrove_input(corpus: Path, workers: int) -> Path:
    """datatrove reads its own files, one shard per task: written before the clock starts."""
    work = Path(tempfile.mkdtemp(prefix="bench-datatrove-"))
    inputs = work / "input"
    inputs.mkdir()
    with contextlib.ExitStack() as stack:
        shards = [stack.enter_context(gzip.open(inputs / f"part{i}.jsonl.gz", "wt")) for i in range(workers)]
        for chunk in _read(corpus):
            for index, d in enumerate(chunk):
                shards[index % workers].write(json.dumps({"id": d["id"], "text": d["text"]}) + "\n")
    return work


def run_datatrove(work: Path, workers: int) -> list[tuple[str, str | None]]:
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup import MinhashDedupBuckets, MinhashDedupCluster, MinhashDedupFilter
    from datatrove.pipeline.dedup.minhash import MinhashConfig, MinhashDedupSignature
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter

    # 16 buckets × 8 hashes: the same LSH shape as the stage's derived one, 128 permutations.
    config = MinhashConfig(n_grams=NGRAM, num_buckets=16, hashes_per_bucket=8)
    inputs = work / "input"

    def reader() -> JsonlReader:
        return JsonlReader(str(inputs))

    LocalPipelineExecutor(
        [reader(), MinhashDedupSignature(output_folder=str(work / "sigs"), config=config)],
        tasks=workers,
        workers=workers,
        logging_dir=str(work / "logs1"),
        skip_completed=False,
    ).run()
    LocalPipelineExecutor(
        [MinhashDedupBuckets(input_folder=str(work / "sigs"), output_folder=str(work / "buckets"), config=config)],
        tasks=config.num_buckets,
        workers=workers,
        logging_dir=str(work / "logs2"),
        skip_completed=False,
    ).run()
    LocalPipelineExecutor(
        [
            MinhashDedupCluster(
                input_folder=str(work / "buckets"), output_folder=str(work / "ids"), config=config, save_cluster_id=True
            )
        ],
        tasks=1,
        logging_dir=str(work / "logs3"),
        skip_completed=False,
    ).run()
    LocalPipelineExecutor(
        [
            reader(),
            MinhashDedupFilter(
                input_folder=str(work / "ids"),
                exclusion_writer=JsonlWriter(str(work / "removed"), compression=None),
                load_cluster_ids=True,
            ),
            JsonlWriter(str(work / "kept"), compression=None),
        ],
        tasks=workers,
        workers=workers,
        logging_dir=str(work / "logs4"),
        skip_completed=False,
    ).run()

    def rows(folder: Path) -> Iterator[dict]:
        for path in sorted(folder.glob("*.jsonl")):
            with path.open(encoding="utf-8") as f:
                for line in f:
                    yield json.loads(line)

    # The kept document of each cluster is its union-find root; cluster ids are per input shard pair.
    kept_of_cluster: dict[int, str] = {}
    for row in rows(work / "kept"):
        cluster = row.get("metadata", {}).get("minhash_cluster_id", -1)
        if cluster != -1:
            kept_of_cluster[cluster] = row["id"]
    removed = [
        (row["id"], kept_of_cluster.get(row.get("metadata", {}).get("minhash_cluster_id", -1)))
        for row in rows(work / "removed")
    ]
    shutil.rmtree(work, ignore_errors=True)
    return removed


class MemorySampler:
    """Peak RSS of this process and of the whole tree of its descendants, sampled every 100 ms.

    ru_maxrss cannot be used: Linux carries it across exec, so every child would report at least the
    parent's size; and datatrove's workers are not our children but the forkserver's.
    """

    def __init__(self) -> None:
        self.largest = 0
        self.total = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._page = os.sysconf("SC_PAGE_SIZE")

    def _tree(self) -> list[int]:
        parents: dict[int, list[int]] = {}
        rss: dict[int, int] = {}
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry.name}/stat").read_text()
                fields = stat[stat.rindex(")") + 2 :].split()
                parents.setdefault(int(fields[1]), []).append(int(entry.name))
                rss[int(entry.name)] = int(fields[21]) * self._page
            except (OSError, ValueError):
                continue
        found, todo = [], [os.getpid()]
        while todo:
            pid = todo.pop()
            found.append(rss.get(pid, 0))
            todo.extend(parents.get(pid, []))
        return found

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            sizes = self._tree()
            self.largest = max(self.largest, max(sizes))
            self.total = max(self.total, sum(sizes))

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        # Our own high-water mark (per address space, so not inherited) catches spikes between samples.
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                own = int(line.split()[1]) * 1024
                self.largest = max(self.largest, own)
                self.total = max(self.total, own)


def child(method: str, corpus: Path, result: Path, workers: int) -> None:
    # Libraries are imported before the clock starts: the figures are about the work, not start-up.
    if method == "dedup_near":
        import pipeline.stages.dedup_near  # noqa: F401
    elif method in ("datasketch", "datasketch-py"):
        import datasketch  # noqa: F401

        _tokens(["warm up the tokeniser"])
    elif method == "datatrove":
        import datatrove.pipeline.dedup  # noqa: F401

        work = datatrove_input(corpus, workers)
    with MemorySampler() as memory:
        start = time.perf_counter()
        if method == "dedup_near":
            removed = run_pipeline_stage(corpus, workers)
        elif method in ("datasketch", "datasketch-py"):
            removed = run_datasketch(corpus, python_shingles=method == "datasketch-py")
        elif method == "datatrove":
            removed = run_datatrove(work, workers)
        else:
            raise SystemExit(f"unknown method {method}")
        seconds = time.perf_counter() - start
    peaks = {"peak_rss_mb": memory.largest / 2**20, "peak_tree_rss_mb": memory.total / 2**20}
    result.write_text(json.dumps({"removed": removed, "seconds": seconds, **peaks}))


# -- evaluation --------------------------------------------------------------------------------------


def evaluate(
    removed: list[tuple[str, str | None]], docs: dict[str, str], pairs: list[tuple[str, str, float]]
) -> dict[str, object]:
    cache: dict[tuple[str, str], float] = {}
    planted = {frozenset((a, b)): j for a, b, j in pairs}

    def similarity(a: str, b: str) -> float:
        key = (min(a, b), max(a, b))
        if key not in cache:
            cache[key] = planted.get(frozenset(key)) or true_jaccard(docs[a], docs[b])
        return cache[key]

    correct = 0
    for doc, kept in removed:
        # A removal without a named kept document (datatrove's, when its cluster root was also removed)
        # counts as correct when the document has any planted partner at or above the threshold.
        if kept is None:
            partners = [j for a, b, j in pairs if doc in (a, b)]
            correct += bool(partners) and max(partners) >= THRESHOLD
        else:
            correct += similarity(doc, kept) >= THRESHOLD
    removed_ids = {doc for doc, _ in removed}
    per_band: dict[str, tuple[int, int]] = {}
    for lo, hi in BANDS:
        members = [(a, b) for a, b, j in pairs if lo <= j < hi]
        caught = sum(1 for a, b in members if a in removed_ids or b in removed_ids)
        per_band[f"{lo:.2f}-{min(hi, 1.0):.2f}"] = (caught, len(members))
    relevant = [(a, b) for a, b, j in pairs if j >= THRESHOLD]
    recall = sum(1 for a, b in relevant if a in removed_ids or b in removed_ids) / max(len(relevant), 1)
    precision = correct / max(len(removed), 1) if removed else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "removed": len(removed), "bands": per_band}


def real_pairs() -> str:
    """Ground-truth body vs trafilatura's extraction of the same page, through the stage."""
    from pipeline.stages.dedup_near import DedupNear, DedupNearConfig

    bench = EVALDATA / "article-extraction-benchmark"
    truth = json.loads((bench / "ground-truth.json").read_text())
    extracted = json.loads((bench / "output" / "trafilatura.json").read_text())["output"]
    keys = sorted(
        k for k in truth if k in extracted and truth[k].get("articleBody") and extracted[k].get("articleBody")
    )
    docs = [{"id": f"truth:{k}", "text": truth[k]["articleBody"]} for k in keys]
    docs += [{"id": f"trafilatura:{k}", "text": extracted[k]["articleBody"]} for k in keys]
    similarities = {k: true_jaccard(truth[k]["articleBody"], extracted[k]["articleBody"]) for k in keys}
    stage = DedupNear(DedupNearConfig(threshold=THRESHOLD))
    batches = list(_batches(docs[i : i + 100] for i in range(0, len(docs), 100)))
    for batch in batches:
        stage.collect(batch, stage.prepare(batch))
    stage.decide()
    removed = _removed(stage, batches)
    same_page = sum(1 for a, b in removed if a.split(":", 1)[1] == b.split(":", 1)[1])
    cross_page = len(removed) - same_page
    above = sum(1 for j in similarities.values() if j >= THRESHOLD)
    caught_above = sum(
        1
        for a, b in removed
        if a.split(":", 1)[1] == b.split(":", 1)[1] and similarities[a.split(":", 1)[1]] >= THRESHOLD
    )
    return (
        f"real pairs (article-extraction-benchmark, ground truth vs trafilatura, {len(keys)} pages): "
        f"median true Jaccard {statistics.median(similarities.values()):.3f}; pages with Jaccard >= {THRESHOLD}: "
        f"{above}, caught {caught_above}; same-page removals {same_page}; cross-page removals {cross_page}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bases", type=int, default=6000, help="original documents before planting copies")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--datatrove-python", default="", help="an interpreter that has datatrove (e.g. a venv)")
    parser.add_argument("--skip", nargs="*", default=[], help="methods to leave out")
    parser.add_argument("--evaldata", type=Path, help="public evaluation data (default: $PIPELINE_EVALDATA)")
    parser.add_argument("--child", nargs=3, metavar=("METHOD", "CORPUS", "RESULT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), Path(args.child[2]), args.workers)
        return

    global EVALDATA
    EVALDATA = evaldata_folder(args.evaldata)
    started = time.perf_counter()
    docs, pairs = build_corpus(args.bases, args.seed)
    texts = {d["id"]: d["text"] for d in docs}
    languages = len({d["language"] for d in docs})
    mean_chars = sum(len(d["text"]) for d in docs) / len(docs)
    print(
        f"corpus: {len(docs)} documents in {languages} languages, mean {mean_chars:,.0f} chars; "
        f"{len(pairs)} planted pairs ({sum(j == 1.0 for *_, j in pairs)} exact copies); "
        f"built in {time.perf_counter() - started:.0f} s"
    )
    work = Path(tempfile.mkdtemp(prefix="bench-dedup-near-"))
    corpus = work / "corpus.jsonl"
    corpus.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs), encoding="utf-8")

    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    runs: list[tuple[str, str, int]] = [
        ("dedup_near (1 process)", "dedup_near", 1),
        (f"dedup_near ({args.workers} workers for prepare)", "dedup_near", args.workers),
        ("datasketch MinHashLSH, update_batch, the stage's tokens", "datasketch", 1),
        ("datasketch MinHashLSH, update_batch, tokens made in Python", "datasketch-py", 1),
        (f"datatrove MinHash 4 stages ({args.workers} workers)", "datatrove", args.workers),
    ]
    rows = []
    for label, method, workers in runs:
        if method in args.skip:
            continue
        python = sys.executable
        if method == "datatrove":
            python = args.datatrove_python or sys.executable
            probe = subprocess.run([python, "-c", "import datatrove"], capture_output=True, env=env)
            if probe.returncode:
                print(f"{label}: skipped (datatrove is not importable by {python}; pass --datatrove-python)")
                continue
        if method.startswith("datasketch"):
            probe = subprocess.run([python, "-c", "import datasketch"], capture_output=True, env=env)
            if probe.returncode:
                print(f"{label}: skipped (pip install datasketch, or the `bench` extra)")
                continue
        result = work / f"{method}-{workers}.json"
        command = [python, __file__, "--workers", str(workers), "--child", method, str(corpus), str(result)]
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        if done.returncode:
            print(f"{label}: failed\n{done.stderr[-3000:]}")
            continue
        outcome = json.loads(result.read_text())
        scores = evaluate([tuple(r) for r in outcome["removed"]], texts, pairs)
        rows.append((label, outcome, scores))

    bands = [f"{lo:.2f}-{min(hi, 1.0):.2f}" for lo, hi in BANDS]
    header = ["method", "precision", "recall", "F1", "removed", "docs/s", "peak RSS MB: largest process / all"]
    header += [f"J {b}" for b in bands]
    print()
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for label, outcome, scores in rows:
        cells = [
            label,
            f"{scores['precision']:.4f}",
            f"{scores['recall']:.4f}",
            f"{scores['f1']:.4f}",
            str(scores["removed"]),
            f"{len(docs) / outcome['seconds']:,.0f}",
            f"{outcome['peak_rss_mb']:,.0f} / {outcome['peak_tree_rss_mb']:,.0f}",
        ]
        for band in bands:
            caught, total = scores["bands"][band]
            cells.append(f"{caught}/{total}" + (f" ({caught / total:.3f})" if total else ""))
        print("| " + " | ".join(cells) + " |")
    print()
    print(
        "J a-b: planted pairs with true Jaccard in [a, b) caught (at least one copy removed); below 0.80 should be 0."
    )
    print(real_pairs())
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
