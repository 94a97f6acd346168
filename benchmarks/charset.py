"""Charset accuracy: share of charset-normalizer's labelled samples decoded to exactly the right text.

Each sample is decoded three ways, none of which is told the answer: as a plain text file (the text
reader's path), as an HTML page with no declaration, and as an HTML page whose HTTP header declares
the charset (the archive path when the server was honest).

    PYTHONPATH=. python benchmarks/charset.py [--evaldata DIR]  # default: $PIPELINE_EVALDATA
"""

from __future__ import annotations

import argparse
import csv
import html
from pathlib import Path

from evaldata import evaldata_folder

from pipeline.readers.charset import decode_web
from pipeline.readers.decode import decode_bytes


def as_page(text: str, codec: str) -> bytes:
    body = "".join(f"<p>{html.escape(line)}</p>\n" for line in text.splitlines() if line.strip())
    return f"<html><head><title>t</title></head><body>{body}</body></html>".encode(codec)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--evaldata", type=Path, help="public evaluation data (default: $PIPELINE_EVALDATA)")
    args = parser.parse_args()
    args.evaldata = evaldata_folder(args.evaldata)
    root = args.evaldata / "charset-normalizer-samples"
    with (root / "expected_from_test_full_detection.tsv").open(encoding="utf-8") as f:
        cases = list(csv.DictReader(f, delimiter="\t"))

    right = {"text file": 0, "HTML, undeclared": 0, "HTML, HTTP charset": 0}
    print("| sample | expected | text file | HTML undeclared | HTML with HTTP charset |")
    print("|---|---|---|---|---|")
    for case in cases:
        data = (root / case["file"]).read_bytes()
        codec = case["expected_charset"]
        truth = data.decode("utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else codec)
        page = as_page(truth, codec)
        page_truth = page.decode(codec)
        results = {
            "text file": decode_bytes(data).text in (truth, data.decode(codec)),
            "HTML, undeclared": decode_web(page, "text/html").text == page_truth,
            "HTML, HTTP charset": decode_web(page, f"text/html; charset={codec}").text == page_truth,
        }
        for key, ok in results.items():
            right[key] += ok
        marks = " | ".join("ok" if ok else "WRONG" for ok in results.values())
        print(f"| {case['file']} | {codec} | {marks} |")
    n = len(cases)
    print("\n| path | right | share |\n|---|---|---|")
    for key, count in right.items():
        print(f"| {key} | {count}/{n} | {count / n:.3f} |")


if __name__ == "__main__":
    main()
