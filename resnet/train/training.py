"""Training: the book's recipe, and the one function that compiles and fits.

    >>> from resnet.train import data, training
    >>> from resnet.train.recipe import RECIPE
    >>> digits = data.digits(image_size=RECIPE.image_size)   # 16x16
    >>> run = training.train_resnet50(digits, RECIPE)           # doctest: +SKIP
    >>> training.accuracy(run.model, digits)                    # doctest: +SKIP

``train_resnet50`` trains ResNet50 from scratch with a ``recipe.Recipe`` (its settings,
and why each default is what it is, are in ``resnet.train.recipe``; the training
chapter measures them):

    model          the builder (``resnet.ResNet50``) at the dataset's shape, with the
                   recipe's BN momentum and ``zero_init_residual``
    batches        full batches of ``batch_size`` (one compiled program), reshuffled
                   every epoch from ``seed``, randomly shifted and rotated
                   (``resnet.train.data.augment``)
    optimizer      Adam with a linear warm-up to ``peak_learning_rate`` over the
                   first epoch, then a cosine decay to zero (``warmup_cosine``)
    callbacks      the weights of the epoch with the lowest validation loss are
                   restored at the end (``keep_best_weights``); without validation
                   images, the last epoch's are kept (a fixed budget)
    speed          ``recipe_speed``: ``speed.choose_speed`` with the recipe's switches;
                   bfloat16 is not tried, since the recipe's accuracy in it is unmeasured
    backup         ``backup_dir``: resumable after every epoch (``resnet.train.backup``)

``benchmarks/train_digits.py`` measures its time to accuracy over seeds against the
previous recipe (the same at 32x32); the training chapter shows the figures.

``train`` is the general function underneath: it builds a model from a
function inside a ``tf.distribute`` strategy's scope and a precision policy,
compiles it (with or without XLA) and fits it.
"""

import time
from typing import NamedTuple

from tensorflow import keras

from ..model import ResNet50
from ..preprocessing import preprocessing_for
from ..validation import InvalidParameterError
from . import backup, speed
from .recipe import RECIPE, Recipe

# ---------------------------------------------------------------------------
# The general training function
# ---------------------------------------------------------------------------


def train(build_model, train_data, *, epochs=1, speed_choice=None, strategy=None,
          optimizer=None, loss="sparse_categorical_crossentropy", **fit):
    """Build, compile and fit a model with the fast-path and distribution switches.

    Args:
        build_model: a function of no arguments that returns an uncompiled
            Keras model (e.g. ``lambda: resnet.ResNet50((32, 32, 3), 10)``);
            it is called inside the strategy's scope and the precision policy,
            which is why ``train`` takes a builder rather than a model.
        train_data: a ``tf.data.Dataset`` of (images, labels) batches; each
            batch is the global batch, split evenly between the replicas.
        epochs: passes over ``train_data``.
        speed_choice: the precision and XLA, a ``speed.choose_speed`` decision
            (print it for the line that says why). None asks ``choose_speed`` with
            the recipes' switches: on a GPU mixed float16 and XLA; on a CPU float32,
            with XLA where it measured faster (bfloat16 is not tried).
        strategy: a ``tf.distribute.Strategy``; None means
            ``resnet.train.speed.default_strategy()``.
        optimizer: a function of no arguments returning a Keras optimizer
            (created inside the strategy's scope); None means Adam(1e-3).
        loss: the loss (the labels are integer classes by default).
        **fit: passed to Keras' ``fit``: ``validation_data``, ``callbacks``,
            ``verbose`` (0 unless given), ``steps_per_epoch`` (for a ``train_data`` that repeats
            without end).

    Returns:
        (model, history): the trained model and ``fit``'s History.
    """
    if isinstance(build_model, keras.layers.Layer) or not callable(build_model):
        raise InvalidParameterError(
            "`build_model` must be a function that returns a new model (e.g. "
            f"`lambda: resnet.ResNet50()`), got {type(build_model).__name__}.")
    if optimizer is not None and not callable(optimizer):
        raise InvalidParameterError(
            "`optimizer` must be a function that returns a new optimizer (e.g. "
            f"`lambda: keras.optimizers.SGD(0.1)`), got {type(optimizer).__name__}.")
    if speed_choice is None:
        shape = tuple(train_data.element_spec[0].shape) if train_data is not None else None
        speed_choice = speed.choose_speed(
            build_model, None if shape is None or None in shape else shape,
            try_bfloat16=False)
    elif not isinstance(speed_choice, speed.SpeedChoice):
        raise InvalidParameterError(
            "`speed_choice` must be what `resnet.train.speed.choose_speed` returns, got "
            f"{type(speed_choice).__name__}.")
    strategy = strategy if strategy is not None else speed.default_strategy()
    policy = speed_choice.mixed_precision
    with speed.precision_policy(policy), strategy.scope():
        model = build_model()
        if policy != "float32" and model.output.dtype != "float32":
            raise InvalidParameterError(
                f"Under `mixed_precision` {policy!r} the model's output must be float32 "
                f"(a float16 softmax loses precision), got {model.output.dtype}: give the "
                "last layer dtype='float32'.")
        model.compile(optimizer=optimizer() if optimizer else keras.optimizers.Adam(1e-3),
                      loss=loss, metrics=["accuracy"], jit_compile=speed_choice.jit_compile)
    fit = {"verbose": 0, "shuffle": False, **fit}  # silent; the batches come shuffled
    history = model.fit(train_data, epochs=epochs, **fit)
    return model, history


