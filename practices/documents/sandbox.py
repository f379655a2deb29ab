"""``extract`` in a throwaway child process limited in wall-clock time, CPU time and memory
(``python -m practices.documents``); every way the child can fail becomes a reason an editor can read."""

import dataclasses
import json
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

from practices.documents.base import Extraction, ExtractionFailed
from practices.documents.limits import Limits, _memory_reason


def _limit_child(memory_bytes: int, cpu_seconds: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _child_command(path: Path, limits: Limits, preview_path: Path | None) -> list[str]:
    command = [sys.executable, "-m", "practices.documents", os.fspath(path)]
    command += ["--limits", json.dumps(dataclasses.asdict(limits))]
    if preview_path is not None:
        command += ["--preview", os.fspath(preview_path)]
    return command


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    here = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (here, env.get("PYTHONPATH")) if p)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _child_result(returncode: int, stdout: bytes, stderr: bytes, limits: Limits) -> Extraction:
    if returncode < 0:
        signum = -returncode
        if signum == signal.SIGXCPU:
            raise ExtractionFailed(
                f"Reading the file used more than {limits.cpu_seconds} seconds of processing time "
                "and was stopped."
            )
        if signum == signal.SIGKILL:
            raise ExtractionFailed(
                "Reading the file was stopped by the system, most likely for using too much memory."
            )
        try:
            name = signal.Signals(signum).name
        except ValueError:
            name = f"signal {signum}"
        raise ExtractionFailed(f"The text extractor crashed ({name}); the file may be damaged or hostile.")
    if returncode != 0:
        if any(sign in stderr for sign in (b"MemoryError", b"failed to map", b"Cannot allocate memory")):
            raise ExtractionFailed(_memory_reason(limits))
        last = stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        detail = f": {last[0][:200]}" if last[0] else ""
        raise ExtractionFailed(f"The text extractor failed (exit status {returncode}){detail}.")
    try:
        payload = json.loads(stdout)
        if payload["ok"]:
            return Extraction.from_dict(payload["extraction"])
        reason = payload["reason"]
    except (ValueError, KeyError, TypeError) as e:
        raise ExtractionFailed("The text extractor gave an answer that could not be understood.") from e
    raise ExtractionFailed(str(reason))


def extract_in_subprocess(
    path: str | os.PathLike, limits: Limits | None = None, preview_path: str | os.PathLike | None = None
) -> Extraction:
    """`extract` in a child process limited in wall-clock time, CPU time and memory.

    Every way the child can fail becomes an ExtractionFailed with a reason an editor can read.
    """
    limits = limits or Limits()
    command = _child_command(Path(path), limits, Path(preview_path) if preview_path else None)
    try:
        done = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=limits.timeout_seconds,
            env=_child_env(),
            preexec_fn=lambda: _limit_child(limits.memory_bytes, limits.cpu_seconds),
            check=False,
        )
    except subprocess.TimeoutExpired as e:
        raise ExtractionFailed(
            f"Reading the file took longer than {limits.timeout_seconds:g} seconds and was stopped."
        ) from e
    except OSError as e:
        raise ExtractionFailed(f"The text extractor could not be started ({e.strerror or e}).") from e
    return _child_result(done.returncode, done.stdout, done.stderr, limits)
