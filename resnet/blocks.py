"""The two residual blocks of ResNet50: the identity block and the convolutional block.

Both are "bottleneck" blocks (He et al. 2015, Fig. 5 right): a 1x1 conv that
reduces the channels, an fxf conv, and a 1x1 conv that restores them, each
followed by batch normalisation, with a ReLU after the first two and after the
addition of the shortcut. Each block below is written top to bottom, one layer
a line, so that it can be laid next to the figure and ticked off.

Layer names follow keras.applications (``conv2_block1_1_conv``, ``..._0_bn``,
``..._add``) when a block is given a ``name``, so that summaries map onto the
paper's Table 1 and weights transfer between the two networks.
"""

from tensorflow import keras
from tensorflow.keras import layers

from .validation import InvalidParameterError, check_int, check_ints

random_uniform = keras.initializers.RandomUniform
glorot_uniform = keras.initializers.GlorotUniform

# Keras' default. notebooks/05_training.ipynb shows why 0.9 is better on a small
# dataset (resnet.train.recipe.SMALL_DATA_BN_MOMENTUM).
BN_MOMENTUM = 0.99
BN_EPSILON = 1.001e-5  # keras.applications' value (Keras' default is 1e-3).


def conv_seed(seed, position):
    """The seed of one conv of a block seeded ``seed``: ``4 * seed + position``.

    Position 0 is the shortcut conv, 1 to 3 the convs of the main path, so
    blocks with different seeds never share a layer seed (a model gives each
    block its own seed: ``resnet.model.block_seed``).

    >>> conv_seed(0, 1), conv_seed(2, 0)
    (1, 8)
    """
    return 4 * seed + position


def _check_block_args(X, f, filters, seed, s=1):
    shape = getattr(X, "shape", None)
    if shape is None or len(shape) != 4:
        raise InvalidParameterError(
            "`X` must be 4-D, of shape (batch, height, width, channels): a Keras tensor, "
            f"or a TensorFlow tensor or numpy array when called eagerly; got "
            f"{tuple(shape) if shape is not None else type(X).__name__}."
        )
    # Even sizes are legal: 'same' padding puts the extra row and column at the
    # bottom and right. The course's public tests call the blocks with f=2.
    check_int(f, "f", what="a positive int (the kernel size, e.g. 3)")
    check_ints(filters, "filters", 3, what="three positive ints [F1, F2, F3]")
    check_int(s, "s")
    check_int(seed, "seed", 0)


def _name(name, suffix):
    """``name + "_" + suffix``, or None (Keras then picks a unique name) when name is None."""
    return None if name is None else f"{name}_{suffix}"


# Identity blocks start from random_uniform and convolutional blocks from
# glorot_uniform because the original project (and the course version it descends
# from) specified them so, and ResNet50 here keeps that choice. keras.applications
# uses glorot_uniform everywhere; the layers and weight shapes are the same either way.
def identity_block(
    X,
    f,
    filters,
    training=None,
    initializer=random_uniform,
    seed=0,
    name=None,
    *,
    bn_momentum=BN_MOMENTUM,
    bn_epsilon=BN_EPSILON,
):
    """The identity block: ``relu(X + F(X))`` where F is the bottleneck main path.

    Args:
        X: input of shape (batch, H, W, C) with C == filters[2], since the
            input is added unchanged to the main path's output. A Keras tensor
            builds the block into a model; a numpy array or TensorFlow tensor runs
            it eagerly and returns the values.
        f: kernel size of the middle conv, a positive int (3 in ResNet50). Even
            sizes work too: 'same' padding adds the extra row and column at the
            bottom and right.
        filters: [F1, F2, F3], the number of filters of the three convs.
        training: handed to every BatchNormalization call. Leave it as None, so
            that Keras uses batch statistics in ``fit`` and the moving averages in
            ``predict``. The course code this signature comes from passes True,
            which under Keras 2 freezes BN in training mode: predictions then
            depend on the other images in the batch, and the moving averages
            learnt in training are never used. (Keras 3 lets fit and predict
            override it.) The argument exists only so that such code runs
            unchanged.
        initializer: initializer class or factory, called as ``initializer(seed=...)``.
        seed: seeds the three convs, each with its own seed (``conv_seed(seed, 1)``
            to ``conv_seed(seed, 3)``: 4 * seed + 1, 2, 3).
        name: prefix of the layer names (``name + "_1_conv"``, ...); None lets Keras
            choose unique names.
        bn_momentum: momentum of the BN moving averages.
        bn_epsilon: BN epsilon, added to the variance before its square root.
            The default, 1.001e-5, is keras.applications'; Keras' own layer
            default is 1e-3, which the course code uses. To reproduce numbers
            computed with that code, pass ``bn_epsilon=1e-3``: with fresh BN
            statistics each BN divides by sqrt(1 + epsilon), so after the main
            path's three BNs the two choices differ by about 1.5e-3 relative.

    Returns:
        Tensor of shape (batch, H, W, F3).
    """
    _check_block_args(X, f, filters, seed)
    if X.shape[-1] != filters[2]:
        raise InvalidParameterError(
            f"identity_block adds its input to the main path's output, so the input's "
            f"channels ({X.shape[-1]}) must equal filters[2] ({filters[2]}); use "
            "convolutional_block to change the number of channels."
        )
    F1, F2, F3 = filters
    bn = dict(momentum=bn_momentum, epsilon=bn_epsilon)  # BN over the last (channel) axis

    # Main path, conv seeds conv_seed(seed, 1 to 3).        X: (B, H, W, F3)
    x = layers.Conv2D(F1, 1, kernel_initializer=initializer(seed=conv_seed(seed, 1)),
                      name=_name(name, "1_conv"))(X)  # (B, H, W, F1): 1x1 reduces
    x = layers.BatchNormalization(**bn, name=_name(name, "1_bn"))(x, training=training)
    x = layers.Activation("relu", name=_name(name, "1_relu"))(x)

    x = layers.Conv2D(F2, f, padding="same",
                      kernel_initializer=initializer(seed=conv_seed(seed, 2)),
                      name=_name(name, "2_conv"))(x)  # (B, H, W, F2): fxf, size kept
    x = layers.BatchNormalization(**bn, name=_name(name, "2_bn"))(x, training=training)
    x = layers.Activation("relu", name=_name(name, "2_relu"))(x)

    x = layers.Conv2D(F3, 1, kernel_initializer=initializer(seed=conv_seed(seed, 3)),
                      name=_name(name, "3_conv"))(x)  # (B, H, W, F3): 1x1 restores
    x = layers.BatchNormalization(**bn, name=_name(name, "3_bn"))(x, training=training)

    # Shortcut: X itself, added before the last ReLU.
    x = layers.Add(name=_name(name, "add"))([X, x])  # (B, H, W, F3)
    return layers.Activation("relu", name=_name(name, "out"))(x)


