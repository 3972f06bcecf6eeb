"""ResNet50 (and its deeper siblings) assembled from the two blocks.

The layout follows He et al. 2015, Table 1, and keras.applications' ResNet v1,
so that the from-scratch network has the same weights, in the same order, as
``keras.applications.ResNet50``:

    stem    zero-pad 3, 7x7/2 conv (64), BN, ReLU, zero-pad 1, 3x3/2 max-pool
    conv2   3 blocks, filters [64, 64, 256],    stride 1
    conv3   4 blocks, filters [128, 128, 512],  stride 2
    conv4   6 blocks, filters [256, 256, 1024], stride 2
    conv5   3 blocks, filters [512, 512, 2048], stride 2
    head    global average pooling, dense softmax classifier

Each stage is a convolutional block followed by identity blocks. The course
version this project descends from used a 2x2 average pool with a Flatten and
no padding before the max-pool; at 64x64 inputs that has the same parameter
count, but global average pooling works for any input size and the pool
padding is what the published weights expect.
"""

import inspect

import numpy as np
from tensorflow import keras
from tensorflow.keras import layers

from .blocks import (
    BN_EPSILON,
    BN_MOMENTUM,
    conv_seed,
    convolutional_block,
    glorot_uniform,
    identity_block,
    random_uniform,
)
from .validation import InvalidParameterError, check_int, check_ints, is_int

# Table 1 of the paper, conv2 to conv5: the blocks per stage for each depth (the only
# difference between the three networks) and every block's filters [F1, F2, F3].
STAGE_BLOCKS = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}
STAGE_FILTERS = ((64, 64, 256), (128, 128, 512), (256, 256, 1024), (512, 512, 2048))
# The smallest input: the arithmetic sets none beyond one pixel. conv1 (7x7, stride 2) sees
# the image padded by 3 on each side and pool1 (3x3, stride 2) by 1, and the blocks' 3x3
# convolutions pad 'same', so every layer maps a map of at least 1x1 to one of at least
# 1x1. keras.applications asks for 32x32 or more, the size whose five halvings end at
# exactly 1x1; below it conv5 (and, from 16 down, conv4) also runs on 1x1 maps, where a
# 3x3 kernel sees only its centre. Small images are for small data (the 8x8 digits).
MIN_INPUT_SIZE = 1


def block_seed(seed, block):
    """The seed of block number ``block`` (1, 2, ... across the stages) of a model's ``seed``.

    Block 0 is the stem and the classifier. Each block turns its seed into one seed per
    conv (``resnet.blocks.conv_seed``), so every layer of every model gets its own seed,
    and two models' seeds never meet below 1000 blocks.

    >>> block_seed(0, 1), block_seed(3, 16)
    (1, 3016)
    """
    return 1000 * seed + block


def stack_blocks(x, filters, blocks, stride=2, first_seed=0, name=None, **bn):
    """One stage: a convolutional block, then ``blocks - 1`` identity blocks.

    Args:
        x: input (batch, H, W, C).
        filters: [F1, F2, F3] of every block of the stage.
        blocks: the number of blocks (3, 4, 6 or 3 in ResNet50).
        stride: the first block's stride: 1 in conv2 (the max-pool has just
            halved the size), 2 in the later stages.
        first_seed: the first block's seed; block i of the stage gets
            ``first_seed + i - 1``.
        name: the stage's name ("conv2"); blocks are "conv2_block1", ...
        **bn: ``bn_momentum`` and ``bn_epsilon``, handed to every block.

    Returns:
        Tensor of shape (batch, ceil(H/stride), ceil(W/stride), F3).
    """
    x = convolutional_block(x, 3, list(filters), s=stride, initializer=glorot_uniform,
                            seed=first_seed, name=f"{name}_block1", **bn)
    for i in range(2, blocks + 1):
        x = identity_block(x, 3, list(filters), initializer=random_uniform,
                           seed=first_seed + i - 1, name=f"{name}_block{i}", **bn)
    return x


def _check_model_args(input_shape, classes, seed, zero_init_residual, weights):
    if (
        not isinstance(input_shape, (list, tuple))
        or len(input_shape) != 3
        or not all(is_int(n) for n in input_shape)
    ):
        raise InvalidParameterError(
            f"`input_shape` must be three ints (height, width, channels), got {input_shape!r}."
        )
    height, width, channels = input_shape
    if height < MIN_INPUT_SIZE or width < MIN_INPUT_SIZE:
        raise InvalidParameterError(
            f"`input_shape` must be at least {MIN_INPUT_SIZE}x{MIN_INPUT_SIZE} (height and "
            f"width are pixels), got {height}x{width}."
        )
    if channels < 1:
        raise InvalidParameterError(
            f"`input_shape` must have a positive number of channels (1 for greyscale, 3 for "
            f"RGB), got {channels}."
        )
    check_int(classes, "classes", what="an int >= 1")
    check_int(seed, "seed", 0)
    if not isinstance(zero_init_residual, bool):
        raise InvalidParameterError(
            f"`zero_init_residual` must be True or False, got {zero_init_residual!r}.")
    if zero_init_residual and weights is not None:
        raise InvalidParameterError(
            "`zero_init_residual` is for training from scratch: give it with "
            f"weights=None, not weights={weights!r}.")


