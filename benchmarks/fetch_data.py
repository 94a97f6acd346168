"""Download the public benchmark data into one folder (needs network; the tests never use it).

    python benchmarks/fetch_data.py evaldata            # then: export PIPELINE_EVALDATA=$PWD/evaldata
    python benchmarks/fetch_data.py --list              # what would be downloaded, from where

Every file comes from a public GitHub repository at a fixed commit (the table in
docs/benchmarks/data.md), so everyone gets the same bytes. Files already present are kept, so an
interrupted download resumes. Folder patterns (`*.txt`) are expanded with GitHub's tree listing of
that commit; set GITHUB_TOKEN if the anonymous rate limit (60 listings an hour) is in the way.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

# The 54 pages of trafilatura's evaluation set that the benchmark uses (of the 990 evaldata.json lists).
TRAFILATURA_PAGES = [
    "0a3108e507c54157a95fe7a1338f5e9c.html",
    "0a962f6bcd5649f7a7e6effa338df80d.html",
    "24horas.cl-segundo.html",
    "Eurostat_ Polska z najniższym bezrobociem w całej UE.html",
    "Rosyjskie zamachy w Czechach – kontekst krajowy, implikacje, perspektywy.html",
    "aoc.media.archaisme.html",
    "archive.org.nesselsetzer.wordpress.com.antipoden.html",
    "assabah.com.tn.article.html",
    "autosprint.ch-pistenstopp.html",
    "bahamaslocal.com-atlantis.html",
    "biathlon-antholz.it-jubeln.html",
    "blog.mondediplo.net.turpitude.html",
    "bondyblog.fr.paris-8.html",
    "cooperativa.cl-presidente.html",
    "cybercook.com.br.sequilho.html",
    "d44c5ef50718437984dca47627dee96b.html",
    "deleuze.enacademic.com.micropolitics.html",
    "die-partei.net.luebeck.html",
    "eldeber.com.bo-autos.html",
    "fairkom.eu.about.html",
    "francais.radio.cz-ministre.html",
    "github.blog.spiceland.html",
    "harddecor.at.denkmaler.html",
    "interscenar.io.hoeren.html",
    "jungle.world-Imperialismus-Phantom.html",
    "kinzig.news-Nachhaltigkeit.html",
    "kirche-und-leben.de-Münster.html",
    "larepublica.net-hackers.html",
    "lemire.me.json.html",
    "losandes.com-mendoza.html",
    "maenner.media-church.html",
    "mdavis.xyz.supermarket.html",
    "minusl.de.joghurt.html",
    "nalas-loewenseiten.info.m.html",
    "nationalgeographic.co.uk.goats.html",
    "neos.eu.wir.html",
    "netbits.us.stunnel_rsync.html",
    "nhk.or.jp.k100.html",
    "nwx.new-work.se.digitaler-stress.html",
    "paginasiete.bo-carabineros.html",
    "papaganda.org.minions.html",
    "parcoabruzzo.it.58354.html",
    "propellets.at.energie.html",
    "slf.ch-lawinensituation.html",
    "soundofscience.fr.1927.html",
    "sportnews.bz-peking.html",
    "stackoverflow.com.rust.html",
    "strangemachines.io.performant.html",
    "telemedicus.info.rezension.html",
    "thelocal.se.tattooed.html",
    "threatpost.com.android.html",
    "tine.no.fotballskole.html",
    "uepo.de.glossar.html",
    "world.kbs.co.kr-Temperatures.html",
]


@dataclass(frozen=True)
class Source:
    folder: str
    repo: str
    commit: str
    # Repository paths or fnmatch patterns; each file lands in `folder` under the part after `strip`.
    paths: tuple[str, ...]
    strip: str = ""


SOURCES = [
    Source(
        "lingua-sentences",
        "pemistahl/lingua-py",
        "754ce21122c083a7200763015fdaf7cda8d85453",
        ("language-testdata/sentences/*.txt", "LICENSE.txt"),
        "language-testdata/sentences/",
    ),
    Source(
        "article-extraction-benchmark",
        "scrapinghub/article-extraction-benchmark",
        "4a3bc979f76c0df73cb95fe272e2fc1b96f9f010",
        ("html/*.html.gz", "ground-truth.json", "output/trafilatura.json", "output/html-text.json", "LICENSE"),
    ),
    Source(
        "trafilatura-eval-subset",
        "adbar/trafilatura",
        "e90b0ef51ab026fdb905fb6c5b3c84dd3d784fd5",
        ("tests/evaldata.json", "LICENSE", *(f"tests/eval/{name}" for name in TRAFILATURA_PAGES)),
        "tests/",
    ),
    Source(
        "commoncrawl-2008-arc",
        "chatnoir-eu/chatnoir-copycat",
        "505fa7fab0cd53994177aff1f6284ba6a282734a",
        ("copycat-spark/src/test/resources/data/cc-arc-sample/small-sample-1213893279526_0.arc", "LICENSE"),
        "copycat-spark/src/test/resources/data/cc-arc-sample/",
    ),
    Source(
        "resiliparse-cc-warc",
        "chatnoir-eu/chatnoir-resiliparse",
        "70459f0399718955d7dff1dec30781e07af1bbb7",
        ("tests/data/warcfile.warc.gz", "LICENSE"),
        "tests/data/",
    ),
    Source(
        "cc-whirlwind",
        "commoncrawl/whirlwind-python",
        "08dcfbe4d579a7b1ee27e7ce39a019de6292c1c7",
        ("whirlwind.warc.gz", "whirlwind.warc.wet.gz", "whirlwind.warc.wat.gz", "LICENSE"),
    ),
    Source(
        "dclm-quality-labels",
        "mlfoundations/dclm",
        "361714bdd60bb9b7f4b2d8354cebbf0dec0c329e",
        ("data/majority_data.jsonl", "LICENSE"),
        "data/",
    ),
    Source(
        "clough-stevenson-plagiarism",
        "udacity/ML_SageMaker_Studies",
        "247648cb5793b57fa1677af6f3fadbb789b647f7",
        ("Project_Plagiarism_Detection/data/*.txt", "Project_Plagiarism_Detection/data/file_information.csv"),
        "Project_Plagiarism_Detection/data/",
    ),
    Source(
        "charset-normalizer-samples",
        "jawah/charset_normalizer",
        "017c75c267b6d0bb04d9db0c1115ea7184b97059",
        ("data/*", "LICENSE"),
        "data/",
    ),
    Source(
        "ftfy-test-cases",
        "rspeer/python-ftfy",
        "74dd0452b48286a3770013b3a02755313bd5575e",
        ("tests/test-cases/*.json", "LICENSE.txt"),
        "tests/test-cases/",
    ),
]

# charset.py scores against the expectations of charset-normalizer's own test, written out as a table.
CHARSET_TEST = "tests/test_full_detection.py"
_EXPECTATION = re.compile(r"""\(\s*["']([^"']+)["']\s*,\s*["']([^"']+)["']\s*,\s*["']([^"']+)["']\s*\)""")


def _get(url: str) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": "pipeline-benchmarks"})
    token = os.environ.get("GITHUB_TOKEN")
    if token and url.startswith("https://api.github.com/"):
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.read()


def _raw_url(source: Source, path: str) -> str:
    return f"https://raw.githubusercontent.com/{source.repo}/{source.commit}/{urllib.parse.quote(path)}"


def _tree(source: Source) -> list[str]:
    url = f"https://api.github.com/repos/{source.repo}/git/trees/{source.commit}?recursive=1"
    return [entry["path"] for entry in json.loads(_get(url))["tree"] if entry["type"] == "blob"]


def _files(source: Source) -> list[str]:
    """The repository paths of a source, patterns expanded against the commit's tree."""
    if not any("*" in path for path in source.paths):
        return list(source.paths)
    tree = _tree(source)
    found: list[str] = []
    for pattern in source.paths:
        if "*" not in pattern:
            found.append(pattern)
            continue
        folder = pattern.rsplit("/", 1)[0] + "/"
        # fnmatch's * crosses "/", so keep only files directly in the pattern's folder.
        matches = [p for p in tree if fnmatch.fnmatchcase(p, pattern) and "/" not in p.removeprefix(folder)]
        if not matches:
            raise SystemExit(f"fetch_data: {source.repo}@{source.commit[:12]}: nothing matches {pattern}")
        found += sorted(matches)
    return found


