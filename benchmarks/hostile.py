"""Hostile inputs, tried as an attacker would: does a run lose, invent, crash or blow up memory?

Generates one input folder per hostile class (nothing is downloaded), runs the real command line
`python -m pipeline run` on each in a child process, and prints per case: exit code, whether a
traceback was printed, records the generator put in, records read / published / rejected (from
run.json), files reported partly read, wall seconds and the child's peak RSS.

    PYTHONPATH=. python benchmarks/hostile.py [--work /tmp/hostile] [--only NAME ...]

Needs ~3 GB of free disk for the generated inputs (most of it sparse zeros compressed away).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import socket
import subprocess
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

CASES: dict[str, Callable[[Path], int]] = {}


def case(function: Callable[[Path], int]) -> Callable[[Path], int]:
    CASES[function.__name__] = function
    return function


_WORDS = [
    "river",
    "town",
    "spring",
    "wall",
    "stone",
    "council",
    "fund",
    "library",
    "engineer",
    "bank",
    "quarry",
    "north",
    "house",
    "bend",
    "water",
    "step",
    "decade",
    "flood",
    "plan",
    "study",
    "report",
    "meeting",
    "budget",
    "summer",
    "winter",
    "school",
    "market",
    "bridge",
    "road",
    "field",
    "farm",
]


def _prose(i: int) -> str:
    """A paragraph of ordinary prose, different for every i, that the quality filters let through."""
    state = i * 2654435761 % (1 << 32) + 1
    sentences = []
    for _ in range(8):
        words = []
        for _ in range(12):
            state = state * 1103515245 % (1 << 31)
            words.append(_WORDS[state % len(_WORDS)])
        sentences.append("The " + " ".join(words) + ".")
    return f"Entry {i}. " + " ".join(sentences)


@case
def csv_quoted_fields_full_of_rows(folder: Path) -> int:
    """Three 12 MB quoted fields whose content is CSV rows with doubled quotes, between good rows."""
    inner = "\n".join(f'x{j},"forged ""row"" {j}"' for j in range(400_000))
    with (folder / "d.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text"])
        for i in range(6):
            writer.writerow([f"g{i}", inner if i % 2 else _prose(i)])
    return 6


@case
def csv_mixed_encoding_past_the_sniff_window(folder: Path) -> int:
    """A UTF-8 CSV whose every 500th row, after the first 64 KB, is Windows-1252."""
    rows = 20_000
    with (folder / "d.csv").open("wb") as handle:
        handle.write(b"id,text\n")
        for i in range(rows):
            text = _prose(i).encode()
            if i > 2000 and i % 500 == 0:
                text = "caf\u00e9 na\u00efve \u2013 ".encode("cp1252") + text
            handle.write(f"g{i},".encode() + b'"' + text + b'"\n')
    return rows


@case
def jsonl_nesting_surrogates_and_numbers(folder: Path) -> int:
    """Deep objects, reversed surrogate pairs, 10,000-digit ids and good lines interleaved."""
    lines = []
    for i in range(300):
        kind = i % 5
        if kind == 0:
            lines.append('{"text": ' + '{"a": ' * 50_000 + "1" + "}" * 50_000 + "}")
        elif kind == 1:
            lines.append('{"id": "s' + str(i) + '", "text": "tail \\udc00\\ud800 head"}')
        elif kind == 2:
            lines.append('{"text": "ok", "id": ' + "7" * 10_000 + "}")
        elif kind == 3:
            lines.append('{"id": "\\ud83d", "text": ' + json.dumps(_prose(i)) + "}")
        else:
            lines.append(json.dumps({"id": f"g{i}", "text": _prose(i)}))
    (folder / "d.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines)


@case
def jsonl_zstd_cut_short(folder: Path) -> int:
    import zstandard

    lines = "".join(json.dumps({"id": f"g{i}", "text": _prose(i)}) + "\n" for i in range(20_000))
    packed = zstandard.ZstdCompressor().compress(lines.encode())
    (folder / "d.jsonl.zst").write_bytes(packed[: len(packed) * 2 // 3])
    return 20_000


def _warc(i: int, body: bytes, coding: str | None) -> bytes:
    http = "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
    if coding:
        http += f"Content-Encoding: {coding}\r\n"
    block = http.encode() + b"\r\n" + body
    head = (
        f"WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: https://example.org/{i}\r\n"
        f"WARC-Record-ID: <urn:uuid:00000000-0000-0000-0000-{i:012d}>\r\nWARC-Date: 2024-01-01T00:00:00Z\r\n"
        f"Content-Type: application/http; msgtype=response\r\nContent-Length: {len(block)}\r\n\r\n"
    )
    return head.encode() + block + b"\r\n\r\n"


def _page(i: int) -> bytes:
    return f"<html><body><article><p>{_prose(i)}</p><p>{_prose(i + 1)}</p></article></body></html>".encode()


@case
def warc_deflate_zstd_and_brotli_bombs(folder: Path) -> int:
    """Bodies that inflate to 1 GiB (deflate, zstd) and 256 MiB (brotli) between good pages."""
    import zstandard

    zeros = bytes(64 << 20)
    deflate = zlib.compressobj(9)
    deflated = b"".join(deflate.compress(zeros) for _ in range(16)) + deflate.flush()
    zstd_bomb = zstandard.ZstdCompressor(level=19).compress(bytes(1 << 30))
    records = [_warc(0, _page(0), None), _warc(1, deflated, "deflate"), _warc(2, _page(2), None)]
    records += [_warc(3, zstd_bomb, "zstd"), _warc(4, gzip.compress(_page(4)), "gzip")]
    count = 5
    try:
        import brotli

        records.append(_warc(5, brotli.compress(bytes(256 << 20), quality=1), "br"))
        records.append(_warc(6, _page(6), None))
        count = 7
    except ImportError:
        pass
    (folder / "crawl.warc.gz").write_bytes(gzip.compress(b"".join(records), 1))
    return count


@case
def parquet_inflating_row_groups_and_odd_types(folder: Path) -> int:
    """Row groups of one 300 MB cell each (a few KB on disk), a struct text column, list ids."""
    schema = pa.schema([("text", pa.string()), ("id", pa.string())])
    with pq.ParquetWriter(folder / "a.parquet", schema, compression="zstd") as writer:
        writer.write_table(pa.table({"text": [_prose(0)], "id": ["g0"]}, schema=schema))
        for i in (1, 2):
            big = str(i) * (300 << 20)
            writer.write_table(pa.table({"text": [big], "id": [f"big{i}"]}, schema=schema))
            del big
        writer.write_table(pa.table({"text": [_prose(3)], "id": ["g3"]}, schema=schema))
    n = 50
    pq.write_table(
        pa.table(
            {
                "text": pa.array([{"body": _prose(i)} for i in range(n)]),
                "id": pa.array([[i, i + 1] for i in range(n)]),
            }
        ),
        folder / "b.parquet",
    )
    texts = pa.array([_prose(i % 7) for i in range(n)]).dictionary_encode()
    url = pa.array([{"host": "example.org", "path": f"/{i}"} for i in range(n)])
    pq.write_table(pa.table({"text": texts, "url": url}), folder / "c.parquet")
    return 4 + n + n


@case
def walk_links_pipes_and_depth(folder: Path) -> int:
    """Links to /etc, a link chain loop, a link to the parent, a FIFO, a socket, a 2,000-deep folder."""
    (folder / "good.txt").write_text(_prose(0))
    (folder / "passwd.txt").symlink_to("/etc/passwd")
    (folder / "etc").symlink_to("/etc", target_is_directory=True)
    (folder / "a.txt").symlink_to(folder / "b.txt")
    (folder / "b.txt").symlink_to(folder / "a.txt")
    (folder / "up").symlink_to(folder, target_is_directory=True)
    os.mkfifo(folder / "pipe.jsonl")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(folder / "sock.txt"))
    sock.close()
    deep = folder
    for _ in range(2000):
        deep = deep / "d"
        try:
            deep.mkdir()
        except OSError:  # the path length limit: the deepest folder the system allows
            deep = deep.parent
            break
    (deep / "deep.txt").write_text(_prose(1))
    return 9


@case
def pii_and_clean_patterns_worst_case(folder: Path) -> int:
    """One 6 MB document of pattern prefixes that make backtracking regexes quadratic."""
    units = ["-----BEGIN EC PRIVATE KEY-----\n", "eyJ-", "a@b.", "1.2.3.", "+1 (2) ", "token = ", "sk-", "\n \n"]
    text = "".join(unit * (750_000 // len(unit)) for unit in units)
    (folder / "d.txt").write_text(text)
    return 1


@case
def html_nesting_and_entities(folder: Path) -> int:
    """HTML nested 200,000 deep, and a page of 1 million entities."""
    (folder / "deep.html").write_text("<html><body>" + "<div>" * 200_000 + "deep" + "</div>" * 200_000)
    (folder / "entities.html").write_text("<html><body><p>" + "&amp;&#x1F600;&lt;" * 1_000_000 + "</p>")
    return 2


def _generate(name: str, folder: Path) -> None:
    """In a child process, so the parent's memory (and the peak RSS a child inherits) stays small."""
    print(CASES[name](folder))