def _stem(inputs, seed, bn_momentum, bn_epsilon):
    """conv1 and pool1: (B, H, W, C) -> (B, H/4, W/4, 64); ``seed`` is block 0's."""
    x = layers.ZeroPadding2D(padding=3, name="conv1_pad")(inputs)
    x = layers.Conv2D(64, 7, strides=2, kernel_initializer=glorot_uniform(
        seed=conv_seed(seed, 0)), name="conv1_conv")(x)  # (B, H/2, W/2, 64)
    x = layers.BatchNormalization(momentum=bn_momentum, epsilon=bn_epsilon, name="conv1_bn")(x)
    x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(padding=1, name="pool1_pad")(x)
    return layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)


def _classifier(x, classes, seed):
    """The head: global average pooling and the softmax, (B, h, w, C) -> (B, classes).

    ``seed`` is block 0's, as the stem's. The classifier always computes in float32: under
    a mixed_float16 policy (resnet.train.speed) a float16 softmax would round small
    probabilities to 0.
    """
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)  # (B, C)
    return layers.Dense(
        classes, activation="softmax", kernel_initializer=glorot_uniform(
            seed=conv_seed(seed, 1)), name="predictions", dtype="float32",
    )(x)


def build_resnet(
    blocks_per_stage,
    input_shape=(64, 64, 3),
    classes=2,
    seed=0,
    *,
    bn_momentum=BN_MOMENTUM,
    bn_epsilon=BN_EPSILON,
    name="resnet",
    weights=None,
    zero_init_residual=False,
):
    """A bottleneck ResNet v1 with ``blocks_per_stage`` blocks in conv2 to conv5.

    ``ResNet50``, ``ResNet101`` and ``ResNet152`` call it with ``STAGE_BLOCKS[depth]``;
    call it yourself for another depth, e.g. ResNet-200's ``(3, 24, 36, 3)``. The network
    has 2 + 3 * sum(blocks_per_stage) weighted layers. See ``ResNet50`` for the arguments.
    """
    check_ints(blocks_per_stage, "blocks_per_stage", 4, what="four positive ints")
    _check_model_args(input_shape, classes, seed, zero_init_residual, weights)
    depth = 2 + 3 * sum(blocks_per_stage)
    weights_path = None
    if weights is not None:
        # Imported here, so that blocks.py and model.py copied alone build a fresh model.
        from . import weights as _weights

        # Checked (and "imagenet" downloaded) before building: a bad value fails fast.
        weights_path = _weights.resolve(weights, depth, input_shape, classes)
    bn = dict(bn_momentum=bn_momentum, bn_epsilon=bn_epsilon)
    head_seed = block_seed(seed, 0)  # the stem and the classifier

    inputs = keras.Input(shape=tuple(input_shape), name="input_layer")  # (B, H, W, C)
    x = _stem(inputs, head_seed, **bn)  # (B, H/4, W/4, 64)

    # conv2 keeps the size (the max-pool has just halved it); conv3, conv4 and conv5 halve
    # it and double the channels: (B, H/4, W/4, 256) -> (H/8, 512) -> (H/16, 1024) -> (H/32, 2048)
    first_block = 1  # blocks are numbered 1, 2, ... across the stages
    for stage, (blocks, filters) in enumerate(zip(blocks_per_stage, STAGE_FILTERS,
                                                  strict=True), start=2):
        x = stack_blocks(x, filters, blocks, stride=1 if stage == 2 else 2,
                         first_seed=block_seed(seed, first_block), name=f"conv{stage}", **bn)
        first_block += blocks

    outputs = _classifier(x, classes, head_seed)  # (B, classes)
    model = keras.Model(inputs, outputs, name=name)
    if zero_init_residual:
        zero_residual_gammas(model)
    if weights_path is not None:
        _weights.load(model, weights_path, depth, input_shape, classes)
        if _weights.is_imagenet(weights):  # the model carries the preprocessing it expects
            from .preprocessing import set_preprocessing

            set_preprocessing(model, "imagenet_caffe")
    return model


