"""Cold start: wall time and peak RSS of fresh processes that use the local model.

Every case runs in a new process, with the ONNX export already cached (a warm-up run makes it
once), in a temporary ``MEMLANE_DIR`` and ``XDG_CACHE_HOME``: the user's own ~/.memlane and
caches are never touched. Peak RSS is the child's own (``os.wait4``), not the largest child's.

    PYTHONPATH=src HF_HUB_OFFLINE=1 python benchmarks/bench_cold.py [--repeat 2]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MEMLANE = [sys.executable, "-c", "import sys; from memlane.cli import main; sys.argv[0] = 'memlane'; main()"]

ADD_SEARCH = """
from memlane import Memory
m = Memory()
m.add("I moved to Bangalore last month", user_id="u", infer=False)
assert m.search("where does the user live", filters={"user_id": "u"})["results"]
m.close()
"""

TWO_MEMORIES = """
from memlane import Memory
a, b = Memory(), Memory(config={"vector_store": {"provider": "sqlite", "config": {"path": "second.db"}}})
for m in (a, b):
    m.add("I moved to Bangalore last month", user_id="u", infer=False)
    assert m.search("where does the user live", filters={"user_id": "u"})["results"]
    m.close()
"""

CREATE_STORE = "from memlane import Memory\nMemory().close()\n"


def run(command: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of ``command`` run to its end; raises if it fails."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    stderr = process.stderr.read().decode() if process.stderr else ""
    if process.returncode:
        raise RuntimeError(f"{command} failed ({process.returncode}): {stderr[-2000:]}")
    return wall, usage.ru_maxrss / 1024  # Linux: kilobytes


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def fresh_home(root: Path, name: str, env: dict[str, str]) -> dict[str, str]:
    """An env whose ``MEMLANE_DIR`` is a new folder ``root/name`` (its store not made yet)."""
    home = root / name
    if home.exists():
        shutil.rmtree(home)
    home.mkdir(parents=True)
    return {**env, "MEMLANE_DIR": str(home)}


def memory_id(env: dict[str, str], cwd: Path) -> str:
    code = (
        "from memlane import Memory\nm = Memory()\n"
        "print(m.add('I like green tea', user_id='u', infer=False)['results'][0]['id'])\n"
    )
    out = subprocess.run(python(code), env=env, cwd=cwd, check=True, capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="runs per case (the best is printed too)")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="memlane-cold-"))
    try:
        base = {**os.environ, "XDG_CACHE_HOME": str(root / "cache"), "HF_HUB_OFFLINE": "1"}
        base.pop("MEMLANE_DB", None)
        started = time.perf_counter()
        run(python(ADD_SEARCH), fresh_home(root, "warmup", base), root)  # exports the ONNX model once
        print(f"warm-up (export into the temporary cache): {time.perf_counter() - started:.1f} s")
        cases: list[tuple[str, list[str], str]] = [
            ("python: Memory() + add + search", python(ADD_SEARCH), "empty"),
            ("memlane search (fresh store)", [*MEMLANE, "search", "-u", "u", "tea"], "fresh"),
            ("memlane list", [*MEMLANE, "list", "-u", "u"], "one"),
            ("memlane get ID", [*MEMLANE, "get", "ID"], "one"),
            ("python: two Memory() + add + search each", python(TWO_MEMORIES), "empty"),
        ]
        print(f"{'case':44} {'wall s':>8} {'peak RSS MB':>12}")
        for label, command, setup in cases:
            for attempt in range(args.repeat):
                env = fresh_home(root, f"run-{attempt}", base)
                home = Path(env["MEMLANE_DIR"])
                if setup == "fresh":
                    subprocess.run(python(CREATE_STORE), env=env, cwd=home, check=True)
                argv = command
                if setup == "one":
                    ident = memory_id(env, home)
                    argv = [ident if part == "ID" else part for part in command]
                wall, rss = run(argv, env, home)
                print(f"{label:44} {wall:8.2f} {rss:12.0f}", flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
