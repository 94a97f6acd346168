import atexit
import os
import sys

from pipeline.execution.malloc import arrow_uses_malloc

arrow_uses_malloc()  # before anything imports pyarrow (see malloc.py)

from pipeline.cli import main  # noqa: E402

code = main()
# Everything registered to run at exit runs now (log handlers, the pool's finalizers, file locks);
# then the process ends without the interpreter tearing down its thousand-odd imported modules one
# by one, which took half a second after every run. Nothing is left to do in them.
atexit._run_exitfuncs()
sys.stdout.flush()
sys.stderr.flush()
os._exit(code)
