"""Archive ingest speed: FastWARC vs warcio as the record reader, then the whole ingest (pages/s, MB/s).

pip install warcio   # only for the reader comparison; not a pipeline dependency
PYTHONPATH=. python benchmarks/ingest_warc.py [--evaldata DIR]  # default: $PIPELINE_EVALDATA [--repeat 30]
"""

from __future__ import annotations

import argparse
import gzip
import io
import resource
import shutil
import tempfile
import time
from pathlib import Path

from evaldata import evaldata_folder

from pipeline.config import IngestConfig
from pipeline.ingest import ingest, list_inputs

SAMPLES = [
    "resiliparse-cc-warc/warcfile.warc.gz",
    "cc-whirlwind/whirlwind.warc.gz",
    "commoncrawl-2008-arc/small-sample-1213893279526_0.arc",
]


def fastwarc_pass(data: bytes) -> int:
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    n = 0
    for record in ArchiveIterator(io.BytesIO(data), record_types=WarcRecordType.any_type, parse_http=True):
        record.reader.read()
        n += 1
    return n


def pipeline_pass(data: bytes) -> int:
    """FastWARC as ingest runs it: on the damage-aware decompressed stream (plus the tail check)."""
    from pipeline.config import IngestConfig
    from pipeline.readers.warc import read_warc

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ("sample.warc.gz" if data[:2] == b"\x1f\x8b" else "sample.warc")
        path.write_bytes(data)
        n = 0
        for record in read_warc(path, IngestConfig()):
            n += 1
            if getattr(record, "reason", None) == "corrupt_archive":
                raise ValueError(record.detail[:60])
        return n


def arc_pass(data: bytes) -> int:
    """The pipeline's ARC parser (records framed and HTTP split, extraction left pending)."""
    from pipeline.config import IngestConfig
    from pipeline.readers.arc import read_arc

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sample.arc"
        path.write_bytes(data)
        n = 0
        for record in read_arc(path, IngestConfig()):
            n += 1
            if getattr(record, "reason", None) == "corrupt_archive":
                raise ValueError(record.detail[:60])
        return n


def warcio_pass(data: bytes) -> int:
    from warcio.archiveiterator import ArchiveIterator

    n = 0
    for record in ArchiveIterator(io.BytesIO(data), arc2warc=True):
        record.content_stream().read()
        n += 1
    return n


def reader_table(evaldata: Path, repeat: int) -> None:
    print("Record readers: iterate every record and read its payload (no extraction)\n")
    print("| file | reader | records | records/s | MB/s (file bytes) | note |")
    print("|---|---|---|---|---|---|")
    for sample in SAMPLES:
        data = (evaldata / sample).read_bytes()
        ingest_reader = ("fastwarc in ingest", pipeline_pass)
        if sample.endswith(".arc"):
            ingest_reader = ("pipeline ARC parser", arc_pass)
        readers = (("fastwarc", fastwarc_pass), ingest_reader, ("warcio", warcio_pass))
        for name, fn in readers:
            try:
                start = time.perf_counter()
                for _ in range(repeat):
                    count = fn(data)
                seconds = time.perf_counter() - start
            except ImportError:
                print(f"| {Path(sample).name} | {name} | - | - | - | not installed |")
                continue
            except Exception as exc:
                print(f"| {Path(sample).name} | {name} | - | - | - | fails: {type(exc).__name__}: {str(exc)[:60]} |")
                continue
            rate = count * repeat / seconds
            mbs = len(data) * repeat / seconds / 1e6
            print(f"| {Path(sample).name} | {name} | {count} | {rate:,.0f} | {mbs:,.1f} | |")


def _cpu_seconds() -> float:
    """CPU time of this process plus its finished children (the extraction workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def ingest_table(evaldata: Path, copies: int) -> None:
    print(f"\nWhole ingest (read, decode, extract with trafilatura), each input copied {copies}x\n")
    print(
        "| input | workers | documents | published | seconds | pages/s | MB/s (file) | MB/s (uncompressed) "
        "| CPU ms/page |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for sample in SAMPLES:
        path = evaldata / sample
        size = path.stat().st_size * copies
        raw = (len(gzip.decompress(path.read_bytes())) if path.suffix == ".gz" else path.stat().st_size) * copies
        for workers in (1, 2):
            config = IngestConfig(workers=workers)
            with tempfile.TemporaryDirectory() as tmp:
                for i in range(copies):
                    shutil.copy(path, Path(tmp) / f"{i:03d}-{path.name}")
                files = list_inputs(Path(tmp), [])
                start = time.perf_counter()
                cpu = _cpu_seconds()
                documents = published = 0
                for batch in ingest(files, config, 1000):
                    documents += batch.kept.num_rows + batch.rejected.num_rows
                    published += batch.kept.num_rows
                seconds = time.perf_counter() - start
                cpu = _cpu_seconds() - cpu
            print(
                f"| {path.name} | {workers} | {documents} | {published} | {seconds:.2f} | {documents / seconds:.1f} | "
                f"{size / seconds / 1e6:.2f} | {raw / seconds / 1e6:.2f} | {1000 * cpu / documents:.0f} |"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--evaldata", type=Path, help="public evaluation data (default: $PIPELINE_EVALDATA)")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--copies", type=int, default=8, help="copies of each input for the ingest table")
    args = parser.parse_args()
    args.evaldata = evaldata_folder(args.evaldata)
    reader_table(args.evaldata, args.repeat)
    ingest_table(args.evaldata, args.copies)


if __name__ == "__main__":
    main()
