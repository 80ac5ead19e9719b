"""The benchmarks run: memory.py and speed.py in --quick mode exit 0 and print their tables.

No timing assertions (performance lives in benchmarks/, measured side by side, never in tests).
"""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(script, *args):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    p = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", script), "--quick", *args],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, f"{script} exited {p.returncode}\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}"
    return p.stdout


@pytest.fixture(autouse=True)
def _cpu_only(request):
    if getattr(request.config, "_tapegrad_device", "cpu") != "cpu":
        pytest.skip("the benchmarks' smoke test runs once, on the CPU")


def test_speed_quick():
    out = _run("speed.py", "--rounds", "2")
    assert "## Training step" in out
    assert "size   batch" in out                       # the table header
    assert "## Per-op overhead" in out
    assert "same-loss check: max |loss difference|" in out and "(OK" in out


def test_memory_quick():
    out = _run("memory.py", "--no-plot")
    assert "## Peak memory of one forward pass" in out
    assert "rec peak" in out and "ng peak" in out        # the table header
    assert "targets:" in out