def convolutional_block(
    X,
    f,
    filters,
    s=2,
    training=None,
    initializer=glorot_uniform,
    seed=0,
    name=None,
    *,
    bn_momentum=BN_MOMENTUM,
    bn_epsilon=BN_EPSILON,
):
    """The convolutional block: ``relu(P(X) + F(X))`` with a projection shortcut P.

    The main path F is the identity block's, with stride ``s`` on its first 1x1
    conv (ResNet v1, as in keras.applications). Its output has F3 channels and
    H/s x W/s positions, so X cannot be added as it is: the shortcut P is a 1x1
    conv with stride ``s`` followed by BN, which projects X to that shape
    (option B of He et al. 2015, section 3.3).

    Args:
        X: input of shape (batch, H, W, C), any C: a Keras tensor, or a numpy
            array or TensorFlow tensor to run the block eagerly.
        f: kernel size of the middle conv, a positive int (3 in ResNet50). Even
            sizes work too: 'same' padding adds the extra row and column at the
            bottom and right.
        filters: [F1, F2, F3], the number of filters of the three convs.
        s: stride of the first 1x1 conv and of the shortcut conv (>= 1).
        training: handed to every BatchNormalization call; leave it None (see
            ``identity_block`` for why True is a mistake).
        initializer: initializer class or factory, called as ``initializer(seed=...)``.
        seed: seeds the four convs, each with its own seed (``conv_seed``: 4 * seed
            + 0, 1, 2, 3).
        name: prefix of the layer names; None lets Keras choose unique names.
        bn_momentum: momentum of the BN moving averages.
        bn_epsilon: BN epsilon (see ``identity_block``; ``1e-3`` reproduces the
            course code's numbers).

    Returns:
        Tensor of shape (batch, ceil(H/s), ceil(W/s), F3).
    """
    _check_block_args(X, f, filters, seed, s)
    F1, F2, F3 = filters
    bn = dict(momentum=bn_momentum, epsilon=bn_epsilon)  # BN over the last (channel) axis

    # Shortcut, conv seed conv_seed(seed, 0). Built first, as keras.applications does,
    # so that both networks list their weights in the same order.  X: (B, H, W, C)
    shortcut = layers.Conv2D(F3, 1, strides=s,
                             kernel_initializer=initializer(seed=conv_seed(seed, 0)),
                             name=_name(name, "0_conv"))(X)  # (B, H/s, W/s, F3): projection
    shortcut = layers.BatchNormalization(**bn, name=_name(name, "0_bn"))(
        shortcut, training=training)

    # Main path, conv seeds conv_seed(seed, 1 to 3).
    x = layers.Conv2D(F1, 1, strides=s,
                      kernel_initializer=initializer(seed=conv_seed(seed, 1)),
                      name=_name(name, "1_conv"))(X)  # (B, H/s, W/s, F1): 1x1, stride s
    x = layers.BatchNormalization(**bn, name=_name(name, "1_bn"))(x, training=training)
    x = layers.Activation("relu", name=_name(name, "1_relu"))(x)

    x = layers.Conv2D(F2, f, padding="same",
                      kernel_initializer=initializer(seed=conv_seed(seed, 2)),
                      name=_name(name, "2_conv"))(x)  # (B, H/s, W/s, F2): fxf, size kept
    x = layers.BatchNormalization(**bn, name=_name(name, "2_bn"))(x, training=training)
    x = layers.Activation("relu", name=_name(name, "2_relu"))(x)

    x = layers.Conv2D(F3, 1, kernel_initializer=initializer(seed=conv_seed(seed, 3)),
                      name=_name(name, "3_conv"))(x)  # (B, H/s, W/s, F3): 1x1 restores
    x = layers.BatchNormalization(**bn, name=_name(name, "3_bn"))(x, training=training)

    x = layers.Add(name=_name(name, "add"))([shortcut, x])  # (B, H/s, W/s, F3)
    return layers.Activation("relu", name=_name(name, "out"))(x)
