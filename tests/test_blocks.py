import numpy as np
import pytest
from conftest import LEGACY_KERAS
from tensorflow import keras

import resnet


def _block_model(block, input_shape, **kwargs):
    inputs = keras.Input(shape=input_shape)
    return keras.Model(inputs, block(inputs, **kwargs))


@pytest.mark.parametrize(
    ("input_shape", "f", "filters", "expected"),
    [((15, 15, 256), 3, [64, 64, 256], (None, 15, 15, 256)),
     ((8, 8, 32), 5, [8, 16, 32], (None, 8, 8, 32)),
     ((7, 7, 16), 2, [4, 4, 16], (None, 7, 7, 16)),  # even f: 'same' pads bottom and right
     ((5, 5, 8), 4, [4, 4, 8], (None, 5, 5, 8))],
)
def test_identity_block_keeps_the_shape(input_shape, f, filters, expected):
    inputs = keras.Input(shape=input_shape)
    assert tuple(resnet.identity_block(inputs, f, filters).shape) == expected


@pytest.mark.parametrize(
    ("input_shape", "s", "expected"),
    [((15, 15, 64), 2, (None, 8, 8, 256)),
     ((16, 16, 64), 2, (None, 8, 8, 256)),
     ((16, 16, 64), 1, (None, 16, 16, 256)),
     ((9, 9, 3), 3, (None, 3, 3, 256))],
)
def test_convolutional_block_output_shape(input_shape, s, expected):
    inputs = keras.Input(shape=input_shape)
    out = resnet.convolutional_block(inputs, 3, [64, 64, 256], s=s)
    assert tuple(out.shape) == expected


def test_identity_block_with_a_silent_main_path_returns_relu_of_its_input(rng):
    model = _block_model(resnet.identity_block, (6, 6, 8), f=3, filters=[4, 4, 8], name="b")
    last_bn = model.get_layer("b_3_bn")
    gamma, beta, mean, variance = last_bn.get_weights()
    last_bn.set_weights([np.zeros_like(gamma), np.zeros_like(beta), mean, variance])
    x = rng.normal(size=(3, 6, 6, 8)).astype("float32")
    # Exact in float arithmetic (gamma = beta = 0 gives 0 * x + 0); x is of order 1.
    np.testing.assert_allclose(model.predict(x, verbose=0), np.maximum(x, 0), atol=1e-6)


def test_the_shortcut_is_added_before_the_final_relu(rng):
    # Silence the main path (its last BN's gamma = beta = 0): the convolutional block is
    # then relu(BN(conv(x))) of the projection shortcut alone. Unlike the identity block
    # it does not pass x through: even silenced, it projects x (new shape, new values),
    # and the final ReLU clips the shortcut's negative half, so it acts after the Add.
    model = _block_model(resnet.convolutional_block, (6, 6, 4), f=3, filters=[4, 4, 8], s=2,
                         name="b")
    last_bn = model.get_layer("b_3_bn")
    gamma, beta, mean, variance = last_bn.get_weights()
    last_bn.set_weights([np.zeros_like(gamma), np.zeros_like(beta), mean, variance])
    x = rng.normal(size=(2, 6, 6, 4)).astype("float32")
    out = model.predict(x, verbose=0)
    shortcut = keras.Model(model.inputs, model.get_layer("b_0_bn").output).predict(x, verbose=0)
    assert out.shape == (2, 3, 3, 8)
    # One block, values of order 1: the Add of an exact zero changes nothing, so only the
    # two sub-models' kernels may round differently (~1e-7); a missing ReLU is off by O(1).
    np.testing.assert_allclose(out, np.maximum(shortcut, 0), atol=1e-6)
    assert shortcut.min() < 0 and out.min() == 0 and out.max() > 0


def test_layer_names_follow_keras_applications():
    inputs = keras.Input(shape=(8, 8, 16))
    x = resnet.convolutional_block(inputs, 3, [4, 4, 16], name="conv2_block1")
    x = resnet.identity_block(x, 3, [4, 4, 16], name="conv2_block2")
    names = {layer.name for layer in keras.Model(inputs, x).layers}
    for suffix in ("0_conv", "0_bn", "1_conv", "1_bn", "1_relu", "2_conv", "3_bn", "add", "out"):
        assert f"conv2_block1_{suffix}" in names
    assert "conv2_block2_0_conv" not in names  # no projection in an identity block
    assert "conv2_block2_add" in names


