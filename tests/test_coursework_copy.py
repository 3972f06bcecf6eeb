"""What a student copies into their coursework must work on its own.

The README's "Copy into your coursework" section lists the files; these tests
copy exactly those (and, separately, the whole folder) into an empty folder and
use them in a fresh process that has TensorFlow and nothing from the project.
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import resnet

pytestmark = pytest.mark.slow  # three fresh processes, each importing TensorFlow

ROOT = Path(__file__).resolve().parents[1]

# Simulate a machine with TensorFlow alone: Pillow, matplotlib, scikit-learn and
# scikit-image cannot be imported (TensorFlow itself treats them as optional).
TENSORFLOW_ALONE = """
import importlib.abc, sys

class Absent(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"PIL", "matplotlib", "sklearn", "skimage"}:
            raise ModuleNotFoundError(f"No module named {name!r}")

sys.meta_path.insert(0, Absent())
"""
BUILD = """
import numpy as np
import resnet
model = resnet.ResNet50(input_shape=(32, 32, 1), classes=3)
probabilities = np.asarray(model(np.zeros((2, 32, 32, 1), "float32"), training=False))
assert probabilities.shape == (2, 3), probabilities.shape
print(resnet.__file__, model.count_params())
"""
EVALUATE = """
predictions = resnet.evaluate(model, np.zeros((2, 40, 40, 1), "uint8"), class_names="abc")
assert [p.label for p in predictions] == [predictions[0].label] * 2
assert predictions[0].label in "abc" and predictions[0].probabilities.shape == (3,)
"""


def listed_files(kind):
    """The files the README lists for ``kind`` ("model" or "evaluate")."""
    readme = (ROOT / "README.md").read_text()
    block = re.search(rf"<!-- coursework-files: {kind} -->\n(.*?)<!-- /coursework-files -->",
                      readme, re.S)
    assert block, f"README lists no coursework files for {kind!r}"
    return re.findall(r"^- `([^`]+)`$", block.group(1), re.M)


def _run(folder, script):
    result = subprocess.run(
        [sys.executable, "-c", TENSORFLOW_ALONE + script], cwd=folder, capture_output=True,
        text=True, timeout=300, env={"PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert result.returncode == 0, result.stderr
    path, count = result.stdout.split()
    assert Path(path).is_relative_to(folder)
    assert int(count) == resnet.ResNet50(input_shape=(32, 32, 1), classes=3).count_params()


def _copy(files, folder):
    for file in files:
        (folder / file).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / file, folder / file)


@pytest.mark.parametrize(("kinds", "script"),
                         [(["model"], BUILD), (["model", "evaluate"], BUILD + EVALUATE)])
def test_the_listed_files_alone_work(tmp_path, kinds, script):
    files = [file for kind in kinds for file in listed_files(kind)]
    _copy(files, tmp_path)
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.py")) == sorted(files)
    _run(tmp_path, script)


def test_the_package_folder_works_alone(tmp_path):
    shutil.copytree(Path(resnet.__file__).parent, tmp_path / "resnet",
                    ignore=shutil.ignore_patterns("__pycache__"))
    _run(tmp_path, BUILD + EVALUATE)


def test_the_top_level_of_the_package_is_the_model_and_the_command_line():
    # The layout shows the core: what a student copies is resnet/'s own files (the
    # README's list, with weights.py and preprocessing.py for published weights); every
    # helper lives in a sub-package (apply/, train/, book/).
    top = sorted(p.name for p in (ROOT / "resnet").glob("*.py"))
    model = [Path(file).name for file in listed_files("model")]
    assert all(Path(file).parent == Path("resnet") for file in listed_files("model"))
    assert top == sorted([*model, "weights.py", "preprocessing.py",
                          "cli.py", "__main__.py", "_quiet_start.py"])
    packages = sorted(p.parent.name for p in (ROOT / "resnet").glob("*/__init__.py"))
    assert packages == ["apply", "book", "train"]
