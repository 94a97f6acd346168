"""Stage plugins: found by entry point or 'module:Class', configured and run like built-in stages.

The end-to-end tests run `python -m pipeline` (and a plain script) in a subprocess, with worker
processes, so the plugin must be found again in every worker.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from importlib import metadata
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers import REPO, english_corpus, read_dataset, write

import pipeline
from pipeline.config import load_config
from pipeline.errors import UsageError
from pipeline.testing import make_batch, run_stage

# A plugin module that is not installed: found only through PYTHONPATH as "loud_local:Loud".
LOCAL_PLUGIN = """
import pyarrow as pa
from pipeline import MapStage, StageConfig, StageResult, described, rejections, split


class LoudConfig(StageConfig):
    max_exclamations: int = 2


class Loud(MapStage):
    name = "loud"
    config_class = LoudConfig

    def output_fields(self):
        return [described("exclamations", pa.int64(), "Exclamation marks in the text.")]

    def process(self, batch):
        counts = [t.count("!") for t in batch.column("text").to_pylist()]
        mask = [c > self.config.max_exclamations for c in counts]
        kept = split(batch, mask).append_column(
            self.output_fields()[0], pa.array([c for c, m in zip(counts, mask) if not m], pa.int64())
        )
        return StageResult(kept, rejections(batch, mask, self.name, "too_loud", "many exclamation marks"))