def test_block_seed_gives_each_conv_its_own_kernel():
    inputs = keras.Input(shape=(8, 8, 4))
    model = keras.Model(inputs, resnet.convolutional_block(inputs, 1, [4, 4, 4], s=1, seed=0))
    kernels = [w.numpy() for w in model.weights if len(w.shape) == 4]
    assert len(kernels) == 4 and all(k.shape == (1, 1, 4, 4) for k in kernels)
    for i in range(4):
        for j in range(i + 1, 4):
            assert not np.allclose(kernels[i], kernels[j])


def test_initializer_is_called_with_a_seed():
    seeds = []

    def initializer(seed=None):
        seeds.append(seed)
        return keras.initializers.Constant(0.01)

    inputs = keras.Input(shape=(8, 8, 4))
    resnet.convolutional_block(inputs, 3, [2, 2, 4], initializer=initializer, seed=5)
    resnet.identity_block(inputs, 3, [2, 2, 4], initializer=initializer, seed=6)
    assert seeds == [20, 21, 22, 23, 25, 26, 27]


def test_training_none_keeps_predictions_independent_of_the_batch(rng):
    x = rng.normal(size=(4, 6, 6, 8)).astype("float32")
    # The defect of the original code (training=True) is kept reachable for course
    # compatibility. Keras 2 then freezes BN in training mode; Keras 3 lets predict's
    # own training=False override it.
    for training, batch_dependent in ((None, False), (True, LEGACY_KERAS)):
        model = _block_model(resnet.identity_block, (6, 6, 8), f=3, filters=[4, 4, 8],
                             training=training)
        alone = model.predict(x[:1], verbose=0)
        in_batch = model.predict(x, verbose=0)[:1]
        # Outputs are of order 1: rounding in one block is < 1e-6 (0 measured), batch
        # statistics move them by O(0.1) (0.73 measured under Keras 2).
        assert (not np.allclose(alone, in_batch, rtol=0, atol=1e-4)) == batch_dependent


def test_bn_momentum_and_epsilon_reach_every_bn_layer():
    inputs = keras.Input(shape=(8, 8, 4))
    x = resnet.convolutional_block(inputs, 3, [2, 2, 4], bn_momentum=0.9, bn_epsilon=1e-3)
    x = resnet.identity_block(x, 3, [2, 2, 4], bn_momentum=0.9, bn_epsilon=1e-3)
    bns = [layer for layer in keras.Model(inputs, x).layers
           if isinstance(layer, keras.layers.BatchNormalization)]
    assert len(bns) == 7
    assert all(bn.momentum == 0.9 and bn.epsilon == 1e-3 and bn.axis in (-1, 3, [3]) for bn in bns)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [(dict(f=0), "`f` must be a positive int"),
     (dict(f=-3), "`f` must be a positive int"),
     (dict(f=3.0), "`f` must be a positive int"),
     (dict(f=True), "`f` must be a positive int"),
     (dict(filters=[4, 4]), "`filters` must be three positive ints"),
     (dict(filters=[4, 0, 8]), "`filters` must be three positive ints"),
     (dict(filters=[4, 4, 8.5]), "`filters` must be three positive ints"),
     (dict(filters="448"), "`filters` must be three positive ints"),
     (dict(seed=-1), "`seed` must be a non-negative int")],
)
@pytest.mark.parametrize("block", [resnet.identity_block, resnet.convolutional_block])
def test_bad_block_arguments_name_the_argument(block, kwargs, match):
    args = dict(f=3, filters=[4, 4, 8]) | kwargs
    with pytest.raises(ValueError, match=match):
        block(keras.Input(shape=(8, 8, 8)), **args)


@pytest.mark.parametrize("s", [0, -1, 1.5, True])
def test_bad_stride_is_refused(s):
    with pytest.raises(ValueError, match="`s` must be a positive int"):
        resnet.convolutional_block(keras.Input(shape=(8, 8, 8)), 3, [4, 4, 8], s=s)


def test_identity_block_refuses_a_channel_mismatch():
    with pytest.raises(ValueError, match=r"input's channels \(16\) must equal filters\[2\] \(8\)"):
        resnet.identity_block(keras.Input(shape=(8, 8, 16)), 3, [4, 4, 8])


def test_blocks_refuse_a_tensor_that_is_not_4d():
    with pytest.raises(ValueError, match="`X` must be 4-D"):
        resnet.identity_block(keras.Input(shape=(8, 8)), 3, [4, 4, 8])
