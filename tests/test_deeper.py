"""ResNet101 and ResNet152 against keras.applications, built on the spot.

(ResNet50's equivalence is tested in test_model.py.)
"""

import numpy as np
import pytest
from conftest import PROBABILITY_ATOL, assert_close_to_scale
from tensorflow import keras

import resnet
from resnet.book.checks import randomize_weights

pytestmark = pytest.mark.slow  # ResNet101 and ResNet152 at 224x224, twice each


@pytest.mark.parametrize(
    ("ours", "reference", "params"),
    [(resnet.ResNet101, keras.applications.ResNet101, 44_707_176),
     (resnet.ResNet152, keras.applications.ResNet152, 60_419_944)],
)
def test_parameter_counts_at_224_equal_keras_applications(ours, reference, params):
    model = ours(input_shape=(224, 224, 3), classes=1000)
    assert model.count_params() == params
    assert reference(weights=None, input_shape=(224, 224, 3), classes=1000).count_params() == params


def _features_and_probabilities(model, x):
    # One eager call: much quicker than tracing predict() for a network of 500 layers.
    probe = keras.Model(model.input, [model.get_layer("avg_pool").output, model.output])
    return [np.asarray(t) for t in probe(x, training=False)]


@pytest.mark.parametrize(
    ("ours", "reference", "depth", "blocks"),
    [(resnet.ResNet101, keras.applications.ResNet101, 101, (3, 4, 23, 3)),
     (resnet.ResNet152, keras.applications.ResNet152, 152, (3, 8, 36, 3))],
)
def test_same_layers_weights_and_function_as_keras_applications(ours, reference, depth, blocks,
                                                                 rng):
    # A small input keeps this quick; the weights do not depend on the image size.
    model = ours(input_shape=(64, 64, 3), classes=7)
    ref = reference(weights=None, input_shape=(64, 64, 3), classes=7)
    assert [tuple(w.shape) for w in model.weights] == [tuple(w.shape) for w in ref.weights]
    adds = [layer.name for layer in model.layers if layer.name.endswith("_add")]
    per_stage = [sum(name.startswith(f"conv{s + 2}_") for name in adds) for s in range(4)]
    assert per_stage == list(blocks)
    # The number in the name counts the weighted layers of the main path (no shortcut convs).
    weighted = [layer for layer in model.layers
                if isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense))
                and not layer.name.endswith("_0_conv")]
    assert len(weighted) == depth

    randomize_weights(ref)
    model.set_weights(ref.get_weights())
    x = rng.uniform(0, 1, size=(2, 64, 64, 3)).astype("float32")
    (ours_features, ours_probabilities), (ref_features, ref_probabilities) = (
        _features_and_probabilities(m, x) for m in (model, ref))
    # The features too: a softmax over 7 classes could hide small errors.
    assert_close_to_scale(ours_features, ref_features)
    np.testing.assert_allclose(ours_probabilities, ref_probabilities, atol=PROBABILITY_ATOL)
