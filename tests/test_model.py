import numpy as np
import pytest
from conftest import LEGACY_KERAS, PROBABILITY_ATOL, assert_close_to_scale
from tensorflow import keras

import resnet
from resnet.book.checks import randomize_weights


def _reference(input_shape, classes):
    return keras.applications.ResNet50(
        weights=None, input_shape=input_shape, classes=classes
    )


@pytest.mark.parametrize(
    ("input_shape", "classes", "params"),
    [((64, 64, 3), 6, 23_600_006),
     pytest.param((224, 224, 3), 1000, 25_636_712, marks=pytest.mark.slow)],
)
def test_same_weights_and_function_as_keras_applications(input_shape, classes, params, rng):
    ours = resnet.ResNet50(input_shape=input_shape, classes=classes)
    reference = _reference(input_shape, classes)
    assert ours.count_params() == reference.count_params() == params
    assert [tuple(w.shape) for w in ours.weights] == [tuple(w.shape) for w in reference.weights]

    randomize_weights(reference)
    ours.set_weights(reference.get_weights())
    x = rng.uniform(0, 1, size=(2, *input_shape)).astype("float32")
    # Compare the features before the classifier too: a 1000-way softmax hides small errors.
    features = [keras.Model(m.input, m.get_layer("avg_pool").output) for m in (ours, reference)]
    assert_close_to_scale(features[0].predict(x, verbose=0), features[1].predict(x, verbose=0))
    np.testing.assert_allclose(ours.predict(x, verbose=0), reference.predict(x, verbose=0),
                               atol=PROBABILITY_ATOL)


def test_stage_output_shapes_and_layer_count():
    model = resnet.ResNet50(input_shape=(64, 64, 3), classes=6)
    shapes = {name: tuple(model.get_layer(name).output.shape[1:])
              for name in ("pool1_pool", "conv2_block3_out", "conv3_block4_out",
                           "conv4_block6_out", "conv5_block3_out", "predictions")}
    assert shapes == {"pool1_pool": (16, 16, 64), "conv2_block3_out": (16, 16, 256),
                      "conv3_block4_out": (8, 8, 512), "conv4_block6_out": (4, 4, 1024),
                      "conv5_block3_out": (2, 2, 2048), "predictions": (6,)}
    weighted = [layer for layer in model.layers
                if isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense))]
    shortcuts = [layer for layer in weighted if layer.name.endswith("_0_conv")]
    # The "50" counts the main path: 1 stem conv + 16 blocks x 3 convs + 1 classifier.
    assert len(weighted) - len(shortcuts) == 50 and len(shortcuts) == 4


@pytest.mark.parametrize(
    ("input_shape", "classes"), [((64, 64, 1), 10), ((32, 48, 3), 2), ((100, 80, 4), 7)]
)
def test_configurable_input_shape_and_classes(input_shape, classes, rng):
    model = resnet.ResNet50(input_shape=input_shape, classes=classes)
    assert tuple(model.input.shape) == (None, *input_shape)
    x = rng.uniform(size=(3, *input_shape)).astype("float32")
    probabilities = model.predict(x, verbose=0)
    assert probabilities.shape == (3, classes)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, atol=1e-5)  # float32: ~1e-7


def test_defaults_are_binary_on_64x64_rgb():
    model = resnet.ResNet50()
    assert tuple(model.input.shape) == (None, 64, 64, 3)
    assert tuple(model.output.shape) == (None, 2)


def test_same_seed_same_weights_other_seed_other_weights():
    a, b, c = (resnet.ResNet50(input_shape=(32, 32, 1), classes=3, seed=s) for s in (7, 7, 8))
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)
    kernels_a = [w for w in a.get_weights() if w.ndim == 4]
    kernels_c = [w for w in c.get_weights() if w.ndim == 4]
    assert not any(np.array_equal(ka, kc) for ka, kc in zip(kernels_a, kernels_c, strict=True))


def test_no_two_layers_start_with_the_same_kernel():
    model = resnet.ResNet50(input_shape=(32, 32, 3), classes=2)
    kernels = [w for w in model.get_weights() if w.ndim in (2, 4)]
    by_shape = {}
    for kernel in kernels:
        by_shape.setdefault(kernel.shape, []).append(kernel)
    assert max(len(group) for group in by_shape.values()) > 1  # the check below is not vacuous
    for group in by_shape.values():
        for i in range(len(group)):
            for j in range(i + 1, len(group)):
                assert not np.array_equal(group[i], group[j])


