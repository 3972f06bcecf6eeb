"""Use a trained model on your own images: ``evaluate`` and ``plot_predictions``.

    >>> import resnet
    >>> predictions = resnet.evaluate(model, ["cat.jpg", "dog.png"],
    ...                               class_names=["cat", "dog"])  # doctest: +SKIP
    >>> predictions[0].label, predictions[0].probability  # doctest: +SKIP
    ('cat', 0.97)

``evaluate`` does four things: load the images and preprocess them exactly as
the training pipelines of ``resnet.train.data`` do (``resnet.apply.images.load_batch``: file
paths, PIL images and numpy arrays, in any image mode, converted to the channels
the model expects, resized to the model's input, then the model's preprocessing,
by default ``preprocessing_for(model)``), predict, and label each prediction
(``predict_batch``, for images loaded already). Bad input is refused before
TensorFlow sees it, with a ``FileNotFoundError`` or ``ValueError`` that names the image.

For many images, the prediction runs on the model with its batch normalisation
folded into the convolutions (``resnet.apply.fold.fold_batchnorm``): the same
probabilities up to float32 rounding, faster. Folding costs about a second for
ResNet50, so ``fold="auto"`` folds from ``FOLD_FROM_IMAGES`` images up (measured on
an AMD EPYC, AVX2, 2 cores: folding took 1.15-1.2 s and the folded ResNet50
predicted 1.35-1.5x as fast, which repays the fold after 150-190 images at
32x32 and 64x64; fewer at larger sizes).

matplotlib is imported inside the function that needs it.
"""

from typing import NamedTuple

import numpy as np

from ..preprocessing import preprocessing_for
from ..validation import InvalidParameterError, check_int
from .images import load_batch, load_images

FOLD_FROM_IMAGES = 256  # fold="auto" folds BN for this many images or more (see above)


class Prediction(NamedTuple):
    """The prediction for one image.

    Attributes:
        source: the file path, or "image N" for an in-memory image.
        label: the predicted class name (the class index when no names are given).
        index: the predicted class index.
        probability: the predicted class's probability.
        probabilities: (classes,) float array, every class's probability.
    """

    source: str
    label: object
    index: int
    probability: float
    probabilities: np.ndarray


def evaluate(model, images, class_names=None, *, preprocessing=None, batch_size=32,
             fold="auto"):
    """Predict the class of each image with a trained model.

    Args:
        model: a Keras model with input (None, H, W, C), C 1 or 3, and a
            softmax output (None, classes) (or one sigmoid unit for binary).
        images: a file path, a PIL image, a numpy array (H, W), (H, W, C) or a
            batch (N, H, W, C), or a list of any of these.
        class_names: one name per class, or None for class indices.
        preprocessing: a function of 0..255 pixels; by default
            ``resnet.preprocessing_for(model)`` (what training used).
        batch_size: images per forward pass.
        fold: predict with the BN layers folded into the convolutions: True,
            False, or "auto" (from ``FOLD_FROM_IMAGES`` images up, where it pays).

    Returns:
        A list of ``Prediction`` (source, label, index, probability,
        probabilities), one per image, in input order.

    Raises:
        FileNotFoundError: a path that does not exist (named).
        ValueError: an empty list, a file that is not a readable image (named),
            an image over the decompression-bomb limit, ``class_names`` of the
            wrong length, or a model whose input is not (H, W, 1 or 3).
    """
    height, width, channels, classes = model_io(model)
    class_names = _checked_class_names(class_names, classes)
    check_int(batch_size, "batch_size")
    if preprocessing is None:
        preprocessing = preprocessing_for(model)
    # 1. Load every image first, so that a bad one fails before any prediction;
    # 2. preprocess as training did: resize, then the model's preprocessing.
    batch = load_batch(images, (height, width, channels), preprocessing)
    # 3. Predict, batch by batch, and 4. label: the most probable class of each image.
    return predict_batch(model, batch, class_names, batch_size=batch_size, fold=fold)


def predict_batch(model, batch, class_names=None, *, batch_size=32, fold="auto"):
    """The ``Prediction`` of each image of a ``resnet.apply.images.Batch`` (``load_batch``).

    ``evaluate`` without the loading: for a caller that has loaded the images
    already (``resnet.plot_grad_cam`` draws them too).

    Args:
        model: as for ``evaluate``.
        batch: a ``Batch`` made for this model's input.
        class_names: one name per class, or None for class indices.
        batch_size: images per forward pass.
        fold: as for ``evaluate``.

    Returns:
        A list of ``Prediction``, one per image, in the batch's order.
    """
    class_names = _checked_class_names(class_names, model_io(model)[3])
    check_int(batch_size, "batch_size")
    model = inference_model(model, len(batch.inputs), fold)
    probabilities = _predict(model, batch.inputs, batch_size)  # (N, H, W, C) -> (N, classes)
    return [_label(name, probs, class_names)
            for name, probs in zip(batch.names, probabilities, strict=True)]


