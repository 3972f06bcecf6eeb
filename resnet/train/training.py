"""Training: the recipe the book uses, and the one function that compiles and fits.

    >>> from resnet.train import data, training
    >>> digits = data.digits(image_size=training.RECIPE_IMAGE_SIZE)   # 16x16
    >>> run = training.train_resnet50(digits)                   # doctest: +SKIP
    >>> training.accuracy(run.model, digits)                    # doctest: +SKIP

``train_resnet50`` is the recipe of the training chapter, each part for a
measured reason (the chapter shows each):

    images         the digits at 16x16 (``RECIPE_IMAGE_SIZE``), twice their 8x8: on a
                   CPU a step of ResNet50 on small images costs mostly a fixed
                   amount (updating 23.5 million weights and their Adam moments,
                   launching some 300 ops), and 32x32 made each step dearer
                   (298 ms against 213 for a batch of 32 on an Intel Xeon with AMX)
                   without making the network more accurate
    model          ``resnet.ResNet50`` with BN momentum 0.9 (``SMALL_DATA_BN_MOMENTUM``:
                   Keras' 0.99 lags behind the weights when an epoch has a
                   few dozen steps) and ``zero_init_residual=True`` (every block
                   starts as the identity; Goyal et al. 2017)
    batches        full batches of ``batch_size`` (one compiled program), reshuffled
                   every epoch from ``seed``, randomly shifted and rotated
                   (``resnet.train.data.augment``)
    optimizer      Adam with a linear warm-up to ``peak_learning_rate`` over the
                   first epoch, then a cosine decay to zero (``warmup_cosine``).
                   Fewer steps were tried and cost accuracy (Intel Xeon with AMX,
                   seeds 7 and 8: 8 epochs 97.8% and 97.8%; batches of 64 at a
                   peak of 4e-3 98.9% and 97.5%; this recipe 98.9% for seed 7)
    callbacks      the weights of the epoch with the lowest validation loss are
                   restored at the end (``keep_best_weights``)
    speed          ``speed.choose_speed``: mixed precision and XLA on a GPU, and on
                   a CPU XLA only where it measured faster, in float32: bfloat16 is
                   not tried (``try_bfloat16=False``) because the recipe's accuracy in
                   it is unmeasured (nor was it faster at 16x16 where it was timed:
                   259 ms a step of batch 32 against 213 in float32 on an Intel Xeon
                   with AMX)

``benchmarks/train_digits.py`` measures its time to accuracy over seeds against the
previous recipe (the same at 32x32); the training chapter shows the figures.

``train`` is the general function underneath: it builds a model from a
function inside a ``tf.distribute`` strategy's scope and a precision policy,
compiles it (with or without XLA) and fits it. ``resnet.train.speed`` decides the
precision and XLA (``choose_speed``) and holds the device and strategy helpers.
"""

import time
from typing import NamedTuple

from tensorflow import keras

from ..validation import InvalidParameterError, check_int
from . import backup, speed

SMALL_DATA_BN_MOMENTUM = 0.9  # forgets the initial statistics within two epochs of 33 steps
PEAK_LEARNING_RATE = 3e-3
BATCH_SIZE = 32
RECIPE_IMAGE_SIZE = 16  # the digits' side for the recipe (they are 8x8)


# ---------------------------------------------------------------------------
# The general training function
# ---------------------------------------------------------------------------


