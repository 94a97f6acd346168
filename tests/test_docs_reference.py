"""The generated reference pages agree with the code, and every config key is described next to its field."""

from __future__ import annotations

import re

from helpers import REPO

from pipeline import docs_gen

DOCS = REPO / "docs"


def test_reference_pages_match_the_code() -> None:
    stale = docs_gen.stale(DOCS)
    assert not stale, f"out of date: {[str(p.relative_to(REPO)) for p in stale]}; run python -m pipeline.docs_gen"


def test_every_config_key_has_a_description() -> None:
    for section, model in docs_gen.sections().items():
        for name, field in model.model_fields.items():
            assert field.description, f"[{section}] {name}: add a docstring under the field"


def test_every_section_and_key_is_in_the_config_reference() -> None:
    text = (DOCS / "reference" / "config.md").read_text(encoding="utf-8")
    for section, model in docs_gen.sections().items():
        assert f"## `[{section}]`" in text
        for name in model.model_fields:
            assert f"| `{name}` |" in text, f"[{section}] {name}"


def test_every_command_and_option_is_in_the_cli_reference() -> None:
    from pipeline.cli import COMMANDS, _parser

    text = (DOCS / "reference" / "cli.md").read_text(encoding="utf-8")
    for command in COMMANDS:
        assert f"## `pipeline {command}`" in text
    sub = next(a for a in _parser()._actions if a.dest == "command")
    for command, parser in sub.choices.items():
        for action in parser._actions:
            for option in action.option_strings:
                if option not in ("-h", "--help"):
                    assert f"`{option}`" in text, f"pipeline {command} {option}"


def test_check_mode_reports_a_stale_page(tmp_path) -> None:
    (tmp_path / "reference").mkdir()
    (tmp_path / "reference" / "config.md").write_text("old\n", encoding="utf-8")
    block = "<!-- config-keys: dedup_exact -->\nold\n<!-- /config-keys -->\n"
    (tmp_path / "stage.md").write_text(block, encoding="utf-8")
    assert docs_gen.main(["--docs", str(tmp_path), "--check"]) == 1
    assert docs_gen.main(["--docs", str(tmp_path)]) == 0
    assert docs_gen.main(["--docs", str(tmp_path), "--check"]) == 0
    assert "| `fold_case` | bool | `true` |" in (tmp_path / "stage.md").read_text(encoding="utf-8")


def test_readme_links_resolve() -> None:
    """README.md links into docs/ and examples/ by relative path: each must name a file that exists."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    links = [link for link in re.findall(r"\]\(([^)#\s]+)", text) if "://" not in link]
    assert links
    missing = [link for link in links if not (REPO / link).exists()]
    assert not missing, f"README.md links to missing files: {missing}"


def test_readme_is_short() -> None:
    assert len((REPO / "README.md").read_text(encoding="utf-8").splitlines()) <= 250
