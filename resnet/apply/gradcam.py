"""Where a trained network looks: Grad-CAM (Selvaraju et al. 2017) and its sanity check.

    >>> import resnet
    >>> from resnet.book.plain import residual_net
    >>> from resnet.book.samples import SAMPLE_IMAGES
    >>> model = residual_net(8, input_shape=(16, 16, 1), classes=10, width=4)  # train it first
    >>> digits = [SAMPLE_IMAGES / "digits" / "test_3.png", SAMPLE_IMAGES / "digits" / "test_7.png"]
    >>> maps = resnet.grad_cam(model, digits)  # (N, H, W) in [0, 1]
    >>> maps.shape
    (2, 16, 16)
    >>> figure = resnet.plot_grad_cam(model, digits, class_names=list("0123456789"))

Grad-CAM weighs each channel k of a convolutional layer's output A (by default
the last one, the network's final stage) by the mean gradient of the class
score y_c (the logit, before the softmax) over the positions:

    alpha_k = mean_ij d y_c / d A_ij^k          (B, channels)
    map     = ReLU(sum_k alpha_k A^k)           (B, h, w)

then enlarges the map to the model's input size and scales it to [0, 1]. It
takes images in every form ``resnet.evaluate`` takes, prepared the same way,
and refuses the same bad input with the same errors.

``randomize_layers`` and ``rank_correlation`` serve the sanity check of Adebayo
et al. 2018: a map that explains the trained network must change when the
network's top layers are re-initialised.

matplotlib and SciPy are imported inside the functions that need them.
"""

import warnings

import numpy as np
import tensorflow as tf
from tensorflow import keras

from ..preprocessing import preprocessing_for
from ..validation import InvalidParameterError, check_int
from .images import load_batch
from .inference import image_grid, model_io, predict_batch, show_pixels

# A map whose largest value is below this share of the largest term summed into it
# is float32 cancellation noise (float32 carries ~7 digits): it is reported as zeros.
_NOISE = 1e-6


def grad_cam(model, images, class_index=None, layer=None, *, preprocessing=None, batch_size=32):
    """One Grad-CAM heatmap per image, scaled to [0, 1], at the model's input size.

    Args:
        model: a Keras model with input (None, H, W, C), C 1 or 3, and one
            output (None, classes): a Dense softmax classifier (or one sigmoid
            unit), whose pre-activation scores are explained, or any other
            output, whose values are.
        images: a file path, a PIL image, a numpy array (H, W), (H, W, C) or a
            batch (N, H, W, C), or a list of any of these (as ``evaluate``).
        class_index: the class to explain: None for each image's predicted
            class, one int for every image, or one int per image.
        layer: the name of the layer whose output (None, h, w, channels) is
            weighed; by default the last layer with a 4-D output. (ResNet50 on
            32x32 images ends with 1x1 maps, which cannot localise: a warning
            says so; pass an earlier stage's output, e.g. "conv3_block4_out".)
        preprocessing: a function of 0..255 pixels; by default
            ``resnet.preprocessing_for(model)`` (what training used).
        batch_size: images per forward and backward pass.

    Returns:
        float32 array (N, H, W) in [0, 1], H and W the model's input size (the
        image as the model sees it). A map with no positive evidence, for
        example where the gradients vanish, is all zeros, never NaN.

    Raises:
        FileNotFoundError: a path that does not exist (named).
        ValueError: bad images (named, as ``evaluate``), a model whose input is
            not (H, W, 1 or 3), an unknown layer or one without a 4-D output,
            or a class index out of range.
    """
    check_int(batch_size, "batch_size")
    batch, target, indices = _prepare(model, images, class_index, layer, preprocessing)
    return _maps(model, target, batch.inputs, indices, batch_size)


def _prepare(model, images, class_index, layer, preprocessing):
    """Check the arguments and load the images: (batch, target layer, class indices or None)."""
    height, width, channels, classes = model_io(model)
    target = _feature_layer(model, layer)
    if preprocessing is None:
        preprocessing = preprocessing_for(model)
    batch = load_batch(images, (height, width, channels), preprocessing)  # (N, H, W, C)
    indices = _class_indices(class_index, len(batch.names), classes)
    return batch, target, indices


