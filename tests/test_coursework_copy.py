"""Students copy the folder resnet/ into their coursework: it must work on its own."""

import shutil
import subprocess
import sys
from pathlib import Path

import resnet

# Simulate a machine with TensorFlow alone: Pillow, matplotlib, scikit-learn and
# scikit-image cannot be imported (TensorFlow itself treats them as optional).
SCRIPT = """
import importlib.abc, sys

class Absent(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"PIL", "matplotlib", "sklearn", "skimage"}:
            raise ModuleNotFoundError(f"No module named {name!r}")

sys.meta_path.insert(0, Absent())
import resnet
model = resnet.ResNet50(input_shape=(32, 32, 1), classes=3)
print(resnet.__file__, model.count_params())
"""


def test_the_package_folder_works_alone(tmp_path):
    shutil.copytree(Path(resnet.__file__).parent, tmp_path / "resnet",
                    ignore=shutil.ignore_patterns("__pycache__"))
    result = subprocess.run([sys.executable, "-c", SCRIPT], cwd=tmp_path, capture_output=True,
                            text=True, timeout=300, env={"PATH": "/usr/bin:/bin",
                                                         "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert result.returncode == 0, result.stderr
    path, count = result.stdout.split()
    assert Path(path).is_relative_to(tmp_path)
    assert int(count) == resnet.ResNet50(input_shape=(32, 32, 1), classes=3).count_params()
