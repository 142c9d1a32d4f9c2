"""dbt commands run inside the Dagster process (dbt's `dbtRunner`) instead of as a `dbt` child
process, for the DuckDB target.

Why: a dbt process pays its Python start-up, the import of dbt (~2.5 s here), the project's
validation and the load of the parse cache before its first node; the nightly run starts two
(the rating models, then the invoice marts), and on a night with little to bill that start-up
was more than half of each build (docs/benchmark.md). In this process dbt is imported once
(dagster-dbt already imports most of it) and the second build starts at once.

How: `InProcessDbt` stands where dagster-dbt keeps its `subprocess.Popen` (the part of it that
`DbtCliInvocation` reads: `args`, `stdout`, `wait()`, `returncode`, `send_signal()`), so every
event reaches Dagster through dagster-dbt's own parsing, as the same JSON log lines the dbt
process would have printed. dbt runs on a thread of its own and its events are queued, so
Dagster records each model as it finishes, as with a process.

What a process gave for free, done here by hand:
- dbt reads its settings (`DBT_*`, `TALLYHOUSE_*`) from the environment: it is set as for the
  child process for the duration of the command, then restored; one command at a time per
  process (a lock). The working directory is not changed (dagster-dbt changes it back while
  dbt runs): dbt's own folders, given relative to the project, are made absolute, and the
  profile's paths resolve from this process's directory, as the Python steps' do (the dbt
  resource passes the warehouse as an absolute path, defs/resources.py);
- a process's exit closed the DuckDB file: dbt-duckdb keeps its database open for the next
  command, so it is closed after each one (the next Python step opens the file itself, and
  DuckDB refuses a second open of one file with another configuration in one process);
- the exit status: 0 when dbt succeeded, 1 when a node failed, 2 when dbt itself failed
  (`dbt.utils.ExitCodes`);
- the console: dbt's own stdout logger is off (`DBT_LOG_LEVEL=none`), as dagster-dbt prints
  each event it reads, as it did for the process's output; the debug events, which the
  process's stdout never carried, are left to dbt's file log (`dbt.log`).

The Spark target keeps the dbt process: its Spark session (a JVM and a single-process Derby
metastore) belongs in a process that ends with the command.
"""

from __future__ import annotations

import json
import queue
import subprocess
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import dagster_dbt.core.resource as dagster_dbt_resource
from dagster_dbt import DbtCliInvocation

from dagster_project.lib.environment import environment

# One dbt command at a time in this process: dbt's flags, adapters and event loggers are
# process-wide, as is the environment set for it.
_DBT_LOCK = threading.Lock()
_DONE = None  # the end of a command's output
_SWAP_LOCK = threading.Lock()

# dbt's exit statuses (dbt.utils.ExitCodes), as its CLI returns them.
EXIT_SUCCESS, EXIT_NODE_FAILED, EXIT_DBT_FAILED = 0, 1, 2
_LEVELS = ("debug", "info", "warn", "error", "none")  # dbt's --log-level, lowest first


class _OutputLines:
    """The command's output as a pipe would give it: JSON log lines as bytes, ending when dbt
    is done."""

    def __init__(self, lines: queue.SimpleQueue) -> None:
        self._lines = lines
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        while not self.closed:
            line = self._lines.get()
            if line is _DONE:
                self.closed = True
                return
            yield line

    def __enter__(self) -> _OutputLines:
        return self

    def __exit__(self, *exc) -> None:
        self.closed = True