def accuracy(model, dataset, split="test", *, batch_size=64, preprocessing=None):
    """The share of a ``resnet.train.data`` Dataset's ``split`` that ``model`` gets right.

    The model needs no compiling (a saved model loaded again works too).

    Args:
        model: a Keras classifier, (B, H, W, C) -> (B, classes) probabilities.
        dataset: what ``resnet.train.data.digits()``, ``image_folder()``, ... return.
        split: "train", "val" or "test".
        batch_size: images per prediction batch.
        preprocessing: a function of 0..255 pixels; None: the one the model was
            trained with (``resnet.preprocessing_for``: ImageNet's for a model
            fine-tuned from ImageNet's weights, [0, 1] otherwise).

    Returns:
        A float in [0, 1].
    """
    import numpy as np

    from .data import pipeline

    if split not in dataset.arrays:
        raise InvalidParameterError(
            f"`split` must be one of {sorted(dataset.arrays)}, got {split!r}.")
    if preprocessing is not None and not callable(preprocessing):
        raise InvalidParameterError("`preprocessing` must be a function of 0..255 pixels "
                                    f"(or None), got {type(preprocessing).__name__}.")
    images, labels = dataset.arrays[split]
    batches = pipeline(images, labels, image_size=dataset.input_shape[:2],
                       batch_size=batch_size,
                       preprocessing=preprocessing or preprocessing_for(model))
    # Called eagerly, batch by batch: ``predict`` would trace a function for every model
    # it meets (and warn of retracing when a notebook compares several).
    predicted = np.concatenate([np.argmax(model(x, training=False), axis=-1)
                                for x, _ in batches])
    return float(np.mean(predicted == np.asarray(labels)))


# ---------------------------------------------------------------------------
# The recipe's parts
# ---------------------------------------------------------------------------


def warmup_cosine(epochs, steps_per_epoch, peak=RECIPE.peak_learning_rate,
                  warmup_epochs=RECIPE.warmup_epochs):
    """Linear warm-up from 0 to ``peak`` over ``warmup_epochs``, then a cosine decay to 0.

    The warm-up keeps the first steps, taken with random weights and
    moving averages that know nothing yet, from throwing the network off;
    the decay lets it settle at the end.
    """
    warmup = warmup_epochs * steps_per_epoch
    return keras.optimizers.schedules.CosineDecay(
        0.0, max(1, epochs * steps_per_epoch - warmup), warmup_target=peak,
        warmup_steps=warmup)


def training_batches(dataset, recipe=RECIPE):
    """The recipe's training batches from a ``resnet.train.data`` Dataset's training split.

    Full batches only (a different few images sit out each epoch), reshuffled
    every epoch from the recipe's ``seed``, randomly shifted by up to ``shift`` of the
    size and rotated by up to ``rotation`` degrees (no augmentation when both are 0).
    """
    from . import data

    batches = data.pipeline(*dataset.arrays["train"], image_size=dataset.input_shape[:2],
                            batch_size=recipe.batch_size, shuffle=True, seed=recipe.seed,
                            drop_remainder=True)
    if recipe.shift or recipe.rotation:
        batches = data.augment(batches, shift=recipe.shift, rotation=recipe.rotation,
                               seed=recipe.seed)
    return batches


def keep_best_weights(epochs):
    """A callback that restores, at the end, the weights of the epoch with the lowest
    validation loss (patience as long as the run, so it never stops early)."""
    return keras.callbacks.EarlyStopping(monitor="val_loss", patience=epochs,
                                         restore_best_weights=True)


def recipe_speed(recipe, dataset, build=ResNet50):
    """The precision and XLA for training ``build``'s model with ``recipe`` on ``dataset``:
    ``speed.choose_speed`` with the recipe's switches, timed on a fresh model of the
    dataset's shape (bfloat16 is not tried: the recipes' accuracy in it is unmeasured)."""
    classes = len(dataset.class_names)
    return speed.choose_speed(
        lambda: build(input_shape=dataset.input_shape, classes=classes),
        (recipe.batch_size, *dataset.input_shape), mixed_precision=recipe.mixed_precision,
        jit_compile=recipe.jit_compile, try_bfloat16=False)