def _resnet(depth, doc):
    """Make the builder ``ResNet{depth}``: ``build_resnet`` with ``STAGE_BLOCKS[depth]``.

    ResNet50, ResNet101 and ResNet152 are each a real function with this one signature
    (``build_resnet``'s arguments after ``blocks_per_stage``, with ``name="resnet{depth}"``),
    so that ``help`` and ``inspect.signature`` show their parameters; ``doc`` is the
    docstring.
    """

    def builder(
        input_shape=(64, 64, 3),
        classes=2,
        seed=0,
        *,
        bn_momentum=BN_MOMENTUM,
        bn_epsilon=BN_EPSILON,
        name=f"resnet{depth}",
        weights=None,
        zero_init_residual=False,
    ):
        return build_resnet(STAGE_BLOCKS[depth], input_shape, classes, seed,
                            bn_momentum=bn_momentum, bn_epsilon=bn_epsilon, name=name,
                            weights=weights, zero_init_residual=zero_init_residual)

    builder.__name__ = builder.__qualname__ = f"ResNet{depth}"
    builder.__doc__ = inspect.cleandoc(doc)
    return builder


ResNet50 = _resnet(50, """
    ResNet-50 from scratch: 16 bottleneck blocks (3, 4, 6, 3), 50 weighted layers.

    The paper's Table 1 (He et al. 2015), laid out as keras.applications.ResNet50, with
    the same layer names and weights in the same order.

    Args:
        input_shape: (height, width, channels), any size (keras.applications asks for
            32x32 or more; the book trains on 16x16 digits). (64, 64, 3) for
            RGB, (64, 64, 1) for greyscale, any other size.
        classes: number of classes of the softmax classifier (2 for binary).
        seed: the model's seed; every layer gets its own seed derived from it
            (``block_seed``, ``resnet.blocks.conv_seed``), so the same seed gives
            identical weights.
        bn_momentum: momentum of every BN layer's moving averages (Keras' 0.99
            by default; 0.9 tracks the weights faster on small datasets).
        bn_epsilon: epsilon of every BN layer (keras.applications' 1.001e-5).
        name: the model's name. A model given ImageNet's weights records that it
            expects ImageNet's preprocessing (``resnet.preprocessing_name(model)`` is
            "imagenet_caffe"), which ``resnet.evaluate`` and the saved file keep.
        weights: None (fresh initialisation), "imagenet" (keras.applications'
            published ImageNet weights, downloaded once; only for
            input_shape=(224, 224, 3) and classes=1000; without a network this
            raises ConnectionError), or the path to a weights file (their
            ``.h5``, or a ``.weights.h5`` saved from either network). A
            missing file raises FileNotFoundError, weights that do not fit the
            model's shape a ValueError. See ``resnet.weights``.
        zero_init_residual: zero the gamma of the last BN layer of every block,
            so that each block's main path starts at zero (Goyal et al. 2017):
            identity blocks start as the identity, convolutional blocks as the
            ReLU of their projection shortcut; the
            book's training recipe does. False keeps the network identical to
            keras.applications' at initialisation.

    Returns:
        An uncompiled ``keras.Model`` mapping (batch, *input_shape) images to
        (batch, classes) probabilities.

    Raises:
        InvalidParameterError: (a ValueError and a TypeError) an argument of the
            wrong type or value, named in the message.
    """)

ResNet101 = _resnet(101, """
    ResNet-101: ResNet50 with 23 blocks in conv4 (3, 4, 23, 3), 101 weighted layers.

    The arguments are ``ResNet50``'s; ``weights="imagenet"`` loads keras.applications'
    ResNet101 weights.
    """)

ResNet152 = _resnet(152, """
    ResNet-152: 8 blocks in conv3 and 36 in conv4 (3, 8, 36, 3), 152 weighted layers.

    The arguments are ``ResNet50``'s; ``weights="imagenet"`` loads keras.applications'
    ResNet152 weights.
    """)


def zero_residual_gammas(model):
    """Set the scale (gamma) of the last BN layer of every block to zero.

    Each block's main path then outputs zeros, so ``relu(shortcut + 0)``: an
    identity block passes its (already non-negative) input through unchanged,
    and the network starts as a much shallower one that the blocks grow out
    of as their gammas are learned (Goyal et al. 2017, "Accurate, Large
    Minibatch SGD", section 5.1). Only the ``convN_blockM_3_bn`` layers change;
    the shortcut's BN (``_0_bn``) and the stem's keep gamma = 1.

    Returns:
        The names of the layers whose gamma was zeroed.
    """
    zeroed = []
    for layer in model.layers:
        if isinstance(layer, layers.BatchNormalization) and layer.name.endswith("_3_bn"):
            layer.gamma.assign(np.zeros(tuple(layer.gamma.shape), dtype="float32"))
            zeroed.append(layer.name)
    return zeroed