def _run_case(name: str, work: Path) -> dict[str, object]:
    base = work / name
    _remove(base)
    (base / "in").mkdir(parents=True)
    made = subprocess.run(
        [sys.executable, __file__, "--generate", name, str(base / "in")], capture_output=True, text=True, check=True
    )
    expected = int(made.stdout.split()[-1])
    command = [sys.executable, "-m", "pipeline", "run", "--input", str(base / "in"), "--output", str(base / "out")]
    command += ["--name", "hostile", "--quiet", "--fresh", "--set", "language.languages=[]", "--workers", "2"]
    started = time.perf_counter()
    with (base / "stderr.txt").open("wb") as err_file:
        child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err_file)
        # wait4, not wait: it returns this child's own peak RSS.
        _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    err = (base / "stderr.txt").read_bytes()
    seconds = time.perf_counter() - started
    reports = sorted((base / "out").glob("*.report/run.json"))
    facts = json.loads(reports[0].read_text()) if reports and child.returncode == 0 else {}
    records = facts.get("records", {})
    return {
        "case": name,
        "exit": child.returncode,
        "traceback": b"Traceback" in err,
        "in": expected,
        "read": records.get("read"),
        "published": records.get("published"),
        "rejected": records.get("rejected"),
        "partly_read": len(facts.get("partly_read", [])),
        "seconds": round(seconds, 1),
        "peak_rss_mb": round(usage.ru_maxrss / 1024),
        "stderr": err.decode("utf-8", "replace").strip().splitlines()[-1:] if child.returncode else [],
    }


