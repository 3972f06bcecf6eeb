"""resnet.book.checks: passes the package's own functions and a correct reader's, and names
the mistake in deliberately broken ones."""

import subprocess
import sys

import pytest
from tensorflow import keras
from tensorflow.keras import layers

import resnet
from resnet.book.checks import check_convolutional_block, check_identity_block, check_resnet50

glorot_uniform = keras.initializers.GlorotUniform


def _block(X, f, filters, s=1, training=None, shortcut=True, stride_on=1, bn_axis=3,
           padding="same", add_after_relu=False, final_relu=True, order=(0, 1, 2),
           hard_training=None, shortcut_bn=True, shortcut_stride=True):
    """A reader's block in the course's order (main path first, then the shortcut), with
    switches for the typical mistakes. ``s=None`` makes an identity block."""
    projection, s = s is not None, s or 1
    F = [filters[i] for i in order]
    bn_training = training if hard_training is None else hard_training
    X_shortcut = X

    def conv_bn(x, n, k, stride, pad="valid"):
        x = layers.Conv2D(n, k, strides=stride, padding=pad,
                          kernel_initializer=glorot_uniform(seed=0))(x)
        return layers.BatchNormalization(axis=bn_axis)(x, training=bn_training)

    x = conv_bn(X, F[0], 1, s if stride_on == 1 else 1)
    x = layers.Activation("relu")(x)
    x = conv_bn(x, F[1], f, s if stride_on == 2 else 1, padding)
    x = layers.Activation("relu")(x)
    x = conv_bn(x, F[2], 1, 1)
    if projection and shortcut:
        X_shortcut = layers.Conv2D(F[2], 1, strides=s if shortcut_stride else 1)(X_shortcut)
        if shortcut_bn:
            X_shortcut = layers.BatchNormalization(axis=bn_axis)(X_shortcut,
                                                                  training=bn_training)
    if add_after_relu:
        return layers.Add()([layers.Activation("relu")(x), X_shortcut])
    x = layers.Add()([x, X_shortcut])
    return layers.Activation("relu")(x) if final_relu else x


def identity(**mistake):
    def identity_block(X, f, filters, training=True, initializer=None):
        return _block(X, f, filters, None, training, **mistake)
    return identity_block


def convolutional(**mistake):
    def convolutional_block(X, f, filters, s=2, training=True, initializer=None):
        return _block(X, f, filters, s, training, **mistake)
    return convolutional_block


def test_the_package_blocks_pass(capsys):
    check_identity_block(resnet.identity_block)
    check_convolutional_block(resnet.convolutional_block)
    assert capsys.readouterr().out.splitlines() == [
        "output shape (None, 15, 15, 256): ok",
        "parameter count 44,768: ok",
        "layer kinds (3 Conv2D, 3 BatchNormalization, 3 ReLU, 1 Add): ok",
        "numbers on fixed inputs (max difference < 1e-04): ok",
        "All checks passed.",
        "output shape (None, 8, 8, 256): ok",
        "parameter count 47,504: ok",
        "layer kinds (4 Conv2D, 4 BatchNormalization, 3 ReLU, 1 Add): ok",
        "numbers on fixed inputs (max difference < 1e-04): ok",
        "All checks passed.",
    ]


def test_a_correct_reader_block_in_course_order_passes(capsys):
    # Main path first, shortcut last, training=True by default, BN epsilon 1e-3 (Keras'
    # default, the course's): all fine; the reference adopts the reader's epsilon.
    check_identity_block(identity())
    check_convolutional_block(convolutional())
    out = capsys.readouterr().out
    assert out.count("All checks passed.") == 2
    assert "note: your BatchNormalization epsilon is 0.001" in out


def test_operators_instead_of_layers_pass():
    def identity_block(X, f, filters):
        x = X
        for i, n in enumerate(filters):
            x = layers.Conv2D(n, f if i == 1 else 1, padding="same")(x)
            x = layers.BatchNormalization(epsilon=1.001e-5)(x)
            x = layers.ReLU()(x) if i < 2 else x
        return layers.ReLU()(x + X)

    check_identity_block(identity_block)


