"""The CI files shipped for users parse and call real pipeline commands."""

from __future__ import annotations

import shlex

import yaml
from helpers import REPO

from pipeline.cli import main


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