def _remove(folder: Path) -> None:
    # rm, not shutil.rmtree: the deep-folder case is deeper than rmtree's recursion allows.
    subprocess.run(["rm", "-rf", str(folder)], check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path("/tmp/pipeline-hostile"))
    parser.add_argument("--only", nargs="*", choices=sorted(CASES))
    parser.add_argument("--generate", nargs=2, metavar=("CASE", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        _generate(args.generate[0], Path(args.generate[1]))
        return
    print(
        f"{'case':<42} {'exit':>4} {'tb':>3} {'in':>7} {'read':>7} {'publ':>7} {'rej':>7} {'part':>4} "
        f"{'s':>6} {'RSS MB':>7}"
    )
    for name in CASES:
        if args.only and name not in args.only:
            continue
        row = _run_case(name, args.work)
        print(
            f"{name:<42} {row['exit']:>4} {'yes' if row['traceback'] else 'no':>3} {row['in']:>7} {row['read']!s:>7} "
            f"{row['published']!s:>7} {row['rejected']!s:>7} {row['partly_read']:>4} {row['seconds']:>6} "
            f"{row['peak_rss_mb']!s:>7}",
            flush=True,
        )
        if row["stderr"]:
            print(f"    {row['stderr'][0][:200]}")
        _remove(args.work / name)


if __name__ == "__main__":
    main()
