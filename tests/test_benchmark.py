"""The benchmark runs in its quick mode; its figures are printed, not asserted."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # each test runs a benchmark in a fresh process

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "benchmark.py"


def _run(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          timeout=600)


def test_quick_benchmark_prints_a_markdown_table_with_both_networks(tmp_path):
    # With the tuned comparison, its switches fixed (float32, XLA off) so that nothing is
    # timed twice here: the decision has tests of its own.
    result = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--tuned", "--jit-compile",
                             "off", "--mixed-precision", "float32"], capture_output=True,
                            text=True, timeout=600,
                            env={**os.environ, "RESNET_CACHE_DIR": str(tmp_path)})
    print(result.stdout)
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert re.search(r"^Device: (CPU|GPU): ", out, re.M)
    rows = {line.split("|")[1].strip(): line for line in out.splitlines()
            if line.startswith("| ")}
    assert {"resnet.ResNet50", "keras.applications.ResNet50",
            "ratio ours / reference"} <= set(rows)
    ratios = [float(x) for x in rows["ratio ours / reference"].split("|")[2:4]]
    assert all(r > 0 for r in ratios)  # measured; the goal (>= 0.97) is checked by a person
    # The counted work: ResNet50 at 32x32 is (32/224)^2 of its 3.86 GMACs at 224x224,
    # a little more since the small maps are padded.
    macs = float(re.search(r"Counted work: ([\d.]+) GMACs", out)[1])
    assert 0.07 < macs < 0.09
    # The tuned comparison names the machine and its choices, and gives both ratios.
    assert re.search(r"^Tuned for this machine \((CPU|GPU): .*\): training (float32|mixed_"
                     r"bfloat16|mixed_float16), XLA off: .*BN folded", out, re.M)
    tuned = {line.split("|")[1].strip(): line for line in out.splitlines()
             if line.startswith("| training img/s") or line.startswith("| inference img/s")}
    assert set(tuned) == {"training img/s", "inference img/s"}
    assert all(float(row.split("|")[4].strip().rstrip("x")) > 0 for row in tuned.values())


def test_bad_arguments_are_errors_not_tracebacks():
    result = _run("--batch-size", "0")
    assert result.returncode == 2
    assert "--batch-size must be at least 1" in result.stderr and "Traceback" not in result.stderr


def test_conv_backprop_benchmark_prints_one_row_per_shape():
    script = SCRIPT.parent / "conv_backprop_input.py"
    result = subprocess.run([sys.executable, str(script), "--no-model", "--repeats", "1",
                             "--batch-size", "4"], capture_output=True, text=True, timeout=600)
    print(result.stdout)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [line for line in result.stdout.splitlines() if re.match(r"^\| \dx\d ", line)]
    assert len(rows) == 6
    for row in rows:  # forward, backprop input: positive milliseconds
        forward, backprop = (float(x) for x in row.split("|")[4:6])
        assert forward > 0 and backprop > 0
