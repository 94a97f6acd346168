"""Errors that end a command with one clear line and a conventional exit code."""


class PipelineError(Exception):
    exit_code = 1


class UsageError(PipelineError):
    """Bad command line or config: exit 2."""

    exit_code = 2


class ValidationFailed(PipelineError):
    """The data broke the schema or the card disagrees with it: exit 1."""

    exit_code = 1