def train(
    build_model,
    train_data,
    *,
    epochs=1,
    validation_data=None,
    strategy=None,
    mixed_precision="auto",
    jit_compile="auto",
    optimizer=None,
    loss="sparse_categorical_crossentropy",
    callbacks=None,
    verbose=0,
    initial_epoch=0,
    steps_per_epoch=None,
    try_bfloat16=True,
    speed_choice=None,
):
    """Build, compile and fit a model with the fast-path and distribution switches.

    Args:
        build_model: a function of no arguments that returns an uncompiled
            Keras model (e.g. ``lambda: resnet.ResNet50((32, 32, 3), 10)``);
            it is called inside the strategy's scope and the precision policy,
            which is why ``train`` takes a builder rather than a model.
        train_data: a ``tf.data.Dataset`` of (images, labels) batches; each
            batch is the global batch, split evenly between the replicas.
        epochs: passes over ``train_data``.
        validation_data: an optional dataset evaluated after each epoch.
        strategy: a ``tf.distribute.Strategy``; None means
            ``resnet.train.speed.default_strategy()``.
        mixed_precision: see ``resnet.train.speed.resolve_precision`` ("auto":
            ``mixed_float16`` on a GPU; on a CPU float32, or ``mixed_bfloat16``
            where the CPU has AVX512-BF16 or AMX and it measured faster).
        jit_compile: True, False or "auto": on a GPU, XLA; on a CPU, XLA only
            if it measured faster for this model and batch on this machine.
            Both are decided together by ``speed.choose_speed``; the model
            shows the outcome (``model.dtype_policy``, ``model.jit_compile``).
        optimizer: a function of no arguments returning a Keras optimizer
            (created inside the strategy's scope); None means Adam(1e-3).
        loss: the loss (the labels are integer classes by default).
        callbacks: Keras callbacks for ``fit``.
        verbose: ``fit``'s verbosity.
        initial_epoch: the epoch to start from (for resuming).
        steps_per_epoch: batches per epoch, for a ``train_data`` that repeats
            without end (None: one pass over ``train_data``).
        try_bfloat16: whether ``mixed_precision="auto"`` may choose bfloat16 on
            a CPU; False where the accuracy in bfloat16 is not known to match.
        speed_choice: a ``speed.choose_speed`` decision made before (for a caller
            that prints it, or trains several times); then ``mixed_precision``,
            ``jit_compile`` and ``try_bfloat16`` are not read.

    Returns:
        (model, history): the trained model and ``fit``'s History.
    """
    if isinstance(build_model, keras.layers.Layer) or not callable(build_model):
        raise InvalidParameterError(
            "`build_model` must be a function that returns a new model (e.g. "
            f"`lambda: resnet.ResNet50()`), got {type(build_model).__name__}."
        )
    if optimizer is not None and not callable(optimizer):
        raise InvalidParameterError(
            "`optimizer` must be a function that returns a new optimizer (e.g. "
            f"`lambda: keras.optimizers.SGD(0.1)`), got {type(optimizer).__name__}."
        )
    strategy = strategy if strategy is not None else speed.default_strategy()
    if speed_choice is None:
        batch_shape = None
        if train_data is not None:
            batch_shape = tuple(train_data.element_spec[0].shape)
            batch_shape = None if None in batch_shape else batch_shape
        with strategy.scope():
            speed_choice = speed.choose_speed(build_model, batch_shape,
                                              mixed_precision=mixed_precision,
                                              jit_compile=jit_compile,
                                              try_bfloat16=try_bfloat16)
    elif not isinstance(speed_choice, speed.SpeedChoice):
        raise InvalidParameterError(
            "`speed_choice` must be what `resnet.train.speed.choose_speed` returns, got "
            f"{type(speed_choice).__name__}.")
    policy = speed_choice.mixed_precision
    with speed.precision_policy(policy), strategy.scope():
        model = build_model()
        if policy != "float32" and model.output.dtype != "float32":
            raise InvalidParameterError(
                f"Under `mixed_precision` {policy!r} the model's output must be float32 "
                f"(a float16 softmax loses precision), got {model.output.dtype}: give the "
                "last layer dtype='float32'."
            )
        model.compile(
            optimizer=optimizer() if optimizer else keras.optimizers.Adam(1e-3),
            loss=loss,
            metrics=["accuracy"],
            jit_compile=speed_choice.jit_compile,
        )
    history = model.fit(train_data, epochs=epochs, validation_data=validation_data,
                        callbacks=callbacks, verbose=verbose, initial_epoch=initial_epoch,
                        steps_per_epoch=steps_per_epoch)
    return model, history


def accuracy(model, dataset, split="test", *, batch_size=64):
    """The share of a ``resnet.train.data`` Dataset's ``split`` that ``model`` gets right.

    The images go through the preprocessing the model was trained with
    (``resnet.preprocessing_for``: ImageNet's for a model fine-tuned from ImageNet's
    weights, [0, 1] otherwise); the model needs no compiling (a saved model loaded
    again works too).

    Args:
        model: a Keras classifier, (B, H, W, C) -> (B, classes) probabilities.
        dataset: what ``resnet.train.data.digits()``, ``image_folder()``, ... return.
        split: "train", "val" or "test".
        batch_size: images per prediction batch.

    Returns:
        A float in [0, 1].
    """
    import numpy as np

    from ..preprocessing import preprocessing_for
    from .data import pipeline

    if split not in dataset.arrays:
        raise InvalidParameterError(
            f"`split` must be one of {sorted(dataset.arrays)}, got {split!r}.")
    images, labels = dataset.arrays[split]
    batches = pipeline(images, labels, image_size=dataset.input_shape[:2],
                       batch_size=batch_size, preprocessing=preprocessing_for(model))
    # Called eagerly, batch by batch: ``predict`` would trace a function for every model
    # it meets (and warn of retracing when a notebook compares several).
    predicted = np.concatenate([np.argmax(model(x, training=False), axis=-1)
                                for x, _ in batches])
    return float(np.mean(predicted == np.asarray(labels)))


# ---------------------------------------------------------------------------
# The recipe's parts
# ---------------------------------------------------------------------------


def warmup_cosine(epochs, steps_per_epoch, peak=PEAK_LEARNING_RATE, warmup_epochs=1):
    """Linear warm-up from 0 to ``peak`` over ``warmup_epochs``, then a cosine decay to 0.

    The warm-up keeps the first steps, taken with random weights and
    moving averages that know nothing yet, from throwing the network off;
    the decay lets it settle at the end.
    """
    warmup = warmup_epochs * steps_per_epoch
    return keras.optimizers.schedules.CosineDecay(
        0.0, max(1, epochs * steps_per_epoch - warmup), warmup_target=peak,
        warmup_steps=warmup)


