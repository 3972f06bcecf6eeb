"""The benchmark runs in its quick mode; its figures are printed, checked against each other
(not against targets); its peak estimate runs for every CPU kind on any machine."""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from resnet.train import speed

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "benchmark.py"


def _benchmark_module():
    spec = importlib.util.spec_from_file_location("benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


AVX512 = frozenset({"avx2", "fma", "avx512f", "avx512dq", "avx512bw", "avx512vl"})
PEAKS = {  # kind: (CpuInfo at 2.6 GHz on 2 cores, fp32 FLOPs/cycle/core, peak GFLOP/s)
    "AMD EPYC Zen 4 (family 25, model 17): AVX-512 on 256-bit units": (
        speed.CpuInfo("AMD EPYC", 2, 2600.0, AVX512 | {"avx512_bf16"}, "AuthenticAMD", 25, 17),
        32, 166.4),
    "AMD EPYC Zen 5 (family 26)": (
        speed.CpuInfo("AMD EPYC", 2, 2600.0, AVX512 | {"avx512_bf16"}, "AuthenticAMD", 26, 2),
        64, 332.8),
    "Intel Xeon with AMX (family 6, model 167)": (
        speed.CpuInfo("Intel(R) Xeon(R) Processor", 2, 2600.0,
                      AVX512 | {"avx512_bf16", "amx_bf16", "amx_tile"}, "GenuineIntel", 6, 167),
        64, 332.8),
    "AMD EPYC, AVX2 only (family 23)": (
        speed.CpuInfo("AMD EPYC", 2, 2600.0, frozenset({"avx", "avx2", "fma"}), "AuthenticAMD",
                      23, 1),
        32, 166.4),
}


@pytest.mark.parametrize("kind", PEAKS)
def test_the_fp32_peak_follows_the_cpu_kind(kind):
    cpu, per_cycle, peak = PEAKS[kind]
    benchmark = _benchmark_module()
    assert benchmark._fp32_flops_per_cycle(cpu) == per_cycle
    estimate, how = benchmark._cpu_peak(cpu)
    assert estimate == pytest.approx(peak)
    assert how == f"2 cores x 2.60 GHz x {per_cycle} fp32 FLOPs/cycle"
    assert benchmark._cpu_peak(cpu._replace(mhz=None)) == (None, None)  # clock unknown


def _run(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          timeout=600)


@pytest.mark.slow  # runs a benchmark in a fresh process
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
    # One repetition (--quick): the ratio is ours over the reference, not the other way round
    # (the goal, >= 0.97, is checked by a person). Rates print with one decimal, ratios three.
    ratios = [float(x) for x in rows["ratio ours / reference"].split("|")[2:4]]
    ours = [float(x) for x in rows["resnet.ResNet50"].split("|")[2:4]]
    reference = [float(x) for x in rows["keras.applications.ResNet50"].split("|")[2:4]]
    for ratio, o, r in zip(ratios, ours, reference, strict=True):
        assert ratio == pytest.approx(o / r, rel=0.01)
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
    for row in tuned.values():  # | phase | reference | ours | ratio ours / reference |
        reference, ours, ratio = (float(x.strip().rstrip("x")) for x in row.split("|")[2:5])
        assert ratio == pytest.approx(ours / reference, rel=0.01, abs=0.006)


@pytest.mark.slow
def test_bad_arguments_are_errors_not_tracebacks():
    result = _run("--batch-size", "0")
    assert result.returncode == 2
    assert "--batch-size must be at least 1" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow
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