def _maps(model, target, inputs, indices, batch_size=32):
    """(N, H, W) Grad-CAM maps in [0, 1] of the prepared ``inputs`` (N, H, W, C)."""
    height, width = inputs.shape[1:3]
    if tuple(target.output.shape[1:3]) == (1, 1):
        warnings.warn(  # stacklevel 3: the line that called grad_cam or plot_grad_cam
            f"layer {target.name!r} outputs a 1x1 map at this input size "
            f"({height}x{width}): Grad-CAM cannot localise anything there; pass an earlier "
            "layer with `layer=`.", UserWarning, stacklevel=3)
    scores = _score_model(model, target)
    maps = []
    for start in range(0, len(inputs), batch_size):
        chunk = inputs[start:start + batch_size]
        with tf.GradientTape() as tape:
            features, logits = scores(chunk, training=False)  # (B, h, w, K), (B, classes)
            wanted = (tf.argmax(logits, axis=-1, output_type=tf.int32) if indices is None
                      else tf.constant(indices[start:start + batch_size], dtype=tf.int32))
            score = tf.gather(logits, wanted, axis=1, batch_dims=1)  # (B,)
        gradients = tape.gradient(score, features)
        if gradients is None:  # the score does not depend on this layer
            gradients = tf.zeros_like(features)
        alpha = tf.reduce_mean(gradients, axis=(1, 2), keepdims=True)  # (B, 1, 1, K)
        terms = alpha * features  # (B, h, w, K)
        cam = tf.nn.relu(tf.reduce_sum(terms, axis=-1))  # (B, h, w)
        largest_term = tf.reduce_max(tf.abs(terms), axis=(1, 2, 3))  # (B,)
        peak = tf.reduce_max(cam, axis=(1, 2))
        keep = peak > _NOISE * largest_term  # else: nothing positive to show
        cam = tf.where(keep[:, None, None], cam, tf.zeros_like(cam))
        cam = tf.image.resize(cam[..., None], (height, width), method="bilinear")[..., 0]
        peak = tf.reduce_max(cam, axis=(1, 2), keepdims=True)
        cam = tf.math.divide_no_nan(cam, peak)  # (B, H, W) in [0, 1]
        maps.append(np.clip(cam.numpy(), 0.0, 1.0))
    return np.concatenate(maps).astype(np.float32)


def plot_grad_cam(model, images, class_names=None, *, labels=None, class_index=None, layer=None,
                  ncols=4, size=2.5):
    """Draw each image with its Grad-CAM heatmap over it (half opaque), titled with the
    prediction.

    Args:
        model, images, class_index, layer: as for ``grad_cam`` (the images get the
            preprocessing the model carries, ``resnet.preprocessing_for``).
        class_names: one name per class, or None for class indices.
        labels: optional true class indices, one per image, added to the titles
            (a wrong prediction is marked with a cross).
        ncols: images per row.
        size: the side of each image in inches.

    Returns:
        The matplotlib Figure. The heatmap is stretched over the whole image,
        which is how ``evaluate`` resizes it for the model.
    """
    batch, target, indices = _prepare(model, images, class_index, layer, None)
    predictions = predict_batch(model, batch, class_names)
    maps = _maps(model, target, batch.inputs, indices)
    count = len(batch.names)
    if labels is not None:
        labels = [int(label) for label in labels]
        if len(labels) != count:
            raise InvalidParameterError(
                f"`labels` must have one entry per image ({count}), got {len(labels)}."
            )
    channels = model_io(model)[2]
    fig, axes = image_grid(count, ncols, size, title_height=0.5)
    for i, (ax, pixels, prediction, heatmap) in enumerate(
        zip(axes, batch.pixels, predictions, maps, strict=False)
    ):  # the pixels as read, before resizing: the heatmap is stretched over them
        rows, cols = pixels.shape[:2]
        show_pixels(ax, pixels, channels)
        # Over the pixels' own extent (imshow's default puts pixel centres on whole numbers).
        ax.imshow(heatmap, cmap="jet", alpha=0.5, vmin=0, vmax=1,
                  extent=(-0.5, cols - 0.5, rows - 0.5, -0.5), interpolation="bilinear")
        title = f"{prediction.label} ({prediction.probability:.0%})"
        if labels is not None:
            true = class_names[labels[i]] if class_names is not None else labels[i]
            title += f"\ntrue {true}" + ("" if labels[i] == prediction.index else " \u2717")
        ax.set_title(title, fontsize=12)
    fig.tight_layout()
    return fig