class InProcessDbt:
    """A dbt command running in this process, seen as the `subprocess.Popen` dagster-dbt reads.

    `args` is the command line dagster-dbt built (the `dbt` executable first), `env` the
    environment and `cwd` the working directory it would have given the process.
    """

    def __init__(self, args: Sequence[str], *, env: Mapping[str, str], cwd: Path | str) -> None:
        self.args = list(args)
        self.returncode: int | None = None
        # The events the process would have printed: its console's level and above.
        # (An unknown level leaves dbt to refuse it with its own message.)
        level = env.get("DBT_LOG_LEVEL", "info").lower()
        self._levels = _LEVELS[_LEVELS.index(level if level in _LEVELS else "info") :]
        self._lines: queue.SimpleQueue = queue.SimpleQueue()
        self.stdout = _OutputLines(self._lines)
        self._thread = threading.Thread(
            target=self._run, args=(dict(env), Path(cwd)), name="dbt", daemon=True
        )
        self._thread.start()

    def _run(self, env: dict[str, str], cwd: Path) -> None:
        returncode = EXIT_DBT_FAILED
        try:
            with _DBT_LOCK, environment(_as_for_the_process(env, cwd)):
                try:
                    from dbt.cli.main import dbtRunner

                    result = dbtRunner(callbacks=[self._on_event]).invoke(self.args[1:])
                finally:
                    close_dbt_duckdb()
            if result.success:
                returncode = EXIT_SUCCESS
            elif result.exception is None:
                returncode = EXIT_NODE_FAILED
            else:
                # dbt logs most of its own failures as an error event; a usage error it does
                # not, and the process would have printed it.
                self._lines.put(f"dbt: {result.exception}".encode())
        except BaseException as error:  # noqa: BLE001 - reported as the process's failure
            self._lines.put(f"dbt: {type(error).__name__}: {error}".encode())
        finally:
            self.returncode = returncode
            self._lines.put(_DONE)

    def _on_event(self, msg) -> None:
        if self.returncode is not None or msg.info.level not in self._levels:
            return
        from dbt_common.events.functions import msg_to_dict
        from dbt_common.utils.encoding import ForgivingJSONEncoder

        line = json.dumps(msg_to_dict(msg), sort_keys=True, cls=ForgivingJSONEncoder)
        self._lines.put(line.encode())

    def wait(self, timeout: float | None = None) -> int:
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise subprocess.TimeoutExpired(self.args, timeout)
        return self.returncode

    def poll(self) -> int | None:
        return None if self._thread.is_alive() else self.returncode

    def send_signal(self, signal: int) -> None:  # noqa: ARG002 - Popen's signature
        """An interrupted step (Ctrl-C, a terminated run) stops reading dbt and fails; dbt's
        thread cannot be stopped from outside and ends with the run's process (DuckDB rolls
        back the transaction it leaves open)."""


def close_dbt_duckdb() -> None:
    """Close the database dbt-duckdb keeps open between commands in one process."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        env = DuckDBConnectionManager._ENV
        DuckDBConnectionManager._ENV = None
        if env is not None:
            env.close()


# dbt's folders, which the process would have resolved from its working directory.
_DBT_PATHS = ("DBT_TARGET_PATH", "DBT_LOG_PATH", "DBT_PROJECT_DIR", "DBT_PROFILES_DIR")


def _as_for_the_process(env: Mapping[str, str], cwd: Path) -> dict[str, str]:
    """The command's environment: dbt's folders absolute, dbt's console logger off and its
    file log as the process would have kept it (the file level follows --log-level)."""
    file_level = env.get("DBT_LOG_LEVEL_FILE") or env.get("DBT_LOG_LEVEL") or "debug"
    paths = {name: str(cwd / env[name]) for name in _DBT_PATHS if env.get(name)}
    return {**env, **paths, "DBT_LOG_LEVEL": "none", "DBT_LOG_LEVEL_FILE": file_level}


class InProcessDbtCliInvocation(DbtCliInvocation):
    """dagster-dbt's invocation of a dbt command, the command running in this process."""

    @classmethod
    def run(cls, args, env, project_dir, dbt_project=None, **fields) -> InProcessDbtCliInvocation:
        return cls(
            process=InProcessDbt(args, env=env, cwd=project_dir),
            project_dir=project_dir,
            project=dbt_project,
            **fields,
        )


@contextmanager
def in_process_invocations() -> Iterator[None]:
    """While open, `DbtCliResource.cli` starts its command in this process: dagster-dbt builds
    the command line, environment and selection as always, and only the last step, which
    would start the `dbt` process, is ours."""
    with _SWAP_LOCK:
        dagster_dbt_resource.DbtCliInvocation = InProcessDbtCliInvocation
        try:
            yield
        finally:
            dagster_dbt_resource.DbtCliInvocation = DbtCliInvocation
