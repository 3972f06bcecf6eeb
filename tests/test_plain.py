import numpy as np
import pytest
from tensorflow import keras

from resnet.book.plain import ZeroPadShortcut, plain_net, residual_net, weighted_layers


@pytest.mark.parametrize("depth", [8, 20, 32])
def test_plain_and_residual_nets_have_the_same_layers_and_initial_weights(depth):
    plain = plain_net(depth, input_shape=(16, 16, 1), classes=10, seed=3)
    residual = residual_net(depth, input_shape=(16, 16, 1), classes=10, seed=3)
    assert len(weighted_layers(plain)) == len(weighted_layers(residual)) == depth
    assert plain.count_params() == residual.count_params()
    for a, b in zip(plain.get_weights(), residual.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    def adds(model):
        return [layer for layer in model.layers if isinstance(layer, keras.layers.Add)]

    assert len(adds(residual)) == (depth - 2) // 2 and not adds(plain)


def test_stages_halve_the_size_and_double_the_channels():
    model = residual_net(14, input_shape=(16, 16, 3), classes=4, width=8)
    shapes = [tuple(model.get_layer(f"stage{s}_block2_out").output.shape[1:]) for s in (1, 2, 3)]
    assert shapes == [(16, 16, 8), (8, 8, 16), (4, 4, 32)]
    assert tuple(model.output.shape) == (None, 4)


def test_zero_pad_shortcut_subsamples_and_adds_zero_channels(rng):
    x = rng.normal(size=(2, 5, 5, 3)).astype("float32")
    out = np.asarray(ZeroPadShortcut(7, strides=2)(x))
    assert out.shape == (2, 3, 3, 7)
    np.testing.assert_array_equal(out[..., :3], x[:, ::2, ::2, :])
    np.testing.assert_array_equal(out[..., 3:], 0)


def test_other_seeds_give_other_weights():
    a, b = (plain_net(8, input_shape=(8, 8, 1), seed=s) for s in (0, 1))
    assert not np.array_equal(a.get_weights()[0], b.get_weights()[0])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [(dict(depth=9), "6n \\+ 2"), (dict(depth=2), "6n \\+ 2"), (dict(depth=8.0), "6n \\+ 2"),
     (dict(input_shape=(8, 8)), "three positive ints"), (dict(classes=0), "`classes`"),
     (dict(width=0), "`width`"), (dict(seed=-1), "`seed`")],
)
def test_bad_arguments_name_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        plain_net(**{"depth": 8, **kwargs})


def test_without_batch_norm_the_convs_get_a_bias_and_no_bn_layer_is_built():
    model = residual_net(8, input_shape=(8, 8, 1), batch_norm=False)
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in model.layers)
    assert all(layer.use_bias for layer in weighted_layers(model))
    plain = plain_net(8, input_shape=(8, 8, 1), batch_norm=False)
    assert plain.count_params() == model.count_params()
