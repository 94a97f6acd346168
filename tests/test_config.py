"""The typed config: errors name the key and list the valid ones; --set overrides any key."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import REPO, write

from pipeline.cli import main
from pipeline.config import load_config
from pipeline.errors import UsageError


def test_default_config_file_is_valid() -> None:
    config = load_config(REPO / "pipeline.toml")
    assert config.run.stages[0] == "normalize"
    assert config.resolve(config.run.input) == REPO / "raw"


def test_unknown_key_lists_the_valid_keys(tmp_path: Path) -> None:
    path = write(tmp_path / "p.toml", "[language]\nlanguage = ['en']\n")
    with pytest.raises(UsageError) as exc:
        load_config(path)
    assert str(exc.value) == (
        f"{path}: unknown key 'language.language'; did you mean 'language.languages'? valid keys in [language]: "
        "languages, min_language_score, max_chars, seed, backend"
    )


def test_unknown_section_lists_the_valid_sections(tmp_path: Path) -> None:
    expected = r"unknown section \[langauge\]; did you mean \[language\]\? valid sections: run, ingest"
    with pytest.raises(UsageError, match=expected):
        load_config(write(tmp_path / "p.toml", "[langauge]\nx = 1\n"))


def test_wrong_type_names_key_and_value(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"language.min_language_score: input should be a valid number, got 'high'"):
        load_config(write(tmp_path / "p.toml", "[language]\nmin_language_score = 'high'\n"))
    with pytest.raises(UsageError, match=r"run\.batch_size: input should be greater than or equal to 1"):
        load_config(None, ["run.batch_size=0"])


def test_unknown_stage_is_named() -> None:
    with pytest.raises(UsageError, match="unknown stage 'dedupe'; valid stages: normalize, "):
        load_config(None, ['run.stages=["dedupe"]'])


def test_set_takes_toml_values_and_bare_strings() -> None:
    config = load_config(None, ['language.languages=["en","de"]', "language.max_chars=1000", "run.name=mydata"])
    assert config.language.languages == ["en", "de"]
    assert config.language.max_chars == 1000
    assert config.run.name == "mydata"


def test_digest_ignores_paths_and_batch_size_but_not_stage_settings() -> None:
    base = load_config(None)
    assert load_config(None, ["run.batch_size=7", "run.input=elsewhere"]).digest() == base.digest()
    assert load_config(None, ["language.max_chars=100"]).digest() != base.digest()


def test_cli_config_errors_exit_2_with_one_line(tmp_path: Path, capsys) -> None:
    config = REPO / "pipeline.toml"
    assert main(["run", "--config", str(config), "--set", "language.foo=1", "--output", str(tmp_path)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"pipeline: error: {config}: unknown key 'language.foo'; valid keys in [language]: "
        "languages, min_language_score, max_chars, seed, backend"
    ]
    assert main(["run", "--config", str(tmp_path / "nope.toml")]) == 2
    assert "config file" in capsys.readouterr().err


def test_missing_input_is_a_usage_error(tmp_path: Path, capsys) -> None:
    assert main(["run", "--input", str(tmp_path / "nothing"), "--output", str(tmp_path / "out")]) == 2
    assert "does not exist; set run.input or pass --input PATH" in capsys.readouterr().err