def validation(split):
    """``split`` (a tf.data pipeline) if it holds images, else None: a dataset without
    validation images (e.g. ``data.subset(..., val_per_class=0)``) trains its whole
    budget and keeps the last epoch."""
    return None if split is None or split.cardinality() == 0 else split


def fit_phase(build_model, batches, epochs, *, steps_per_epoch, store=None, phase=None,
              **train_options):
    """``train`` for ``epochs``, resumable from ``store`` (a ``backup.Backup``, or None),
    and timed: returns (model, history, seconds). It keeps the epoch of lowest validation
    loss, or the last epoch when ``validation_data`` is None (a fixed budget)."""
    keep_best = train_options.get("validation_data") is not None
    keeping, steps = [keep_best_weights(epochs)] if keep_best else [], None
    if store is not None:
        batches, keeping = store.resumable(batches, epochs, steps_per_epoch, phase,
                                           keep_best=keep_best)
        steps = steps_per_epoch
    callbacks = [*keeping, *train_options.pop("callbacks", ())]
    start = time.perf_counter()
    model, history = train(build_model, batches, epochs=epochs, callbacks=callbacks,
                           steps_per_epoch=steps, **train_options)
    return model, history, time.perf_counter() - start


class Run(NamedTuple):
    """What ``train_resnet50`` returns: the model (best weights), fit's History, the
    seconds training took (building and compiling the model included), and the
    precision and XLA it trained with (a ``speed.SpeedChoice``; print it for the line
    that says why)."""

    model: keras.Model
    history: keras.callbacks.History
    seconds: float
    speed: speed.SpeedChoice


def train_resnet50(dataset, recipe=RECIPE, *, build=ResNet50, speed_choice=None,
                   callbacks=(), verbose=0, backup_dir=None):
    """Train ResNet50 on a ``resnet.train.data`` Dataset with a recipe (see the module).

    Args:
        dataset: what ``resnet.train.data.digits()``, ``lfw_faces()``, ``image_folder()``
            or ``cifar10()`` return, at the recipe's ``image_size``; its ``val`` split
            picks the best epoch (a dataset without validation images trains for the
            recipe's epochs and keeps the last).
        recipe: a ``recipe.Recipe`` (default ``RECIPE``, the book's).
        build: the model builder, called as ``build(input_shape=..., classes=...,
            seed=..., bn_momentum=..., zero_init_residual=...)`` (``resnet.ResNet50``;
            a smaller network with the same signature trains the same way).
        speed_choice: a ``speed.SpeedChoice`` made before (None: ``recipe_speed``).
        callbacks: more Keras callbacks.
        verbose: ``fit``'s verbosity (1: a progress bar per epoch).
        backup_dir: a folder to back the run up to after every epoch, or an open
            ``backup.Backup``. The run's settings are recorded there, and a folder that
            holds another run's backup is refused, naming what differs; calling again
            after the process died resumes after the last finished epoch with the same
            batches, augmentation and learning rates as an uninterrupted run. A folder
            is removed when training ends (an open ``Backup`` is left to its opener).

    Returns:
        A ``Run`` (model, history, seconds, speed).
    """
    if not isinstance(recipe, Recipe):
        raise InvalidParameterError("`recipe` must be a `resnet.train.recipe.Recipe`, got "
                                    f"{type(recipe).__name__}.")
    recipe.check_dataset(dataset)
    steps_per_epoch = recipe.steps_per_epoch(dataset)
    store, owned = backup.opened(backup_dir, backup.settings(recipe, dataset, build))
    keras.utils.set_random_seed(recipe.seed)

    def build_model():
        return build(input_shape=dataset.input_shape, classes=len(dataset.class_names),
                     seed=recipe.seed, bn_momentum=recipe.bn_momentum,
                     zero_init_residual=recipe.zero_init_residual)

    def adam():
        return keras.optimizers.Adam(warmup_cosine(
            recipe.epochs, steps_per_epoch, recipe.peak_learning_rate, recipe.warmup_epochs))

    speed_choice = speed_choice or recipe_speed(recipe, dataset, build)
    model, history, seconds = fit_phase(
        build_model, training_batches(dataset, recipe), recipe.epochs,
        steps_per_epoch=steps_per_epoch, store=store, speed_choice=speed_choice,
        optimizer=adam, validation_data=validation(dataset.val), callbacks=callbacks,
        verbose=verbose)
    if owned:
        store.remove()
    return Run(model, history, seconds, speed_choice)
