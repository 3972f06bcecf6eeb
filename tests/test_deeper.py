"""ResNet101 and ResNet152 against keras.applications, built on the spot."""

import numpy as np
import pytest
from conftest import randomize_weights
from tensorflow import keras

import resnet

DEEPER = [(resnet.ResNet101, keras.applications.ResNet101, 44_707_176),
          (resnet.ResNet152, keras.applications.ResNet152, 60_419_944)]


@pytest.mark.parametrize(("ours", "reference", "params"), DEEPER)
def test_parameter_counts_at_224_equal_keras_applications(ours, reference, params):
    model = ours(input_shape=(224, 224, 3), classes=1000)
    assert model.count_params() == params
    assert reference(weights=None, input_shape=(224, 224, 3), classes=1000).count_params() == params


@pytest.mark.parametrize(
    ("ours", "reference", "blocks"),
    [(resnet.ResNet50, keras.applications.ResNet50, (3, 4, 6, 3)),
     (resnet.ResNet101, keras.applications.ResNet101, (3, 4, 23, 3)),
     (resnet.ResNet152, keras.applications.ResNet152, (3, 8, 36, 3))],
)
def test_same_weights_and_function_as_keras_applications(ours, reference, blocks, rng):
    # A small input keeps this quick; the weights do not depend on the image size.
    model = ours(input_shape=(64, 64, 3), classes=7)
    ref = reference(weights=None, input_shape=(64, 64, 3), classes=7)
    assert [tuple(w.shape) for w in model.weights] == [tuple(w.shape) for w in ref.weights]
    adds = [layer.name for layer in model.layers if layer.name.endswith("_add")]
    per_stage = [sum(name.startswith(f"conv{s + 2}_") for name in adds) for s in range(4)]
    assert per_stage == list(blocks)

    randomize_weights(ref)
    model.set_weights(ref.get_weights())
    x = rng.uniform(0, 1, size=(2, 64, 64, 3)).astype("float32")
    features = [keras.Model(m.input, m.get_layer("avg_pool").output) for m in (model, ref)]
    np.testing.assert_allclose(features[0].predict(x, verbose=0), features[1].predict(x, verbose=0),
                               rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(model.predict(x, verbose=0), ref.predict(x, verbose=0), atol=1e-5)


def test_the_number_in_the_name_counts_the_weighted_layers_of_the_main_path():
    for build, depth in ((resnet.ResNet101, 101), (resnet.ResNet152, 152)):
        model = build(input_shape=(32, 32, 3))
        weighted = [layer for layer in model.layers
                    if isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense))
                    and not layer.name.endswith("_0_conv")]
        assert len(weighted) == depth
