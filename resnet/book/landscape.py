"""The loss landscape around trained weights (Li et al. 2018, "Visualizing the Loss Landscape").

    >>> import numpy as np
    >>> from resnet.book import landscape
    >>> from resnet.book.plain import residual_net
    >>> model = residual_net(8, input_shape=(8, 8, 1), classes=3, width=4)  # train it first
    >>> images, labels = np.zeros((4, 8, 8, 1), "float32"), np.array([0, 1, 2, 0])
    >>> directions = [landscape.random_direction(model, seed=s) for s in (1, 2)]
    >>> grid = np.linspace(-1, 1, 5)
    >>> losses = landscape.loss_surface(model, images, labels, directions, grid)
    >>> losses.shape
    (5, 5)
    >>> 0 <= landscape.negative_curvature_share(losses) <= 1  # 0 for a convex bowl
    True

A direction is one array per *landscape weight*: the kernels of the Conv2D and
Dense layers. Biases and batch-normalisation parameters are left out (their
direction is zero), as Li et al. do (section 4, "ignore='biasbn'" in their code).
``random_direction`` draws Gaussian values and *filter-normalises* them: every
filter (a conv kernel's output channel, a dense kernel's output unit) of the
direction is rescaled to the norm of the same filter of the trained weights,
so that a step of 1 along it is as large as the weights themselves, filter by
filter, whatever the scale of each layer.

The loss is computed with ``training=False`` unless told: batch normalisation
uses the moving statistics stored in the model, and the function plotted is a
fixed function of the weights (``loss_surface(..., batch_norm="batch")``
normalises each batch by its own statistics instead). Every function here
restores the model's weights before it returns, even on error.
"""

import numpy as np
import tensorflow as tf
from tensorflow import keras

from ..validation import InvalidParameterError, check_int


def landscape_variables(model):
    """The variables a direction moves: Conv2D and Dense kernels, in layer order.

    Biases and every batch-normalisation weight (gamma, beta and the moving
    statistics) are left out, as in Li et al. 2018.
    """
    variables = []
    for layer in _all_layers(model):
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense)):
            variables.append(layer.kernel)
    if not variables:
        raise InvalidParameterError(
            f"`model` {getattr(model, 'name', model)!r} has no Conv2D or Dense kernels to move."
        )
    return variables


def filter_norms(array):
    """The norm of each filter: (out,) for a kernel (..., out) (conv or dense)."""
    array = np.asarray(array, dtype=np.float64)
    return np.sqrt(np.sum(array.reshape(-1, array.shape[-1]) ** 2, axis=0))


def filter_normalize(direction, weights):
    """Rescale every filter of ``direction`` to the norm of the same filter of ``weights``.

    Args:
        direction, weights: lists of arrays of the same shapes, kernels with
            the filters (output channels or units) on the last axis.

    Returns:
        A list of float32 arrays: ``d[..., k] * |w[..., k]| / |d[..., k]|``.
    """
    if len(direction) != len(weights):
        raise InvalidParameterError(
            f"`direction` has {len(direction)} arrays but `weights` has {len(weights)}."
        )
    normalized = []
    for d, w in zip(direction, weights, strict=True):
        d, w = np.asarray(d, dtype=np.float64), np.asarray(w, dtype=np.float64)
        if d.shape != w.shape:
            raise InvalidParameterError(
                f"a direction of shape {d.shape} for weights of shape {w.shape}.")
        d_norms = filter_norms(d)
        # A zero filter of the direction stays zero instead of dividing by zero.
        scale = np.divide(filter_norms(w), d_norms, out=np.zeros_like(d_norms),
                          where=d_norms > 0)
        normalized.append((d * scale).astype(np.float32))
    return normalized


