"""Errors that end a command with one clear line and a documented exit code.

The exit codes are a public contract (docs/reliability.md): scripts and CI jobs branch on them.

| code | class | meaning |
|---:|---|---|
| 0 | – | success |
| 1 | `ValidationFailed` | the data broke the schema or the card disagrees with it (`validate`, publish) |
| 2 | `UsageError` | bad command line or config: unknown key, wrong type, missing or bad path argument |
| 3 | `InputError` | the input cannot be used as configured (unreadable root, missing text field, …) |
| 4 | `TooFewPublished` | published nothing, or less than `run.min_published_fraction` of what was read |
| 5 | `EnvironmentFailure` | the machine refused: permission denied, disk full, output path unusable |
| 70 | `InternalError` | a bug (`StageFailed` names the stage and its plugin): rerun with `--debug` |
| 130 | – | interrupted (SIGINT); rerun to resume |
"""


class PipelineError(Exception):
    exit_code = 1


class ValidationFailed(PipelineError):
    """The data broke the schema or the card disagrees with it: exit 1."""

    exit_code = 1


class UsageError(PipelineError):
    """Bad command line or config: exit 2."""

    exit_code = 2


class InputError(PipelineError):
    """The input cannot be used as configured (e.g. no text field, unreadable input root): exit 3."""

    exit_code = 3


class TooFewPublished(PipelineError):
    """The run published nothing, or less than run.min_published_fraction of what it read: exit 4."""

    exit_code = 4


class EnvironmentFailure(PipelineError):
    """Permission denied, disk full, an output path that cannot be used: exit 5."""

    exit_code = 5


class InternalError(PipelineError):
    """An unexpected error, i.e. a bug in pipeline: exit 70 (EX_SOFTWARE), never 1 ("invalid")."""

    exit_code = 70


class StageFailed(InternalError):
    """A stage raised an unexpected exception: exit 70, with a line naming the stage (and its plugin)."""
