"""fold_batchnorm: the same predictions with every conv + BN pair as one conv."""

import numpy as np
import pytest
from conftest import PROBABILITY_ATOL, assert_close_to_scale
from tensorflow import keras

import resnet
from resnet.apply.fold import fold_batchnorm, foldable_pairs, folded_weights
from resnet.book.checks import randomize_weights


def _trained_looking(model, seed=0):
    # A fresh model's BN layers are the identity (mean 0, variance 1, gamma 1, beta 0),
    # which would hide a fold that forgot the statistics: random ones, as training leaves.
    return randomize_weights(model, seed=seed)


def test_resnet50_folds_every_conv_and_predicts_the_same():
    model = _trained_looking(resnet.ResNet50(input_shape=(32, 32, 3), classes=5))
    folded = fold_batchnorm(model)
    kinds = [type(layer).__name__ for layer in folded.layers]
    assert kinds.count("BatchNormalization") == 0 and kinds.count("Conv2D") == 53
    assert len(folded.layers) == len(model.layers) - 53
    assert [w.shape for w in folded.get_layer("conv1_conv").weights] == [(7, 7, 3, 64), (64,)]
    x = np.random.default_rng(0).uniform(0, 1, (4, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(folded.predict(x, verbose=0), model.predict(x, verbose=0),
                               atol=PROBABILITY_ATOL)
    features = [keras.Model(m.input, m.get_layer("avg_pool").output) for m in (model, folded)]
    assert_close_to_scale(features[1].predict(x, verbose=0), features[0].predict(x, verbose=0))


def test_the_fold_is_the_algebra_of_one_pair():
    inputs = keras.Input((6, 6, 2))
    x = keras.layers.Conv2D(3, 3, use_bias=False, name="conv")(inputs)
    outputs = keras.layers.BatchNormalization(epsilon=1e-3, name="bn")(x)
    model = _trained_looking(keras.Model(inputs, outputs), seed=1)
    conv, bn = model.get_layer("conv"), model.get_layer("bn")
    assert foldable_pairs(model) == [(conv, bn)]
    kernel, bias = folded_weights(conv, bn)
    gamma, beta, mean, variance = bn.get_weights()
    scale = gamma / np.sqrt(variance + 1e-3)
    # The same float32 operations as the package's, partly in another order: a few ulps
    # (about 1e-7 relative). Folding with a wrong epsilon (1.001e-5, the blocks', instead
    # of this layer's 1e-3) moves the scale by 4e-4 to 7e-4 of itself here: far outside 1e-6.
    np.testing.assert_allclose(kernel, conv.get_weights()[0] * scale, rtol=1e-6)
    np.testing.assert_allclose(bias, beta - mean * scale, rtol=1e-6)


def test_a_bn_that_does_not_follow_a_lone_conv_is_kept():
    inputs = keras.Input((6, 6, 2))
    conv = keras.layers.Conv2D(2, 1, name="conv")(inputs)
    both = keras.layers.Add()([conv, inputs])  # the conv's output has a second use
    outputs = keras.layers.BatchNormalization(name="bn")(keras.layers.Add()([both, conv]))
    model = _trained_looking(keras.Model(inputs, outputs))
    assert foldable_pairs(model) == []
    folded = fold_batchnorm(model)
    x = np.ones((1, 6, 6, 2), dtype="float32")
    np.testing.assert_array_equal(folded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_fold_batchnorm_refuses_what_is_not_a_model():
    with pytest.raises(ValueError, match="`model` must be a keras.Model"):
        fold_batchnorm(keras.layers.Dense(2))