def random_direction(model, seed=0):
    """A filter-normalised Gaussian direction for ``landscape_variables(model)``.

    Args:
        model: a Keras model (its current weights set the filter norms).
        seed: seeds the Gaussian draw (a non-negative int).

    Returns:
        A list of float32 arrays, one per landscape variable.
    """
    check_int(seed, "seed", 0)
    rng = np.random.default_rng(seed)
    weights = [v.numpy() for v in landscape_variables(model)]
    return filter_normalize([rng.standard_normal(w.shape) for w in weights], weights)


BATCH_NORM = ("inference", "batch")


def loss_surface(model, images, labels, directions, coordinates, *, batch_size=512,
                 batch_norm="inference"):
    """The loss at ``weights + a * d1 + b * d2`` for every a, b of ``coordinates``.

    Args:
        model: a Keras model with a softmax output (None, classes).
        images: (N, H, W, C) float array, what the model eats.
        labels: (N,) int class labels.
        directions: two directions (from ``random_direction``) for a 2-D surface,
            or one for a 1-D slice.
        coordinates: 1-D array of step sizes along each direction.
        batch_size: images per forward pass.
        batch_norm: "inference" (the stored moving statistics) or "batch" (each
            forward pass of ``batch_size`` images normalised by its own mean and
            variance, as in training; the moving statistics are restored after).

    Returns:
        float64 array (len(coordinates),) for one direction, or
        (len(coordinates), len(coordinates)) for two, indexed [i, j] for
        (a, b) = (coordinates[i], coordinates[j]). The mean cross-entropy.
    """
    coordinates = _check_coordinates(coordinates)
    if not isinstance(directions, (list, tuple)) or len(directions) not in (1, 2):
        raise InvalidParameterError("`directions` must be a list of one or two directions.")
    variables = landscape_variables(model)
    for direction in directions:
        if not isinstance(direction, (list, tuple)) or len(direction) != len(variables) or any(
            tuple(np.shape(d)) != tuple(v.shape) for d, v in zip(direction, variables, strict=False)
        ):
            raise InvalidParameterError(
                f"a direction must hold one array per landscape variable ({len(variables)}), "
                "each of that variable's shape: use random_direction(model)."
            )
    if batch_norm not in BATCH_NORM:
        raise InvalidParameterError(
            f"`batch_norm` must be one of {BATCH_NORM}, got {batch_norm!r}.")
    loss = _loss_function(model, images, labels, batch_size,
                          training=batch_norm == "batch")
    everything = model.get_weights()  # training mode moves BN's moving statistics
    origin = [v.numpy() for v in variables]
    steps = [[np.asarray(d, dtype=np.float32) for d in direction] for direction in directions]
    shape = (len(coordinates),) * len(directions)
    surface = np.empty(shape)
    try:
        for index in np.ndindex(*shape):
            for k, (variable, w) in enumerate(zip(variables, origin, strict=True)):
                moved = w.copy()
                for axis, i in enumerate(index):
                    moved += np.float32(coordinates[i]) * steps[axis][k]
                variable.assign(moved)
            surface[index] = loss()
    finally:
        model.set_weights(everything)
    return surface


def interpolate(model, start, end, images, labels, alphas, *, batch_size=512):
    """The loss along the straight line ``(1 - alpha) * start + alpha * end``.

    Every weight of the model moves (``model.get_weights()`` order, batch
    normalisation's moving statistics included), so that alpha 0 is exactly
    the network ``start`` and alpha 1 the network ``end``. Stay within [0, 1]
    for a model with batch normalisation: past either end an interpolated
    moving variance can turn negative, and the loss NaN.

    Args:
        model: the Keras model whose weights are set.
        start, end: lists of arrays as returned by ``model.get_weights()``
            (for example the initial and the trained weights).
        images, labels: as for ``loss_surface``.
        alphas: 1-D array of positions on the line.

    Returns:
        float64 array (len(alphas),) of mean cross-entropies.
    """
    alphas = _check_coordinates(alphas, "alphas")
    shapes = [tuple(w.shape) for w in model.get_weights()]
    for arg, weights in (("start", start), ("end", end)):
        if len(weights) != len(shapes) or any(
            tuple(np.shape(w)) != s for w, s in zip(weights, shapes, strict=False)
        ):
            raise InvalidParameterError(
                f"`{arg}` must be a list like model.get_weights() ({len(shapes)} arrays of "
                "the same shapes).")
    loss = _loss_function(model, images, labels, batch_size)
    original = model.get_weights()
    losses = np.empty(len(alphas))
    try:
        for i, alpha in enumerate(alphas):
            model.set_weights([
                ((1 - alpha) * np.asarray(a, np.float64) + alpha * np.asarray(b, np.float64))
                .astype(np.asarray(a).dtype)
                for a, b in zip(start, end, strict=True)
            ])
            losses[i] = loss()
    finally:
        model.set_weights(original)
    return losses