@pytest.mark.slow
def test_prediction_of_one_image_does_not_depend_on_the_batch(rng):
    model = resnet.ResNet50(input_shape=(32, 32, 3), classes=4)
    randomize_weights(model, seed=1)
    x = rng.uniform(size=(8, 32, 32, 3)).astype("float32")
    # BN stuck in training mode would move both by ~100%; oneDNN's kernels for a batch of 1
    # and of 8 round differently, by ~1e-6 of the features' scale (see conftest).
    features = keras.Model(model.input, model.get_layer("avg_pool").output)
    assert_close_to_scale(features.predict(x[:1], verbose=0), features.predict(x, verbose=0)[:1])
    np.testing.assert_allclose(model.predict(x[:1], verbose=0), model.predict(x, verbose=0)[:1],
                               atol=PROBABILITY_ATOL)


def test_bn_arguments_reach_every_bn_layer():
    model = resnet.ResNet50(input_shape=(32, 32, 3), bn_momentum=0.9, bn_epsilon=1e-3)
    bns = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert len(bns) == 53
    assert {(bn.momentum, bn.epsilon) for bn in bns} == {(0.9, 1e-3)}


@pytest.mark.slow  # builds ResNet101 and ResNet152
def test_deeper_networks_share_the_builder():
    assert resnet.ResNet101(input_shape=(32, 32, 3)).name == "resnet101"
    model = resnet.ResNet152(input_shape=(32, 32, 3), classes=3)
    assert len([layer for layer in model.layers if layer.name.endswith("_add")]) == 50


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [(dict(input_shape=(0, 64, 3)), "at least 1x1"),
     (dict(input_shape=(64, -16, 3)), "at least 1x1"),
     (dict(input_shape=(64, 64, 0)), "positive number of channels"),
     (dict(input_shape=(64, 64, -3)), "positive number of channels"),
     (dict(input_shape=(64, 64)), "three ints"),
     (dict(input_shape=(64.0, 64, 3)), "three ints"),
     (dict(input_shape="64x64"), "three ints"),
     (dict(classes=0), "`classes` must be an int >= 1"),
     (dict(classes=2.0), "`classes` must be an int >= 1"),
     (dict(classes=True), "`classes` must be an int >= 1"),
     (dict(seed=-2), "`seed` must be a non-negative int")],
)
def test_bad_model_arguments_name_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        resnet.ResNet50(**kwargs)


@pytest.mark.skipif(LEGACY_KERAS, reason="Keras 3 layer names; Keras 2 numbers the input layer")
def test_layer_names_match_keras_applications():
    ours = resnet.ResNet50(input_shape=(64, 64, 3), classes=6)
    reference = _reference((64, 64, 3), 6)
    names = [[layer.name for layer in model.layers][1:] for model in (ours, reference)]
    assert names[0] == names[1]


def test_every_conv_is_seeded_by_the_one_seed_scheme():
    # block_seed numbers the blocks across the stages (conv3_block1 is block 4 of ResNet50),
    # conv_seed the convs of a block; the stem and the classifier belong to block 0.
    from resnet.blocks import conv_seed, glorot_uniform, random_uniform
    from resnet.model import block_seed

    seed = 3
    model = resnet.ResNet50(input_shape=(32, 32, 3), classes=4, seed=seed)
    expected = {
        "conv1_conv": glorot_uniform(seed=conv_seed(block_seed(seed, 0), 0)),
        "predictions": glorot_uniform(seed=conv_seed(block_seed(seed, 0), 1)),
        "conv2_block2_1_conv": random_uniform(seed=conv_seed(block_seed(seed, 2), 1)),
        "conv3_block1_0_conv": glorot_uniform(seed=conv_seed(block_seed(seed, 4), 0)),
        "conv5_block3_3_conv": random_uniform(seed=conv_seed(block_seed(seed, 16), 3)),
    }
    for name, initializer in expected.items():
        kernel = model.get_layer(name).get_weights()[0]
        np.testing.assert_array_equal(kernel, initializer(kernel.shape), err_msg=name)


def test_build_resnet_makes_other_depths_from_blocks_per_stage():
    from resnet.model import STAGE_BLOCKS, build_resnet

    model = build_resnet((1, 1, 1, 1), input_shape=(32, 32, 3), classes=3, name="resnet14")
    assert [layer.name for layer in model.layers if layer.name.endswith("_add")] == [
        f"conv{stage}_block1_add" for stage in (2, 3, 4, 5)]
    same = build_resnet(STAGE_BLOCKS[50], input_shape=(32, 32, 3), classes=3, seed=1)
    reference = resnet.ResNet50(input_shape=(32, 32, 3), classes=3, seed=1)
    for ours, theirs in zip(same.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_array_equal(ours, theirs)
    with pytest.raises(ValueError, match="`blocks_per_stage` must be four positive ints"):
        build_resnet((3, 4, 6), input_shape=(32, 32, 3))
