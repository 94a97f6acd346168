"""The CI files shipped for users parse and call real pipeline commands."""

from __future__ import annotations

import re
import shlex
import tomllib

import yaml
from helpers import REPO

from pipeline import __version__
from pipeline.cli import main

TAG = f"v{__version__}"
DISTRIBUTION = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["name"]


def test_pre_commit_hook_runs_validate(capsys) -> None:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    (hook,) = hooks
    assert hook["id"] == "pipeline-validate" and hook["pass_filenames"] is False
    program, *command = shlex.split(hook["entry"])
    assert program == "pipeline" and command == ["validate"]
    try:
        main([*command, "--help"])
    except SystemExit as exc:
        assert exc.code == 0
    assert "--junit-xml" in capsys.readouterr().out


def test_github_workflow_installs_and_validates_with_junit() -> None:
    workflow = yaml.safe_load((REPO / "examples" / "ci" / "github-actions.yml").read_text(encoding="utf-8"))
    steps = workflow["jobs"]["validate"]["steps"]
    commands = [step.get("run", "") for step in steps]
    assert any("pip install" in c for c in commands)
    validate = next(c for c in commands if "pipeline validate" in c)
    assert "--junit-xml validate-dataset.xml" in validate
    assert any(step.get("with", {}).get("report_paths") == "validate-dataset.xml" for step in steps)


def test_github_workflow_works_as_written() -> None:
    text = (REPO / "examples" / "ci" / "github-actions.yml").read_text(encoding="utf-8")
    workflow = yaml.safe_load(text)
    steps = workflow["jobs"]["validate"]["steps"]
    # setup-python's pip cache fails in a repository without a requirements file.
    assert all("cache" not in step.get("with", {}) for step in steps)
    package = workflow["env"]["PIPELINE_PACKAGE"]
    assert package.startswith(f"{DISTRIBUTION} @ git+") and package.endswith(f"@{TAG}")
    assert workflow["env"]["DATASET_DIR"] == "dist/my-dataset"


def test_every_example_names_the_current_release_tag() -> None:
    """The pre-commit `rev` and the install URLs in the docs name the tag of this version, and no other."""
    files = [REPO / ".pre-commit-hooks.yaml", REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
    for path in files:
        text = path.read_text(encoding="utf-8")
        for rev in re.findall(r"\brev: (\S+)", text) + re.findall(r"@(v\d+\.\d+\.\d+)\b", text):
            assert rev == TAG, f"{path.relative_to(REPO)} names {rev}, expected {TAG}"
    assert f"rev: {TAG}" in (REPO / "README.md").read_text(encoding="utf-8")