@pytest.mark.parametrize(
    ("mistake", "match"),
    [(dict(add_after_relu=True),
      r"numbers(.|\n)*all convs and BNs agree(.|\n)*added after the final ReLU"),
     (dict(final_relu=False), r"layer kinds(.|\n)*no ReLU after the addition"),
     (dict(bn_axis=1), r"parameter count(.|\n)*BatchNormalization on axis 1"),
     (dict(padding="valid"), r"raised(.|\n)*padding='valid' on the 3x3 conv"),
     (dict(order=(1, 0, 2)), r"cannot copy(.|\n)*wrong order"),
     (dict(hard_training=True),
      r"numbers(.|\n)*differs is that of the first BN(.|\n)*called with training=True")],
)
def test_identity_block_mistakes_are_diagnosed(mistake, match):
    with pytest.raises(AssertionError, match=match):
        check_identity_block(identity(**mistake))


@pytest.mark.parametrize(
    ("mistake", "match"),
    [(dict(stride_on=2), r"numbers(.|\n)*stride is on the 3x3 conv instead of the first 1x1"),
     (dict(shortcut=False), r"raised(.|\n)*no projection on the shortcut"),
     (dict(shortcut_stride=False), r"raised(.|\n)*downsampled differently"),
     (dict(stride_on=0), r"raised(.|\n)*downsampled differently"),
     (dict(shortcut_bn=False), r"parameter count(.|\n)*no BatchNormalization after the short"),
     (dict(stride_on=0, shortcut_stride=False),
      r"output shape(.|\n)*strides=\(s, s\) belong on the first 1x1 conv"),
     (dict(add_after_relu=True), r"added after the final ReLU")],
)
def test_convolutional_block_mistakes_are_diagnosed(mistake, match):
    with pytest.raises(AssertionError, match=match):
        check_convolutional_block(convolutional(**mistake))


def test_a_function_that_returns_nothing_is_told_to_return_x():
    def identity_block(X, f, filters):
        layers.Add()([X, X])

    with pytest.raises(AssertionError, match="does it end with `return X`"):
        check_identity_block(identity_block)


def _resnet50(pool_padding=True, conv2_stride=1, course_head=True):
    """A reader's ResNet50 from the package's blocks, with the stem of the course."""
    def ResNet50(input_shape=(64, 64, 3), classes=6):
        inputs = keras.Input(input_shape)
        x = layers.ZeroPadding2D(3)(inputs)
        x = layers.Conv2D(64, 7, strides=2)(x)
        x = layers.Activation("relu")(layers.BatchNormalization(epsilon=1.001e-5)(x))
        if pool_padding:
            x = layers.ZeroPadding2D(1)(x)
        x = layers.MaxPooling2D(3, strides=2)(x)
        for stage, blocks in enumerate((3, 4, 6, 3)):
            F = [64 * 2**stage, 64 * 2**stage, 256 * 2**stage]
            x = resnet.convolutional_block(x, 3, F, s=conv2_stride if stage == 0 else 2)
            for _ in range(blocks - 1):
                x = resnet.identity_block(x, 3, F)
        if course_head:
            x = layers.Flatten()(layers.AveragePooling2D(2)(x))
        else:
            x = layers.GlobalAveragePooling2D()(x)
        return keras.Model(inputs, layers.Dense(classes, activation="softmax")(x))
    return ResNet50


@pytest.mark.slow
def test_resnet50_checks(capsys):
    check_resnet50(resnet.ResNet50)
    check_resnet50(_resnet50())  # the course's head is the same function at 64x64
    assert capsys.readouterr().out.count("All checks passed.") == 2
    with pytest.raises(AssertionError, match="layer kinds(.|\n)*no ZeroPadding2D"):
        check_resnet50(_resnet50(pool_padding=False))
    with pytest.raises(AssertionError, match="numbers(.|\n)*conv2's first block uses s=1"):
        check_resnet50(_resnet50(conv2_stride=2, course_head=False))


@pytest.mark.slow  # a fresh process importing TensorFlow
def test_import_resnet_does_not_import_the_checks():
    code = "import sys, resnet; print('resnet.book.checks' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=300)
    assert result.stdout.strip() == "False", result.stderr
