"""The calls that the course's public tests make, made on our blocks.

A student who copies ``resnet/`` into the course's coursework meets these calls first:
the blocks called eagerly on a numpy batch of three constant images (filled with -1, 1
and 3), an even kernel size (f=2), an all-ones initializer given as a lambda, and both
values of ``training``. Our checks are our own: what must hold for any correct block.
"""

import numpy as np
import pytest
from tensorflow import keras

import resnet

KERAS_EPSILON = 1e-3  # Keras' BatchNormalization default, which the course's code uses


@pytest.fixture
def X():
    """Three 4x4x3 images filled with -1, 1 and 3, as the course's tests build them."""
    return np.concatenate([np.full((1, 4, 4, 3), v) for v in (-1, 1, 3)]).astype(np.float32)


def _identity(X, training, f=2, filters=(4, 4, 3), **kwargs):
    out = resnet.identity_block(X, f=f, filters=list(filters),
                                initializer=lambda seed=0: keras.initializers.Constant(1),
                                training=training, **kwargs)
    return np.asarray(out)


def test_the_identity_block_takes_the_course_calls(X):
    inference = _identity(X, training=False)
    training = np.asarray(resnet.identity_block(
        X, f=3, filters=[3, 3, 3], initializer=lambda seed=7: keras.initializers.Constant(1),
        training=True))
    for out in (inference, training):
        assert out.shape == (3, 4, 4, 3)
        assert out.min() >= 0  # the block ends with a ReLU
    # The image of -1: the first conv sums three -1s, BN keeps the sign, ReLU gives 0,
    # so the main path is 0 and relu(-1 + 0) = 0.
    np.testing.assert_array_equal(inference[0], 0)


def test_the_convolutional_block_takes_the_course_calls(X):
    inference, training = (
        np.asarray(resnet.convolutional_block(X, f=2, filters=[2, 4, 6], training=t))
        for t in (False, True))
    for out in (inference, training):
        assert out.shape == (3, 2, 2, 6)  # stride 2 halves 4x4; F3 = 6 channels
        assert out.min() >= 0
    # With fresh BN statistics (mean 0, variance 1) and zero biases, inference is
    # positively homogeneous: every layer is linear or a ReLU, so the image of 3 gives
    # three times the image of 1 (up to float32 rounding, ~1e-7 relative).
    np.testing.assert_allclose(inference[2], 3 * inference[1], rtol=1e-5, atol=1e-6)
    # Batch statistics break that: each BN subtracts the mean over the three images.
    assert not np.allclose(training[2], 3 * training[1], rtol=1e-2)


def test_batch_normalisation_acts_differently_in_training_and_inference(X):
    kwargs = dict(f=3, filters=(3, 3, 3))
    inference, training = (_identity(X, training=t, **kwargs) for t in (False, True))
    # Inference divides by sqrt(1 + eps) only: in the middle of the image of 1 the convs
    # sum 3, then 27 (3x3x3), then 3 terms, so the output is about 1 + 243. Training
    # normalises over the batch, which brings every layer's output to order 1.
    assert inference[1].max() > 100 and training[1].max() < 10


def _closed_form(value, eps, taps):
    """The identity block's output on a constant image, all weights 1, fresh BN.

    Inference-mode BN with mean 0, variance 1, gamma 1 and beta 0 is x / s with
    s = sqrt(1 + eps). For an image of ``value`` > 0 with 3 channels:
    first 1x1 conv (3 -> 4): 3 v, BN: 3 v / s, ReLU keeps it;
    2x2 conv (4 -> 4) over ``taps`` of its 4 positions inside the image: 4 * taps * 3 v / s,
    BN: / s; last 1x1 conv (4 -> 3): 4 * (that), BN: / s. Adding the input:
    v + 48 * taps * v / s**3, which is 1 + 192 / (1 + eps)**1.5 for v = 1 and taps = 4.
    """
    return value + 48 * taps * value / (1 + eps) ** 1.5


def test_the_identity_block_matches_its_closed_form_with_keras_default_epsilon(X):
    out = _identity(X, training=False, bn_epsilon=KERAS_EPSILON)
    for image, value in ((1, 1.0), (2, 3.0)):
        expected = np.empty((4, 4))
        expected[:, :] = _closed_form(value, KERAS_EPSILON, taps=4)
        # 'same' with an even kernel pads only the bottom row and the right column: a
        # window there holds 2 of its 4 taps inside the image (1 in the corner).
        expected[-1, :] = expected[:, -1] = _closed_form(value, KERAS_EPSILON, taps=2)
        expected[-1, -1] = _closed_form(value, KERAS_EPSILON, taps=1)
        # Sums of integers are exact in float32; the three divisions by s and the rounding
        # of 1/s round to ~1e-7 relative. keras.applications' epsilon (1.001e-5) instead of
        # 1e-3 would move the result by 1.5e-3 relative.
        for channel in range(3):
            np.testing.assert_allclose(out[image, :, :, channel], expected, rtol=1e-5)
    assert out[1, 0, 0, 0] == pytest.approx(1 + 192 / (1 + KERAS_EPSILON) ** 1.5, rel=1e-5)


def test_the_main_path_is_halved_on_the_padded_border(X):
    # On a constant image, the main path F = output - input at the right column (and the
    # bottom row) is half of an interior one: half of the 2x2 window lies in the padding.
    # Whole outputs are not halved, since the input added to F is the same everywhere.
    main_path = _identity(X, training=False) - X
    for image in (1, 2):
        F = main_path[image, ..., 0]
        interior = F[0, 0]
        assert interior > 0
        np.testing.assert_allclose(F[:-1, :-1], interior, rtol=1e-5)  # no padding top or left
        np.testing.assert_allclose(F[:-1, -1], interior / 2, rtol=1e-5)
        np.testing.assert_allclose(F[-1, :-1], interior / 2, rtol=1e-5)
        np.testing.assert_allclose(F[-1, -1], interior / 4, rtol=1e-5)


def test_eager_calls_take_tensorflow_tensors_too(X):
    import tensorflow as tf

    from_numpy = _identity(X, training=False)
    np.testing.assert_array_equal(_identity(tf.constant(X), training=False), from_numpy)
