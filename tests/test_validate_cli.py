"""`validate --junit-xml`, and the checks of the card's images."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from helpers import REPO

from pipeline.cli import main
from pipeline.validate import CHECKS


@pytest.fixture
def published(run_pipeline) -> Path:
    return run_pipeline(REPO / "raw").dataset


def _cases(xml_file: Path) -> dict[str, ET.Element]:
    root = ET.parse(xml_file).getroot()
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    return {case.get("name"): case for case in suite.findall("testcase")}


def test_junit_xml_has_one_passing_case_per_check(published: Path, tmp_path: Path) -> None:
    xml_file = tmp_path / "validate.xml"
    assert main(["validate", str(published), "--junit-xml", str(xml_file)]) == 0
    cases = _cases(xml_file)
    assert list(cases) == CHECKS
    assert {"croissant", "card_images"} <= set(cases)
    assert all(case.find("failure") is None for case in cases.values())
    assert ET.parse(xml_file).getroot().get("failures") == "0"


def test_junit_xml_lists_each_failure_with_its_problems(published: Path, tmp_path: Path) -> None:
    card = published / "README.md"
    text = card.read_text(encoding="utf-8").replace("num_examples: 5", "num_examples: 6")
    card.write_text(text.replace("](images/languages.png)", "](images/missing.png)"), encoding="utf-8")
    xml_file = tmp_path / "validate.xml"
    assert main(["validate", str(published), "--junit-xml", str(xml_file)]) == 1
    cases = _cases(xml_file)
    failed = {name: case.find("failure") for name, case in cases.items() if case.find("failure") is not None}
    assert set(failed) == {"num_examples", "card_images"}
    assert failed["num_examples"].get("message") == (
        "1 problem(s): split 'train': the card says 6 rows, the files hold 5"
    )
    assert "image 'images/missing.png' linked from the card does not exist" in failed["card_images"].text
    assert ET.parse(xml_file).getroot().get("failures") == "2"


def test_card_images_must_exist_inside_the_folder(published: Path, tmp_path: Path, capsys) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(published, copy)
    (copy / "images" / "length_histogram.png").unlink()
    card = copy / "README.md"
    card.write_text(card.read_text(encoding="utf-8") + '\n<img src="../secret.png">\n', encoding="utf-8")
    assert main(["validate", str(copy)]) == 1
    out = capsys.readouterr().out
    assert "card_images: 2 problem(s)" in out
    assert "image 'images/length_histogram.png' linked from the card does not exist" in out
    assert "image '../secret.png' points outside the dataset folder" in out


def test_unwritable_junit_path_is_a_usage_error(published: Path, tmp_path: Path, capsys) -> None:
    assert main(["validate", str(published), "--junit-xml", str(tmp_path / "no" / "such" / "dir.xml")]) == 2
    assert "--junit-xml" in capsys.readouterr().err
