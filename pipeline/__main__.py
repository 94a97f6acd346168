import atexit
import os
import sys

from pipeline.execution.malloc import arrow_uses_malloc


def main() -> int:
    """The `pipeline` command (and `python -m pipeline`): the CLI, with Arrow allocating through malloc.

    The setting must come before anything imports pyarrow, `pipeline.cli` included (see malloc.py), so
    the command enters here rather than at `pipeline.cli:main`."""
    arrow_uses_malloc()
    from pipeline.cli import main as cli_main

    return cli_main()


if __name__ == "__main__":
    code = main()
    # Everything registered to run at exit runs now (log handlers, the pool's finalizers, file locks);
    # then the process ends without the interpreter tearing down its thousand-odd imported modules one
    # by one, which took half a second after every run. Nothing is left to do in them.
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
