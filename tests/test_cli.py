import re
import subprocess
import sys

import resnet


def _run(*args):
    return subprocess.run([sys.executable, "-m", "resnet", *args], capture_output=True,
                          text=True, timeout=300)


def test_summary_prints_the_layers_and_the_parameter_count():
    result = _run("summary", "--input-shape", "64", "64", "3", "--classes", "2")
    assert result.returncode == 0, result.stderr
    assert "conv5_block3_out" in result.stdout
    count = int(re.search(r"Total parameters: ([\d,]+)", result.stdout)[1].replace(",", ""))
    assert count == resnet.ResNet50(input_shape=(64, 64, 3), classes=2).count_params()


def test_help_explains_every_command():
    result = _run("--help")
    assert result.returncode == 0
    assert "summary" in result.stdout
    sub = _run("summary", "--help")
    assert "--input-shape" in sub.stdout and "--classes" in sub.stdout


def test_bad_input_shape_is_a_clear_error_not_a_traceback():
    result = _run("summary", "--input-shape", "16", "16", "3")
    assert result.returncode == 2
    assert "at least 32x32" in result.stderr and "Traceback" not in result.stderr