def hessian_eigenvalues(surface, spacing=1.0):
    """The 2x2 Hessian's eigenvalues at every interior point, by central differences.

    Args:
        surface: (n, m) loss values on a regular grid.
        spacing: the grid step (the same along both axes).

    Returns:
        (smallest, largest): two (n - 2, m - 2) arrays.
    """
    f = np.asarray(surface, dtype=np.float64)
    if f.ndim != 2 or min(f.shape) < 3:
        raise InvalidParameterError(
            f"`surface` must be a 2-D grid of at least 3x3, got shape {f.shape}.")
    h2 = float(spacing) ** 2
    centre = f[1:-1, 1:-1]
    fxx = (f[2:, 1:-1] - 2 * centre + f[:-2, 1:-1]) / h2
    fyy = (f[1:-1, 2:] - 2 * centre + f[1:-1, :-2]) / h2
    fxy = (f[2:, 2:] - f[2:, :-2] - f[:-2, 2:] + f[:-2, :-2]) / (4 * h2)
    mean, radius = (fxx + fyy) / 2, np.sqrt(((fxx - fyy) / 2) ** 2 + fxy**2)
    return mean - radius, mean + radius


def negative_curvature_share(surface):
    """The share of interior grid points where the surface is locally non-convex.

    A point counts when the smallest eigenvalue of the finite-difference
    Hessian is negative (the surface curves down along some direction there).
    A convex bowl gives 0.

    Args:
        surface: (n, m) loss values on a regular grid, n, m >= 3.

    Returns:
        A float in [0, 1].
    """
    smallest, _ = hessian_eigenvalues(surface)
    return float(np.mean(smallest < 0))


def _check_coordinates(values, name="coordinates"):
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or len(values) == 0 or not np.all(np.isfinite(values)):
        raise InvalidParameterError(f"`{name}` must be a non-empty 1-D array of finite numbers.")
    return values


def _loss_function(model, images, labels, batch_size, training=False):
    """A function of no arguments: the model's mean cross-entropy on the fixed images."""
    images = np.asarray(images, dtype=np.float32)
    labels = np.asarray(labels)
    if images.ndim != 4 or len(images) == 0:
        raise InvalidParameterError(
            f"`images` must be a non-empty batch (N, H, W, C), got shape {images.shape}.")
    if labels.shape != (len(images),):
        raise InvalidParameterError(
            f"`labels` must be (N,) = ({len(images)},), got shape {labels.shape}.")
    check_int(batch_size, "batch_size")
    batches = [(tf.constant(images[i:i + batch_size]), tf.constant(labels[i:i + batch_size]))
               for i in range(0, len(images), batch_size)]

    @tf.function
    def summed_loss(x, y):
        # Inference mode: BN uses its stored moving statistics (see the module docstring).
        probabilities = model(x, training=training)
        return tf.reduce_sum(keras.losses.sparse_categorical_crossentropy(y, probabilities))

    def loss():
        return float(sum(float(summed_loss(x, y)) for x, y in batches)) / len(images)

    return loss


def _all_layers(model):
    """Every layer, nested models opened, in order."""
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _all_layers(layer)
        else:
            yield layer
