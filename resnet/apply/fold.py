"""Batch normalisation folded into the convolutions, for inference.

At inference a BatchNormalization layer is a fixed affine map per channel c:

    BN(z)_c = gamma_c * (z_c - mean_c) / sqrt(var_c + eps) + beta_c = a_c * z_c + b_c,
    a_c = gamma_c / sqrt(var_c + eps),   b_c = beta_c - a_c * mean_c.

When z is a convolution's output, z_c = sum(W[..., c] * x) + bias_c, so BN(conv(x)) is one
convolution with kernel a_c * W[..., c] and bias a_c * bias_c + b_c. ``fold_batchnorm``
rewrites every such conv + BN pair of a model into that one conv: the same function
(up to float rounding) with one layer less to run per pair, which ResNet50 has 53 of.

    >>> from tensorflow import keras
    >>> from resnet.apply.fold import fold_batchnorm
    >>> inputs = keras.Input((8, 8, 3))
    >>> x = keras.layers.Conv2D(4, 3, name="conv")(inputs)
    >>> outputs = keras.layers.BatchNormalization(name="bn")(x)
    >>> folded = fold_batchnorm(keras.Model(inputs, outputs))
    >>> [type(layer).__name__ for layer in folded.layers]
    ['InputLayer', 'Conv2D']

Only for inference: the folded model has no BN layers left to train, and training it
would not be training the same network.
"""

import numpy as np
from tensorflow import keras
from tensorflow.keras import layers


def _inputs(layer):
    inputs = layer.input
    return list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]


def foldable_pairs(model):
    """The (conv, bn) layer pairs of ``model`` that ``fold_batchnorm`` folds.

    A pair is a ``Conv2D`` (channels last, no activation) whose output feeds one
    ``BatchNormalization`` over the channel axis and nothing else.
    """
    producer = {id(layer.output): layer for layer in model.layers}
    uses = {}
    for layer in model.layers:
        if isinstance(layer, layers.InputLayer):
            continue
        for tensor in _inputs(layer):
            uses[id(tensor)] = uses.get(id(tensor), 0) + 1
    outputs = {id(tensor) for tensor in model.outputs}
    pairs = []
    for bn in model.layers:
        if not isinstance(bn, layers.BatchNormalization) or len(_inputs(bn)) != 1:
            continue
        conv = producer.get(id(bn.input))
        if (
            isinstance(conv, layers.Conv2D)
            and conv.data_format == "channels_last"
            and conv.activation is keras.activations.linear
            and uses.get(id(conv.output)) == 1
            and id(conv.output) not in outputs
            and bn.axis in (-1, len(bn.input.shape) - 1, [-1], [len(bn.input.shape) - 1])
        ):
            pairs.append((conv, bn))
    return pairs


def folded_weights(conv, bn):
    """The kernel and bias of the one conv equal to ``bn(conv(x))`` at inference."""
    kernel, *bias = conv.get_weights()
    bias = bias[0] if bias else np.zeros(kernel.shape[-1], dtype=kernel.dtype)
    weights = dict(zip(("gamma", "beta", "moving_mean", "moving_variance"),
                       _bn_weights(bn), strict=True))
    scale = weights["gamma"] / np.sqrt(weights["moving_variance"] + bn.epsilon)
    return kernel * scale, (bias - weights["moving_mean"]) * scale + weights["beta"]


def _bn_weights(bn):
    """gamma, beta, mean, variance, with the defaults of a BN layer without scale/center."""
    stored = iter(bn.get_weights())
    channels = bn.moving_mean.shape[0]
    gamma = next(stored) if bn.scale else np.ones(channels, dtype="float32")
    beta = next(stored) if bn.center else np.zeros(channels, dtype="float32")
    return gamma, beta, next(stored), next(stored)


def fold_batchnorm(model):
    """An equivalent inference model with every conv + BN pair replaced by one conv.

    Each folded conv keeps its name and gets a bias; its BN layer is gone, and every
    other layer keeps its name and weights. Layers that cannot be folded (a BN after an
    addition, a conv with an activation) are kept unchanged.

    Args:
        model: a functional ``keras.Model``, e.g. a trained ``resnet.ResNet50``.

    Returns:
        A new, uncompiled ``keras.Model`` with the same inputs and outputs; ``model``
        itself is not changed. Its predictions equal ``model.predict``'s up to float32
        rounding (tests/test_fold.py bounds the difference).
    """
    if not isinstance(model, keras.Model):
        from ..validation import InvalidParameterError

        raise InvalidParameterError(
            f"`model` must be a keras.Model, got {type(model).__name__}.")
    pairs = {conv.name: bn for conv, bn in foldable_pairs(model)}
    folded_bns = {bn.name for bn in pairs.values()}
    # Rebuild the graph layer by layer (model.layers is in topological order): each new
    # layer is called on the new tensors that stand for its old inputs; a folded BN is
    # left out, its output standing for its conv's.
    new = {id(old): keras.Input(batch_shape=old.shape, dtype=old.dtype, name=old.name)
           for old in model.inputs}
    for layer in model.layers:
        if isinstance(layer, layers.InputLayer):
            continue
        if layer.name in folded_bns:
            new[id(layer.output)] = new[id(layer.input)]
            continue
        config = layer.get_config()
        if layer.name in pairs:
            config["use_bias"] = True
        clone = layer.__class__.from_config(config)
        inputs = layer.input
        outputs = clone([new[id(t)] for t in inputs] if isinstance(inputs, (list, tuple))
                        else new[id(inputs)])
        if layer.name in pairs:
            clone.set_weights(list(folded_weights(layer, pairs[layer.name])))
        elif layer.weights:
            clone.set_weights(layer.get_weights())
        new[id(layer.output)] = outputs
    return keras.Model([new[id(t)] for t in model.inputs], [new[id(t)] for t in model.outputs]
                       if len(model.outputs) > 1 else new[id(model.outputs[0])],
                       name=f"{model.name}_folded")
