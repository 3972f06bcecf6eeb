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