"""

LOUD_TEXT = "What a day it was for the whole town! Nobody expected the parade! It was loud! Very loud indeed!"
SHOUTING_TEXT = "THE COMMITTEE ANNOUNCED THE NEW LIBRARY TO EVERYONE IN THE ROOM DURING THE LONG MEETING."


def _corpus(folder: Path) -> Path:
    english_corpus(folder, 24)
    extra = [
        {"id": "loud-1", "text": LOUD_TEXT},
        {"id": "shout-1", "text": SHOUTING_TEXT},
        {"id": "placeholder-1", "text": "Lorem ipsum dolor sit amet, this page is a placeholder for the report."},
    ]
    write(folder / "extra.jsonl", "\n".join(json.dumps(r) for r in extra) + "\n")
    return folder


def _env(*paths: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), *(str(p) for p in paths), env.get("PYTHONPATH", "")])
    return env


def _local_plugin(folder: Path) -> Path:
    write(folder / "loud_local.py", LOCAL_PLUGIN)
    return folder


def _ledger(report: Path) -> list[dict]:
    return pq.read_table(report / "rejected.parquet").to_pylist()


# -- config ---------------------------------------------------------------------------------------


def test_a_plugin_section_is_checked_by_the_plugins_own_config_class(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.syspath_prepend(str(_local_plugin(tmp_path / "mods")))
    stages = 'run.stages=["normalize", "loud_local:Loud"]'
    config = load_config(None, [stages, "loud.max_exclamations=5"])
    assert config.loud.max_exclamations == 5
    assert config.as_dict()["loud"] == {"max_exclamations": 5}
    with pytest.raises(UsageError, match=r"unknown key 'loud.max_bangs'; valid keys in \[loud\]: max_exclamations"):
        load_config(None, [stages, "loud.max_bangs=5"])
    with pytest.raises(UsageError, match=r"loud.max_exclamations: input should be a valid integer, got 'many'"):
        load_config(None, [stages, "loud.max_exclamations=many"])
    # Its section is only known while run.stages names it.
    with pytest.raises(UsageError, match=r"unknown section \[loud\]"):
        load_config(None, ["loud.max_exclamations=5"])


def test_unknown_and_broken_stage_references_are_one_line_errors(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.syspath_prepend(str(_local_plugin(tmp_path / "mods")))
    with pytest.raises(UsageError, match=r"unknown stage 'lound'; valid stages: normalize, .*'package.module:Class"):
        load_config(None, ['run.stages=["lound"]'])
    with pytest.raises(UsageError, match=r"cannot import module 'no_such_module'"):
        load_config(None, ['run.stages=["no_such_module:Stage"]'])
    with pytest.raises(UsageError, match=r"module 'loud_local' has no attribute 'Quiet'"):
        load_config(None, ['run.stages=["loud_local:Quiet"]'])
    with pytest.raises(UsageError, match=r"is not a stage: expected a subclass of pipeline.MapStage"):
        load_config(None, ['run.stages=["loud_local:LoudConfig"]'])
    with pytest.raises(UsageError, match=r"lists the stage 'loud' twice"):
        load_config(None, ['run.stages=["loud_local:Loud", "loud_local:Loud"]'])


def test_config_loads_overrides_and_dumps_to_toml_that_reads_back(tmp_path: Path) -> None:
    config = pipeline.Config.load(REPO / "pipeline.toml").override(
        'language.languages=["en", "de"]', publish={"license": "cc-by-4.0"}
    )
    assert config.language.languages == ["en", "de"] and config.publish.license == "cc-by-4.0"
    dumped = config.dump(tmp_path / "copy.toml")
    again = pipeline.Config.load(dumped)
    assert again.as_dict() == config.as_dict()
    assert again.digest() == config.digest()


# -- helpers for writing stages -------------------------------------------------------------------


def test_filter_stage_uses_the_returned_string_as_reason_or_detail() -> None:
    @pipeline.filter_stage(name="short")
    def short(text: str) -> str | None:
        return "too_short" if len(text) < 10 else None

    @pipeline.filter_stage(name="tiny", reason="tiny")
    def tiny(text: str) -> str | None:
        return f"{len(text)} characters" if len(text) < 5 else None

    batch = make_batch(["abc", "a longer document", "abcdefg"])
    rejected = run_stage(short(short.config_class()), batch).rejected
    assert rejected.select(["stage", "reason", "detail"]).to_pylist() == [
        {"stage": "short", "reason": "too_short", "detail": ""},
        {"stage": "short", "reason": "too_short", "detail": ""},
    ]
    rejected = run_stage(tiny(tiny.config_class()), batch).rejected
    assert rejected.select(["reason", "detail"]).to_pylist() == [{"reason": "tiny", "detail": "3 characters"}]


def test_map_stage_adds_declared_columns_and_keeps_ids() -> None:
    class Options(pipeline.StageConfig):
        unit: int = 1

    field = pipeline.described("length", pa.int64(), "Length of the text in units.")

    @pipeline.map_stage(name="length", config=Options, fields=[field])
    def length(record: dict, config: Options) -> dict:
        return {**record, "length": len(record["text"]) // config.unit}

    outcome = run_stage(length(Options(unit=2)), make_batch(["abcd", "abcdef"]))
    assert outcome.kept.column("length").to_pylist() == [2, 3]
    assert length(Options()).output_fields() == [field]

    @pipeline.map_stage(name="bad")
    def bad(record: dict) -> dict:
        return {**record, "id": "changed"}

    with pytest.raises(ValueError, match="changed id, source or file"):
        run_stage(bad(pipeline.NoOptions()), make_batch(["x"]))


def test_run_stage_catches_a_stage_that_depends_on_batch_boundaries() -> None:
    class FirstOfBatch(pipeline.MapStage):
        name = "first_of_batch"
        config_class = pipeline.NoOptions

        def process(self, batch: pa.RecordBatch) -> pipeline.StageResult:
            mask = [i == 0 for i in range(batch.num_rows)]
            return pipeline.StageResult(
                pipeline.split(batch, mask), pipeline.rejections(batch, mask, self.name, "first", "")
            )

    with pytest.raises(AssertionError, match="differ between batch size 1 and 3"):
        run_stage(FirstOfBatch(pipeline.NoOptions()), make_batch(["a", "b", "c", "d"]))


# -- end to end -----------------------------------------------------------------------------------


def test_module_class_plugin_runs_in_workers_without_an_entry_point(tmp_path: Path) -> None:
    inputs = _corpus(tmp_path / "raw")
    mods = _local_plugin(tmp_path / "mods")
    config = write(
        tmp_path / "pipeline.toml",
        textwrap.dedent(
            f"""
            [run]
            input = "{inputs}"
            output = "{tmp_path / "out"}"
            name = "ds"
            stages = ["normalize", "loud_local:Loud", "dedup_exact", "language"]
            workers = 2
            batch_size = 4

            [loud]
            max_exclamations = 3
            """
        ),
    )
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "--config", str(config), "--quiet"],
        env=_env(mods),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    ledger = _ledger(tmp_path / "out" / "ds.report")
    assert [(r["id"], r["stage"], r["reason"]) for r in ledger if r["stage"] == "loud"] == [
        ("loud-1", "loud", "too_loud")
    ]
    data = read_dataset(tmp_path / "out" / "ds")
    assert data.schema.field("exclamations").type == pa.int64()
    run = json.loads((tmp_path / "out" / "ds.report" / "run.json").read_text())
    assert run["config"]["run"]["stages"][1] == "loud_local:Loud"
    assert run["config"]["loud"] == {"max_exclamations": 3}
    assert run["plugins"]["loud"]["class"] == "loud_local:Loud"
    assert {"name": "loud", "rejected": {"too_loud": 1}}.items() <= next(
        s for s in run["stages"] if s["name"] == "loud"
    ).items()
    card = (tmp_path / "out" / "ds" / "README.md").read_text()
    assert "| `loud` |" in card and "`exclamations`" in card


def test_a_plugin_that_raises_in_a_worker_is_named_in_one_line(tmp_path: Path) -> None:
    inputs = _corpus(tmp_path / "raw")
    write(
        tmp_path / "mods" / "buggy_local.py",
        textwrap.dedent(
            """
            from pipeline import map_stage

            @map_stage
            def buggy(record):
                raise KeyError("no such field: body")
            """
        ),
    )
    config = write(
        tmp_path / "pipeline.toml",
        f'[run]\ninput = "{inputs}"\noutput = "{tmp_path / "out"}"\nstages = ["buggy_local:buggy"]\nworkers = 2\n',
    )
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "--config", str(config), "--quiet"],
        env=_env(tmp_path / "mods"),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 70
    assert "Traceback" not in done.stderr
    assert (
        "pipeline: error: stage buggy (plugin buggy_local:buggy) raised KeyError in process: 'no such field: body' "
        "(a bug in the plugin: report it to its authors; rerun with --debug for the traceback)"
    ) in done.stderr


def _installed_example() -> bool:
    return any(p.name == "no_shouting" for p in metadata.entry_points(group="pipeline.stages"))


@pytest.mark.skipif(
    not _installed_example(), reason="the example plugin is not installed: pip install ./examples/plugin"
)
def test_entry_point_plugin_end_to_end(tmp_path: Path) -> None:
    inputs = _corpus(tmp_path / "raw")
    out = tmp_path / "out"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline",
            "--input",
            str(inputs),
            "--output",
            str(out),
            "--name",
            "ds",
            "--workers",
            "2",
            "--set",
            'run.stages=["normalize", "no_shouting", "no_placeholder", "language"]',
            "--set",
            "no_shouting.max_upper_ratio=0.6",
            "--quiet",
        ],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    reasons = {(r["id"], r["stage"], r["reason"]) for r in _ledger(out / "ds.report")}
    assert ("shout-1", "no_shouting", "shouting") in reasons
    assert ("placeholder-1", "no_placeholder", "placeholder") in reasons
    from datasets import load_dataset

    loaded = load_dataset(str(out / "ds"), split="train")
    assert loaded.features["upper_ratio"].dtype == "float64"
    assert all(0.0 <= r <= 0.6 for r in loaded["upper_ratio"])
    run = json.loads((out / "ds.report" / "run.json").read_text())
    assert run["plugins"]["no_shouting"]["distribution"] == "pipeline-example-plugin"
    assert run["plugins"]["no_shouting"]["version"] == metadata.version("pipeline-example-plugin")
    assert pipeline.validate(out / "ds").ok


def test_a_script_without_main_guard_runs_once_with_workers(tmp_path: Path) -> None:
    inputs = _corpus(tmp_path / "raw")
    script = write(
        tmp_path / "make_dataset.py",
        textwrap.dedent(
            f"""
            import json
            import pipeline

            # Appends one line each time this file runs: workers must not run it again.
            with open({str(tmp_path / "runs.log")!r}, "a") as log:
                log.write("ran\\n")

            @pipeline.filter_stage(name="no_loud", reason="loud")
            def no_loud(text):
                return "exclamations" if text.count("!") > 3 else None

            result = pipeline.run(
                input={str(inputs)!r},
                output={str(tmp_path / "out")!r},
                name="ds",
                stages=["normalize", no_loud, "language"],
                overrides={{"run": {{"batch_size": 4}}}},
                workers=2,
            )
            print(json.dumps({{"published": result.records_published, "rejected": result.records_rejected,
                              "stages": [t.name for t in result.tallies]}}))
            """
        ),
    )
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "runs.log").read_text() == "ran\n"
    printed = json.loads(done.stdout.strip().splitlines()[-1])
    assert printed["published"] + printed["rejected"] == 27
    assert "no_loud" in printed["stages"]
    ledger = _ledger(tmp_path / "out" / "ds.report")
    assert [(r["id"], r["reason"]) for r in ledger if r["stage"] == "no_loud"] == [("loud-1", "loud")]


def test_changing_a_plugins_config_redoes_its_step_and_reuses_ingest(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.syspath_prepend(str(_local_plugin(tmp_path / "mods")))
    inputs = _corpus(tmp_path / "raw")
    kwargs = {"input": inputs, "output": tmp_path / "out", "name": "ds", "workers": 1}
    stages = ["normalize", "loud_local:Loud", "language"]
    first = pipeline.run(stages=stages, **kwargs)
    assert first.records_rejected >= 1
    second = pipeline.run(stages=stages, overrides=["loud.max_exclamations=10"], **kwargs)
    steps = json.loads((second.report / "run.json").read_text())["execution"]["steps"]
    reused = {s["step"]: s["reused"] for s in steps}
    assert reused["ingest"] is True
    assert [reused for step, reused in reused.items() if "loud" in step.split("+")] == [False]
    assert not [r for r in _ledger(second.report) if r["stage"] == "loud"]


def test_import_pipeline_is_cheap_and_exports_match() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, pipeline; print(sorted(m for m in ('pyarrow', 'pydantic') if m in sys.modules))",
        ],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.stdout.strip() == "[]", done.stderr
    assert sorted(pipeline.__all__) == sorted(["__version__", *pipeline._EXPORTS])
    for name in pipeline.__all__:
        assert getattr(pipeline, name) is not None


def test_stage_classes_defined_in_a_notebook_like_session_reach_the_workers(tmp_path: Path) -> None:
    # Code piped to `python -` has no file, like a notebook: the class and its config travel by value.
    inputs = _corpus(tmp_path / "raw")
    code = textwrap.dedent(
        f"""
        import pipeline

        class Options(pipeline.StageConfig):
            marker: str = "nothing"

        class Marked(pipeline.MapStage):
            name = "marked"
            config_class = Options

            def process(self, batch):
                mask = [self.config.marker in t.lower() for t in batch.column("text").to_pylist()]
                return pipeline.StageResult(
                    pipeline.split(batch, mask), pipeline.rejections(batch, mask, self.name, "marked", "")
                )

        result = pipeline.run(input={str(inputs)!r}, output={str(tmp_path / "out")!r}, name="ds", workers=2,
                              stages=["normalize", Marked, "language"], overrides={{"marked": {{"marker": "lorem"}}}})
        print(result.records_rejected)
        """
    )
    done = subprocess.run(
        [sys.executable, "-"], input=code, cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    ledger = _ledger(tmp_path / "out" / "ds.report")
    assert [(r["id"], r["reason"]) for r in ledger if r["stage"] == "marked"] == [("placeholder-1", "marked")]


def test_editing_a_plugins_source_changes_its_step_key_only(tmp_path: Path, monkeypatch) -> None:
    from pipeline.execution.plan import build_plan, build_steps

    # A module name of its own: other tests imported loud_local from their own folders already.
    mods = tmp_path / "mods"
    write(mods / "loud_edited.py", LOCAL_PLUGIN)
    monkeypatch.syspath_prepend(str(mods))
    config = load_config(None, ['run.stages=["normalize", "dedup_exact", "loud_edited:Loud"]'])
    inputs = [("a.jsonl", "0" * 64, 10)]
    before = build_steps(config, build_plan(config), inputs)
    write(mods / "loud_edited.py", LOCAL_PLUGIN + "\n# edited\n")
    after = build_steps(config, build_plan(config), inputs)
    changed = [b.name for b, a in zip(before, after, strict=True) if b.key != a.key]
    assert changed[0] == "loud+stats" and "ingest" not in changed and "dedup_exact" not in changed