def randomize_layers(model, prefixes):
    """A copy of ``model`` whose layers named with any of ``prefixes`` are re-initialised.

    Every weight of those layers (kernels, biases, batch-normalisation scales,
    offsets and statistics) goes back to what the layer's initializers give,
    as in the cascading randomisation of Adebayo et al. 2018; every other layer
    keeps its trained weights. ``model`` itself is not changed.

    Args:
        model: a Keras functional or Sequential model.
        prefixes: layer-name prefixes, e.g. ``["predictions", "conv5_"]``.

    Returns:
        A new Keras model.

    Raises:
        ValueError: a prefix that names no layer with weights.
    """
    if isinstance(prefixes, str):
        prefixes = [prefixes]
    prefixes = list(prefixes)
    if not prefixes:
        raise InvalidParameterError("`prefixes` is empty: name at least one layer prefix.")
    copy = keras.models.clone_model(model)  # fresh layers: their initial weights
    fresh = {layer.name: layer.get_weights() for layer in copy.layers}
    copy.set_weights(model.get_weights())
    chosen = {prefix: [] for prefix in prefixes}
    for layer in copy.layers:
        matched = [p for p in prefixes if layer.name.startswith(p)]
        if matched and layer.weights:
            layer.set_weights(fresh[layer.name])
            for prefix in matched:
                chosen[prefix].append(layer.name)
    unused = [prefix for prefix, names in chosen.items() if not names]
    if unused:
        raise InvalidParameterError(
            f"no layer with weights is named with the prefix(es) {unused!r}; the model's layers "
            f"with weights are {[layer.name for layer in model.layers if layer.weights]!r}."
        )
    return copy


def rank_correlation(maps, others):
    """Spearman's rank correlation of each pair of maps (ties get their mean rank).

    Args:
        maps, others: arrays (N, H, W) of the same shape.

    Returns:
        float64 array (N,); a constant map gives NaN (its ranks carry no order).
    """
    from scipy.stats import spearmanr

    maps, others = np.asarray(maps), np.asarray(others)
    if maps.shape != others.shape or maps.ndim != 3:
        raise InvalidParameterError(
            f"`maps` and `others` must be two (N, H, W) arrays of one shape, got {maps.shape} "
            f"and {others.shape}."
        )
    result = []
    for a, b in zip(maps, others, strict=True):
        if np.ptp(a) == 0 or np.ptp(b) == 0:
            result.append(np.nan)
        else:
            result.append(spearmanr(a.ravel(), b.ravel()).statistic)
    return np.array(result, dtype=np.float64)


def _feature_layer(model, name):
    """The layer whose 4-D output is weighed: named, or the last one with a 4-D output."""
    def is_4d(layer):
        try:
            shape = layer.output.shape
        except (AttributeError, ValueError):
            return False
        return len(shape) == 4

    if name is None:
        candidates = [layer for layer in model.layers if is_4d(layer)
                      and not isinstance(layer, keras.layers.InputLayer)]
        if not candidates:
            raise InvalidParameterError(
                "`model` has no layer with a 4-D output (None, h, w, channels) to explain."
            )
        return candidates[-1]
    if not isinstance(name, str):
        raise InvalidParameterError(f"`layer` must be a layer name (str) or None, got {name!r}.")
    names = [layer.name for layer in model.layers]
    if name not in names:
        close = [n for n in names if n.endswith("_out")][-3:] or names[-3:]
        raise InvalidParameterError(
            f"`layer` {name!r} is not a layer of model {model.name!r}; for example "
            f"{close!r} are."
        )
    layer = model.get_layer(name)
    if not is_4d(layer):
        raise InvalidParameterError(
            f"`layer` {name!r} must have a 4-D output (None, h, w, channels), got "
            f"{getattr(layer.output, 'shape', None)}."
        )
    return layer


def _score_model(model, target):
    """A model of the images: (the target layer's output, the class scores before activation)."""
    last = model.layers[-1]
    activation = getattr(last, "activation", None)
    linear_head = isinstance(last, keras.layers.Dense) and activation in (
        keras.activations.softmax, keras.activations.sigmoid)
    if not linear_head:
        return keras.Model(model.inputs, [target.output, model.outputs[0]])
    extractor = keras.Model(model.inputs, [target.output, last.input])

    def scores(images, training=False):
        features, penultimate = extractor(images, training=training)
        logits = tf.matmul(penultimate, last.kernel)
        if last.use_bias:
            logits += last.bias
        if logits.shape[-1] == 1:  # one sigmoid unit: the logit favours class 1
            logits = tf.concat([-logits, logits], axis=-1)
        return features, logits

    return scores


def _class_indices(class_index, count, classes):
    """None, or a list of one valid class index per image."""
    def valid(value):
        return (not isinstance(value, bool) and isinstance(value, (int, np.integer))
                and 0 <= value < classes)

    if class_index is None:
        return None
    if valid(class_index):
        return [int(class_index)] * count
    if isinstance(class_index, (list, tuple, np.ndarray)) and len(class_index) == count and all(
        valid(value) for value in class_index
    ):
        return [int(value) for value in class_index]
    raise InvalidParameterError(
        f"`class_index` must be None, an int in 0..{classes - 1}, or one such int per image "
        f"({count}), got {class_index!r}."
    )
