"""Shared fixtures. TensorFlow's C++ logs are silenced before it is imported."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from tensorflow import keras  # noqa: E402

LEGACY_KERAS = not hasattr(keras, "ops")  # Keras 2 (tf-keras) has no keras.ops


def randomize_weights(model, seed=0):
    """Give every weight of ``model`` random values, BN moving statistics included.

    Fresh BN layers have mean 0 and variance 1, which would hide a wrong epsilon
    or a wrong statistic; random values make any such difference show.
    """
    rng = np.random.default_rng(seed)
    weights = []
    for w in model.weights:
        name = w.path if hasattr(w, "path") else w.name
        shape = tuple(w.shape)
        if "moving_variance" in name or "gamma" in name:
            weights.append(rng.uniform(0.5, 1.5, size=shape).astype("float32"))
        else:
            weights.append(rng.normal(0, 0.05, size=shape).astype("float32"))
    model.set_weights(weights)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def built_book(tmp_path_factory):
    """Build the book once per session, Sphinx warnings as errors; return its HTML folder.

    Fails with the build's log if jupyter-book reports a warning or an error.
    """
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    output = tmp_path_factory.mktemp("book")
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    result = subprocess.run(
        [str(jupyter_book), "build", str(root), "--path-output", str(output), "-W", "-n",
         "--keep-going"],
        capture_output=True, text=True, timeout=900,
    )
    log = (result.stdout + result.stderr)[-6000:]
    assert result.returncode == 0, f"jupyter-book build failed or warned:\n{log}"
    return output / "_build" / "html"
