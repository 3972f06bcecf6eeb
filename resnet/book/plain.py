"""Plain and residual networks of any depth, for the degradation experiment.

These are the small networks of He et al. 2015, section 4.2 (the CIFAR-10
experiment behind Fig. 1 and Fig. 6), built so that the plain network and the
residual one differ only by their shortcuts:

    stem    3x3 conv (width), BN, ReLU                        (B, H, W, width)
    stage1  n blocks of two 3x3 convs, width filters          (B, H, W, width)
    stage2  n blocks, 2 * width filters, the first with stride 2
    stage3  n blocks, 4 * width filters, the first with stride 2
    head    global average pooling, dense softmax classifier  (B, classes)

That is 6n + 2 weighted layers (8, 14, 20, 32, 56, ...). A block is
conv-BN-ReLU-conv-BN, then ReLU; the residual network adds the block's input
before that last ReLU. Where a stage halves the size and doubles the channels,
the shortcut subsamples its input and pads the new channels with zeros (the
paper's option A), which has no weights: both networks have exactly the same
layers and parameters, and differ only by the additions.

Why not ``resnet.blocks``: these are the paper's CIFAR networks, not ResNet50.
Their block is two 3x3 convs (not the 1x1-3x3-1x1 bottleneck), their convs
have no bias under BN and He-normal initialisation, their shortcut is option A
(no weights, so that plain and residual networks have the same parameters),
and BN can be switched off. Only the argument checks are shared
(``resnet.validation``).
"""

import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers

from ..validation import InvalidParameterError, check_int, check_ints, is_int


class ZeroPadShortcut(layers.Layer):
    """Option A shortcut: subsample by ``strides`` and zero-pad to ``channels``.

    (B, H, W, C) -> (B, ceil(H/strides), ceil(W/strides), channels); no weights.
    """

    def __init__(self, channels, strides=2, **kwargs):
        super().__init__(**kwargs)
        self.channels = channels
        self.strides = strides

    def call(self, x):
        x = x[:, :: self.strides, :: self.strides, :]
        extra = self.channels - x.shape[-1]
        return tf.pad(x, [[0, 0], [0, 0], [0, 0], [0, extra]])

    def compute_output_shape(self, input_shape):
        batch, height, width, _ = input_shape
        shrink = lambda n: None if n is None else -(-n // self.strides)  # noqa: E731
        return (batch, shrink(height), shrink(width), self.channels)

    def get_config(self):
        return {**super().get_config(), "channels": self.channels, "strides": self.strides}


def _check_args(depth, input_shape, classes, width, seed):
    if not is_int(depth) or depth < 8 or (depth - 2) % 6:
        raise InvalidParameterError(
            f"`depth` must be 6n + 2 for some n >= 1 (8, 14, 20, 26, 32, ..., 56, ...), "
            f"got {depth!r}."
        )
    check_ints(input_shape, "input_shape", 3,
               what="three positive ints (height, width, channels)")
    check_int(classes, "classes")
    check_int(width, "width")
    check_int(seed, "seed", 0)


def _conv_bn(x, filters, *, strides, seed, name, batch_norm):
    # No conv bias under BN: the BN that follows has its own (beta).
    x = layers.Conv2D(
        filters, 3, strides=strides, padding="same", use_bias=not batch_norm,
        kernel_initializer=keras.initializers.HeNormal(seed=seed), name=f"{name}_conv",
    )(x)
    if not batch_norm:
        return x
    return layers.BatchNormalization(momentum=0.9, name=f"{name}_bn")(x)


def _network(depth, input_shape, classes, width, seed, *, residual, name, batch_norm):
    _check_args(depth, input_shape, classes, width, seed)
    n = (depth - 2) // 6
    seeds = iter(range(seed * 10_000, seed * 10_000 + depth))  # one seed per weighted layer

    inputs = keras.Input(shape=tuple(input_shape), name="input_layer")  # (B, H, W, C)
    x = _conv_bn(inputs, width, strides=1, seed=next(seeds), name="stem", batch_norm=batch_norm)
    x = layers.Activation("relu", name="stem_relu")(x)  # (B, H, W, width)
    for stage in range(3):
        filters = width * 2**stage
        for block in range(n):
            strides = 2 if stage > 0 and block == 0 else 1
            prefix = f"stage{stage + 1}_block{block + 1}"
            shortcut = x
            x = _conv_bn(x, filters, strides=strides, seed=next(seeds), name=f"{prefix}_1",
                         batch_norm=batch_norm)
            x = layers.Activation("relu", name=f"{prefix}_1_relu")(x)
            x = _conv_bn(x, filters, strides=1, seed=next(seeds), name=f"{prefix}_2",
                         batch_norm=batch_norm)
            if residual:
                if strides > 1 or shortcut.shape[-1] != filters:
                    shortcut = ZeroPadShortcut(filters, strides, name=f"{prefix}_shortcut")(
                        shortcut
                    )
                x = layers.Add(name=f"{prefix}_add")([shortcut, x])
            x = layers.Activation("relu", name=f"{prefix}_out")(x)
    # (B, H/4, W/4, 4 * width)
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)  # (B, 4 * width)
    outputs = layers.Dense(
        classes, activation="softmax",
        kernel_initializer=keras.initializers.GlorotUniform(seed=next(seeds)), name="predictions",
    )(x)  # (B, classes)
    default_name = f"{'residual' if residual else 'plain'}{depth}"
    return keras.Model(inputs, outputs, name=name or default_name)


def plain_net(depth=20, input_shape=(32, 32, 3), classes=10, width=16, seed=0, *,
              batch_norm=True, name=None):
    """A plain network of ``depth`` weighted layers: a stack of conv-BN-ReLU layers.

    Args:
        depth: number of weighted layers, 6n + 2 (8, 14, 20, 26, 32, ...).
        input_shape: (height, width, channels) of the images.
        classes: number of classes of the softmax classifier.
        width: filters of the first stage (the paper's 16); the stages have
            width, 2 * width and 4 * width.
        seed: the model's seed; each conv gets its own seed derived from it.
        batch_norm: BN after every conv (as in the paper); False leaves it out
            (and gives the convs a bias), to see what BN does for the signals.
        name: the model's name (default ``"plain<depth>"``).

    Returns:
        An uncompiled ``keras.Model`` mapping (batch, *input_shape) images to
        (batch, classes) probabilities.
    """
    return _network(depth, input_shape, classes, width, seed, residual=False, name=name,
                    batch_norm=batch_norm)


def residual_net(depth=20, input_shape=(32, 32, 3), classes=10, width=16, seed=0, *,
                 batch_norm=True, name=None):
    """The residual counterpart of ``plain_net``: the same layers and weights, plus shortcuts.

    Every pair of 3x3 convs gets an identity shortcut (zero-padded where a
    stage doubles the channels), as in He et al. 2015, section 4.2. The same
    arguments and seed give exactly the initial weights of ``plain_net``.

    Args and Returns: as ``plain_net`` (default name ``"residual<depth>"``).
    """
    return _network(depth, input_shape, classes, width, seed, residual=True, name=name,
                    batch_norm=batch_norm)


def weighted_layers(model):
    """The model's Conv2D and Dense layers, in order (the layers the depth counts)."""
    return [layer for layer in model.layers if isinstance(layer, (layers.Conv2D, layers.Dense))]