def training_batches(dataset, batch_size=32, *, seed=0, shift=0.1, rotation=10.0):
    """The recipe's training batches from a ``resnet.train.data`` Dataset's training split.

    Full batches only (a different few images sit out each epoch), reshuffled
    every epoch from ``seed``, randomly shifted by up to ``shift`` of the size
    and rotated by up to ``rotation`` degrees (no augmentation when both are 0).
    """
    from . import data

    train = dataset.arrays["train"]
    batches = data.pipeline(*train, image_size=dataset.input_shape[:2], batch_size=batch_size,
                            shuffle=True, seed=seed, drop_remainder=True)
    if shift or rotation:
        batches = data.augment(batches, shift=shift, rotation=rotation, seed=seed)
    return batches


def keep_best_weights(epochs):
    """A callback that restores, at the end, the weights of the epoch with the lowest
    validation loss (patience as long as the run, so it never stops early)."""
    return keras.callbacks.EarlyStopping(monitor="val_loss", patience=epochs,
                                         restore_best_weights=True)


class Run(NamedTuple):
    """What ``train_resnet50`` returns: the model (best weights), fit's History, the
    seconds ``fit`` took, and the precision and XLA it trained with (a
    ``speed.SpeedChoice``; print it for the line that says why)."""

    model: keras.Model
    history: keras.callbacks.History
    seconds: float
    speed: speed.SpeedChoice


def train_resnet50(
    dataset,
    *,
    epochs=12,
    batch_size=BATCH_SIZE,
    peak_learning_rate=PEAK_LEARNING_RATE,
    bn_momentum=SMALL_DATA_BN_MOMENTUM,
    zero_init_residual=True,
    seed=0,
    shift=0.1,
    rotation=10.0,
    jit_compile="auto",
    mixed_precision="auto",
    strategy=None,
    speed_choice=None,
    callbacks=(),
    verbose=0,
    initial_epoch=0,
    backup_dir=None,
):
    """Train ResNet50 on a ``resnet.train.data`` Dataset with the book's recipe (see the module).

    Args:
        dataset: what ``resnet.train.data.digits()``, ``lfw_faces()``, ``image_folder()``
            or ``cifar10()`` return; its ``val`` split picks the best epoch.
        epochs: passes over the training split.
        batch_size: images per step.
        peak_learning_rate: Adam's learning rate after the warm-up epoch.
        bn_momentum: momentum of the BN moving averages.
        zero_init_residual: start every residual block as the identity.
        seed: the model's initial weights, the shuffling and the augmentation
            (the split is the dataset's own).
        shift, rotation: the augmentation (0 and 0: none).
        jit_compile, mixed_precision, strategy, speed_choice: see ``train``
            (bfloat16 is not tried: this recipe's accuracy in it is unmeasured).
        callbacks: more Keras callbacks (e.g. ``BackupAndRestore``).
        verbose: ``fit``'s verbosity (1: a progress bar per epoch).
        initial_epoch: the epoch to start from (for resuming).
        backup_dir: a folder to back the run up to after every epoch (Keras'
            ``BackupAndRestore``, with the best epoch's weights beside it).
            Calling again with the same arguments after the process died
            resumes after the last finished epoch (``backup.finished_epochs``
            says which), with the same batches, augmentation and learning rates
            as an uninterrupted run. The backup stays when the run ends:
            save the model, then ``backup.remove(backup_dir)``.

    Returns:
        A ``Run`` (model, history, seconds, speed).
    """
    from ..model import ResNet50

    n_train = len(dataset.arrays["train"].labels)
    check_int(batch_size, "batch_size")
    check_int(epochs, "epochs")
    if n_train < batch_size:
        raise InvalidParameterError(
            f"`batch_size` ({batch_size}) must not exceed the training images ({n_train}).")
    steps_per_epoch = n_train // batch_size
    keras.utils.set_random_seed(seed)

    def build():
        return ResNet50(input_shape=dataset.input_shape, classes=len(dataset.class_names),
                        seed=seed, bn_momentum=bn_momentum,
                        zero_init_residual=zero_init_residual)

    def adam():
        return keras.optimizers.Adam(warmup_cosine(epochs, steps_per_epoch, peak_learning_rate))

    if speed_choice is None:
        speed_choice = speed.choose_speed(build, (batch_size, *dataset.input_shape),
                                          mixed_precision=mixed_precision,
                                          jit_compile=jit_compile, try_bfloat16=False)
    batches = training_batches(dataset, batch_size, seed=seed, shift=shift, rotation=rotation)
    keeping, steps = [keep_best_weights(epochs)], None
    if backup_dir is not None:
        steps = steps_per_epoch
        batches, keeping = backup.resumable(batches, backup_dir, epochs, steps_per_epoch)
    start = time.perf_counter()
    model, history = train(
        build, batches, epochs=epochs, validation_data=dataset.val, strategy=strategy,
        speed_choice=speed_choice, optimizer=adam, callbacks=[*keeping, *callbacks],
        verbose=verbose, initial_epoch=initial_epoch, steps_per_epoch=steps,
    )
    return Run(model, history, time.perf_counter() - start, speed_choice)