def inference_model(model, count, fold="auto"):
    """``model``, or its BN-folded twin where ``fold`` asks for it for ``count`` images.

    Args:
        model: a Keras model.
        count: how many images it is about to predict.
        fold: True, False or "auto" (fold from ``FOLD_FROM_IMAGES`` images up, when
            the model has a conv + BN pair to fold and ``fold.py`` is there: a copy of
            the model and ``evaluate`` alone, without it, predicts unfolded).
    """
    if fold not in ("auto", True, False):
        raise InvalidParameterError(f"`fold` must be 'auto', True or False, got {fold!r}.")
    if fold is False or (fold == "auto" and count < FOLD_FROM_IMAGES):
        return model  # the folding code is imported only to fold
    if fold == "auto":
        try:
            from .fold import foldable_pairs
        except ImportError:  # a coursework copy without fold.py
            return model
        try:
            if not foldable_pairs(model):
                return model
        except (AttributeError, ValueError):  # not a graph of layers (a subclassed model)
            return model
    from .fold import fold_batchnorm

    return fold_batchnorm(model)


def _checked_class_names(class_names, classes):
    """``class_names`` as a list of ``classes`` names, or None."""
    if class_names is None:
        return None
    class_names = list(class_names)
    if len(class_names) != classes:
        raise InvalidParameterError(
            f"`class_names` must have one name per class of the model ({classes}), got "
            f"{len(class_names)}: {class_names!r}."
        )
    return class_names


def _predict(model, inputs, batch_size):
    """(N, classes) float64 probabilities; one sigmoid unit becomes [P(0), P(1)]."""
    probabilities = np.concatenate([
        np.asarray(model(inputs[start:start + batch_size], training=False))
        for start in range(0, len(inputs), batch_size)
    ]).astype(np.float64)
    if probabilities.shape[-1] == 1:  # one sigmoid unit: P(class 1)
        probabilities = np.concatenate([1 - probabilities, probabilities], axis=-1)
    return probabilities


def _label(name, probabilities, class_names):
    index = int(np.argmax(probabilities))
    label = class_names[index] if class_names is not None else index
    return Prediction(name, label, index, float(probabilities[index]), probabilities)


def plot_predictions(images, predictions, *, ncols=4, size=2.5, channels=None):
    """Draw images in a grid, each titled with its predicted label and probability.

    Args:
        images: what was given to ``evaluate`` (paths, PIL images, arrays, a list).
        predictions: what ``evaluate`` returned for them.
        ncols: images per row.
        size: the side of each image in inches.
        channels: 1 to draw greyscale, 3 for colour (default: as stored).

    Returns:
        The matplotlib Figure.
    """
    _, pixels = load_images(images, channels or 3)
    if len(pixels) != len(predictions):
        raise InvalidParameterError(
            f"`predictions` must have one entry per image ({len(pixels)}), got "
            f"{len(predictions)}."
        )
    fig, axes = image_grid(len(pixels), ncols, size, title_height=0.3)
    for ax, image, prediction in zip(axes, pixels, predictions, strict=False):
        show_pixels(ax, image, channels)
        ax.set_title(f"{prediction.label} ({prediction.probability:.0%})", fontsize=12)
    fig.tight_layout()
    return fig


def model_io(model):
    """(height, width, channels, classes) of a classifier, or an error saying why it is not one.

    The contract of ``evaluate`` and ``resnet.grad_cam``: one input (None, H, W, C)
    with C 1 or 3, and one output (None, classes); one sigmoid unit counts as two
    classes.

    Raises:
        InvalidParameterError: another input or output shape.
    """
    input_shape = getattr(model, "input_shape", None)
    output_shape = getattr(model, "output_shape", None)
    if (
        not isinstance(input_shape, tuple) or len(input_shape) != 4
        or input_shape[1] is None or input_shape[2] is None or input_shape[3] not in (1, 3)
    ):
        raise InvalidParameterError(
            "`model` must be a Keras model with one input (None, height, width, 1 or 3), got "
            f"input shape {input_shape!r}."
        )
    if not isinstance(output_shape, tuple) or len(output_shape) != 2 or not output_shape[1]:
        raise InvalidParameterError(
            f"`model` must have one output (None, classes), got output shape {output_shape!r}."
        )
    classes = output_shape[1] if output_shape[1] > 1 else 2
    return input_shape[1], input_shape[2], input_shape[3], classes


def image_grid(count, ncols=4, size=2.5, *, title_height=0.3):
    """A matplotlib figure for ``count`` images in rows of ``ncols``, axes off.

    Args:
        count: how many images.
        ncols: images per row (fewer when there are fewer images).
        size: the side of each image in inches.
        title_height: inches added to the figure's height for the titles.

    Returns:
        (figure, axes): the Figure and its axes as one flat sequence, row by row.
    """
    import matplotlib.pyplot as plt

    ncols = max(1, min(ncols, count))
    nrows = -(-count // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + title_height),
                             squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    return fig, axes.flat


def show_pixels(ax, pixels, channels):
    """Draw (H, W, C) 0..255 pixels on ``ax``: grey for ``channels`` 1, else RGB."""
    if channels == 1:
        ax.imshow(pixels[..., 0], cmap="gray", vmin=0, vmax=255)
    else:
        ax.imshow(pixels.astype(np.uint8))
