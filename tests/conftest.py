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


# Tolerances for a deep network's outputs, from what they separate (measured, see below).
# Rounding: float32 sums through ResNet50's 50 layers come out differently with other oneDNN
# kernels (other batch sizes, other CPU kinds): the pooled features of one image in a batch
# of 1 and of 8 differed by 1.2e-6 of their largest value (AVX-512 EPYC, Keras 3 and 2).
# Bugs: BN stuck in training mode moves them by ~100% of it, and a wrong BN epsilon (1e-3
# instead of 1.001e-5) by 1.3%. 1e-4 of the scale sits between the two.
FEATURE_RTOL = 1e-4
# Probabilities: a softmax turns a logit change d into a probability change of up to d/2,
# and this test's random-weight logits span ~40, so rounding moves a probability by up to a
# few 1e-5 (1.9e-5 measured, legacy Keras 2: oneDNN kernels differ by batch size). BN stuck
# in training mode moves it by 1e-2 or more (0.7 measured).
PROBABILITY_ATOL = 1e-3


def assert_close_to_scale(actual, desired, rtol=FEATURE_RTOL):
    """Assert |actual - desired| <= rtol * max|desired| everywhere.

    Relative to the largest value, not elementwise: rounding in a sum is of the size of
    its largest terms, so small entries (features near 0) carry the same absolute error.
    """
    actual, desired = np.asarray(actual), np.asarray(desired)
    np.testing.assert_allclose(actual, desired, rtol=0, atol=rtol * np.abs(desired).max())


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