def _target(root: Path, source: Source, path: str) -> Path:
    relative = path.removeprefix(source.strip) if path.startswith(source.strip) else Path(path).name
    if source.folder == "trafilatura-eval-subset" and path.startswith("tests/eval/"):
        relative = "html/" + Path(path).name
    return root / source.folder / relative


def _fetch_page(source: Source, path: str) -> bytes:
    """trafilatura keeps its evaluation pages in tests/eval/ or tests/cache/: try both."""
    try:
        return _get(_raw_url(source, path))
    except urllib.error.HTTPError as exc:
        if exc.code != 404 or not path.startswith("tests/eval/"):
            raise
        return _get(_raw_url(source, "tests/cache/" + path.removeprefix("tests/eval/")))


def fetch(root: Path) -> None:
    for source in SOURCES:
        files = _files(source)
        print(f"{source.folder}: {len(files)} files from {source.repo}@{source.commit[:12]}", flush=True)
        for path in files:
            target = _target(root, source, path)
            if target.is_file():
                continue
            try:
                data = _fetch_page(source, path)
            except urllib.error.HTTPError as exc:
                if exc.code == 404 and Path(path).name.startswith("LICENSE"):
                    continue  # the licence file has another name in that repository; the table names it
                raise SystemExit(f"fetch_data: {_raw_url(source, path)}: HTTP {exc.code}") from exc
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(target.name + ".part")
            partial.write_bytes(data)
            partial.replace(target)
        if source.folder == "charset-normalizer-samples":
            test = _get(_raw_url(source, CHARSET_TEST)).decode("utf-8")
            rows = [m.groups() for m in _EXPECTATION.finditer(test) if m.group(1).startswith("sample-")]
            table = "file\texpected_charset\texpected_language\n" + "".join("\t".join(r) + "\n" for r in rows)
            (root / source.folder / "expected_from_test_full_detection.tsv").write_text(table, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, nargs="?", default=Path("evaldata"), help="where to put the data")
    parser.add_argument("--list", action="store_true", help="print the sources and paths; download nothing")
    args = parser.parse_args()
    if args.list:
        for source in SOURCES:
            for path in source.paths:
                print(f"{source.folder}\t{source.repo}@{source.commit}\t{path}")
        return 0
    try:
        fetch(args.folder)
    except urllib.error.URLError as exc:
        print(
            f"fetch_data: cannot download ({exc.reason}); check the network, or place the files by hand "
            "as docs/benchmarks/data.md describes",
            file=sys.stderr,
        )
        return 1
    print(f"done; export PIPELINE_EVALDATA={args.folder.resolve()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
