"""Training: the recipe the book uses, and the one function that compiles and fits.

    >>> from resnet import data, training
    >>> digits = data.digits(image_size=32)
    >>> run = training.train_resnet50(digits, epochs=12)       # doctest: +SKIP
    >>> run.model.evaluate(digits.test)                         # doctest: +SKIP

``train_resnet50`` is the recipe of the training chapter, each part for a
measured reason (the chapter shows each):

    model          ``resnet.ResNet50`` with BN momentum 0.9 (``SMALL_DATA_BN_MOMENTUM``:
                   Keras' 0.99 lags behind the weights when an epoch has a
                   few dozen steps) and ``zero_init_residual=True`` (every block
                   starts as the identity; Goyal et al. 2017)
    batches        full batches of ``batch_size`` (one compiled program), reshuffled
                   every epoch from ``seed``, randomly shifted and rotated
                   (``resnet.data.augment``)
    optimizer      Adam with a linear warm-up to ``peak_learning_rate`` over the
                   first epoch, then a cosine decay to zero (``warmup_cosine``)
    callbacks      the weights of the epoch with the lowest validation loss are
                   restored at the end (``keep_best_weights``)
    speed          ``train``'s switches: mixed precision and XLA on a GPU, and on
                   a CPU XLA only where it measured faster (``choose_jit_compile``)

``train`` is the general function underneath: it builds a model from a
function inside a ``tf.distribute`` strategy's scope and a precision policy,
compiles it (with or without XLA) and fits it. ``resnet.speed`` holds the
device, precision and strategy helpers it uses.
"""

import json
import os
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np
import tensorflow as tf
from tensorflow import keras

from . import speed
from .speed import cpu_description  # the CPU a figure was measured on, named once (speed.py)
from .validation import InvalidParameterError, check_int

SMALL_DATA_BN_MOMENTUM = 0.9  # forgets the initial statistics within two epochs of 33 steps
PEAK_LEARNING_RATE = 3e-3


# ---------------------------------------------------------------------------
# XLA: on or off, decided by measuring this machine
# ---------------------------------------------------------------------------


class XlaChoice(NamedTuple):
    """The outcome of ``choose_jit_compile``.

    jit_compile: the decision. rates: training images/s measured without and
    with XLA ({"off": ..., "on": ...}; empty when nothing was measured).
    reason: one line that says what was decided and why.
    """

    jit_compile: bool
    rates: dict
    reason: str

    def __str__(self):
        return self.reason


def _cache_path():
    root = os.environ.get("RESNET_CACHE_DIR") or Path.home() / ".cache" / "resnet-from-scratch"
    return Path(root) / "xla_choice.json"


def _time_steps(model, x, y, steps):
    """Images per second of the fastest of ``steps`` training steps.

    The fastest step, not the mean: a step that shared the cores with another
    process is slower, never faster, so the minimum is the least disturbed
    figure. (Measured on an AMD EPYC, AVX2, 2 cores: the mean of 3 steps, taken
    while other training runs shared the cores, gave 3.95 images/s without XLA
    and 3.66 with it and cached the wrong choice, XLA off; the same machine idle
    gave 10.9 and 33.5.)
    """
    model.train_on_batch(x, y)  # the first step traces (and, with XLA, compiles)
    model.train_on_batch(x, y)
    fastest = float("inf")
    for _ in range(steps):
        start = time.perf_counter()
        model.train_on_batch(x, y)
        fastest = min(fastest, time.perf_counter() - start)
    return len(x) / fastest


def choose_jit_compile(build_model, batch_shape, *, classes=None, steps=3, cache=True):
    """Decide whether XLA (``jit_compile=True``) makes training faster on this machine.

    On a GPU the answer is yes (Keras' own default there). On a CPU no fixed
    answer is right: on an AVX2-only EPYC, XLA made ResNet50 training at 32x32
    2.3 times faster (TensorFlow's own ``Conv2DBackpropInput`` kernel is 15-100x
    slow there on the 1x1 maps of the last stage), while on an AVX-512 EPYC it
    made the same training run at 0.25-0.27x the speed (about four times slower),
    and at 0.54x on an Intel Xeon with AMX. So this times ``steps`` training
    steps of the model with and without XLA, on random data of the batch's
    shape, and picks the one whose fastest step is faster.

    Args:
        build_model: a function of no arguments returning an uncompiled model
            (called twice; the models are thrown away).
        batch_shape: (batch, height, width, channels) of a training batch.
        classes: the number of classes (default: the model's output width).
        steps: timed steps of each; two more, untimed, trace and compile first.
        cache: reuse a decision measured earlier on this CPU with the same
            model, batch and TensorFlow version (stored in
            ``~/.cache/resnet-from-scratch/xla_choice.json``, or under
            ``$RESNET_CACHE_DIR``). Measuring takes about a minute on two cores.

    Returns:
        An ``XlaChoice``; print it to say what was chosen and why.
    """
    if speed.gpus():
        return XlaChoice(True, {}, f"XLA on: a GPU ({speed.device_name()}), where Keras "
                                   "compiles with XLA by default")
    probe = build_model()
    classes = classes or int(probe.output_shape[-1])
    batch_shape = tuple(int(n) for n in batch_shape)
    cpu = cpu_description()
    key = (f"{cpu} | TF {tf.__version__} | {probe.name} {probe.count_params()} params | "
           f"batch {batch_shape} | {keras.mixed_precision.global_policy().name} | "
           "fastest step")  # the method too: an entry timed otherwise is not reused
    path = _cache_path()
    stored = {}
    if cache and path.exists():
        try:
            stored = json.loads(path.read_text())
        except (OSError, ValueError):
            stored = {}
    if key in stored:
        rates = stored[key]
        measured = "measured earlier on this machine"
    else:
        rng = np.random.default_rng(0)
        x = rng.uniform(0, 1, size=batch_shape).astype("float32")
        y = rng.integers(0, classes, size=batch_shape[0]).astype("int32")
        rates = {}
        for label, jit in (("off", False), ("on", True)):
            model = probe if label == "off" else build_model()
            model.compile(optimizer=keras.optimizers.SGD(1e-3),
                          loss="sparse_categorical_crossentropy", jit_compile=jit)
            rates[label] = round(_time_steps(model, x, y, steps), 2)
        measured = f"measured now, {steps} steps each"
        if cache:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps({**stored, key: rates}, indent=1))
            except OSError:
                pass  # a read-only home: measure again next time
    on = rates["on"] > rates["off"]
    reason = (f"XLA {'on' if on else 'off'}: training ran at {rates['off']:.1f} images/s "
              f"without XLA and {rates['on']:.1f} with it on this CPU ({cpu}; {measured})")
    return XlaChoice(on, rates, reason)


def resolve_jit_compile(jit_compile, build_model=None, batch_shape=None):
    """``jit_compile`` as a bool: "auto" measures (``choose_jit_compile``), a bool stays.

    Returns:
        (jit_compile, reason): the decision and a line that says why.
    """
    if isinstance(jit_compile, bool):
        return jit_compile, f"XLA {'on' if jit_compile else 'off'}: as asked (jit_compile=" \
                            f"{jit_compile})"
    if jit_compile != "auto":
        raise InvalidParameterError(
            f"`jit_compile` must be 'auto', True or False, got {jit_compile!r}.")
    if build_model is None or batch_shape is None:
        on = bool(speed.gpus())
        return on, f"XLA {'on' if on else 'off'}: {'a GPU' if on else 'a CPU, not measured'}"
    choice = choose_jit_compile(build_model, batch_shape)
    return choice.jit_compile, choice.reason


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
            ``resnet.speed.default_strategy()``.
        mixed_precision: see ``resnet.speed.resolve_precision`` ("auto":
            ``mixed_float16`` on a GPU, float32 on a CPU).
        jit_compile: True, False or "auto": on a GPU, XLA; on a CPU, XLA only
            if it measured faster for this model and batch on this machine
            (``choose_jit_compile``; the decision is stored as
            ``model.xla_choice``, a line that says why).
        optimizer: a function of no arguments returning a Keras optimizer
            (created inside the strategy's scope); None means Adam(1e-3).
        loss: the loss (the labels are integer classes by default).
        callbacks: Keras callbacks for ``fit``.
        verbose: ``fit``'s verbosity.
        initial_epoch: the epoch to start from (for resuming).
        steps_per_epoch: batches per epoch, for a ``train_data`` that repeats
            without end (None: one pass over ``train_data``).

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
    policy = speed.resolve_precision(mixed_precision)
    with speed.precision_policy(policy), strategy.scope():
        batch_shape = None
        if jit_compile == "auto" and train_data is not None:
            batch_shape = train_data.element_spec[0].shape
            batch_shape = None if None in batch_shape else batch_shape
        jit, reason = resolve_jit_compile(jit_compile, build_model, batch_shape)
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
            jit_compile=jit,
        )
        model.xla_choice = reason
    history = model.fit(train_data, epochs=epochs, validation_data=validation_data,
                        callbacks=callbacks, verbose=verbose, initial_epoch=initial_epoch,
                        steps_per_epoch=steps_per_epoch)
    return model, history


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
    """The recipe's training batches from a ``resnet.data`` Dataset's training split.

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


# The files of a backup folder, named here only: ``python -m resnet train`` records the
# settings of the run the backup belongs to (RUN_FILE); ``train_resnet50(backup_dir=...)``
# writes Keras' BackupAndRestore files (the latest weights with the optimizer's state,
# and the finished epochs) and the best epoch's weights. ``remove_backup`` deletes these
# and nothing else.
RUN_FILE = "run.json"
_BEST_FILE = "best_weights.npz"
BACKUP_FILES = (RUN_FILE, "latest.weights.h5", "latest.weights.h5.bkp",
                "training_metadata.json", "training_metadata.json.bkp", _BEST_FILE,
                f".{_BEST_FILE}.partial.npz")


def finished_epochs(backup_dir):
    """How many epochs the backup in ``backup_dir`` holds (0: none, or no backup)."""
    for name in ("training_metadata.json", "training_metadata.json.bkp"):
        try:
            return int(json.loads((Path(backup_dir) / name).read_text())["epoch"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return 0


def remove_backup(backup_dir):
    """Delete the files of ``train_resnet50``'s backup, then the folder if it is empty."""
    folder = Path(backup_dir)
    for name in BACKUP_FILES:
        (folder / name).unlink(missing_ok=True)
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()


class _ResumableKeepBest(keras.callbacks.EarlyStopping):
    """``keep_best_weights`` that survives a restart: the best epoch's weights and
    validation loss are also written to ``path`` and read back when training begins."""

    def __init__(self, path, patience):
        super().__init__(monitor="val_loss", patience=patience, restore_best_weights=True)
        self.path = Path(path)

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        if self.path.exists():
            with np.load(self.path) as stored:
                count = int(stored["count"])
                self.best_weights = [stored[f"w{i}"] for i in range(count)]
                self.best = float(stored["best"])
                self.best_epoch = int(stored["best_epoch"])
                self.best = None if np.isnan(self.best) else self.best

    def on_epoch_end(self, epoch, logs=None):
        before = self.best_weights
        super().on_epoch_end(epoch, logs)
        if self.best_weights is not before:  # a new best: store it, atomically
            partial = self.path.with_name(f".{self.path.name}.partial.npz")
            self.path.parent.mkdir(parents=True, exist_ok=True)
            best = np.nan if self.best is None else float(self.best)
            np.savez(partial, count=len(self.best_weights), best=best,
                     best_epoch=self.best_epoch,
                     **{f"w{i}": w for i, w in enumerate(self.best_weights)})
            os.replace(partial, self.path)


class Run(NamedTuple):
    """What ``train_resnet50`` returns: the model (best weights), fit's History, the
    seconds ``fit`` took, and the XLA decision (a line that says why)."""

    model: keras.Model
    history: keras.callbacks.History
    seconds: float
    xla_choice: str


def train_resnet50(
    dataset,
    *,
    epochs=12,
    batch_size=32,
    peak_learning_rate=PEAK_LEARNING_RATE,
    bn_momentum=SMALL_DATA_BN_MOMENTUM,
    zero_init_residual=True,
    seed=0,
    shift=0.1,
    rotation=10.0,
    jit_compile="auto",
    mixed_precision="auto",
    strategy=None,
    callbacks=(),
    verbose=0,
    initial_epoch=0,
    backup_dir=None,
):
    """Train ResNet50 on a ``resnet.data`` Dataset with the book's recipe (see the module).

    Args:
        dataset: what ``resnet.data.digits()``, ``lfw_faces()``, ``image_folder()``
            or ``cifar10()`` return; its ``val`` split picks the best epoch.
        epochs: passes over the training split.
        batch_size: images per step.
        peak_learning_rate: Adam's learning rate after the warm-up epoch.
        bn_momentum: momentum of the BN moving averages.
        zero_init_residual: start every residual block as the identity.
        seed: the model's initial weights, the shuffling and the augmentation
            (the split is the dataset's own).
        shift, rotation: the augmentation (0 and 0: none).
        jit_compile, mixed_precision, strategy: see ``train``.
        callbacks: more Keras callbacks (e.g. ``BackupAndRestore``).
        verbose: ``fit``'s verbosity (1: a progress bar per epoch).
        initial_epoch: the epoch to start from (for resuming).
        backup_dir: a folder to back the run up to after every epoch (Keras'
            ``BackupAndRestore``, with the best epoch's weights beside it).
            Calling again with the same arguments after the process died
            resumes after the last finished epoch (``finished_epochs`` says
            which), with the same batches, augmentation and learning rates
            as an uninterrupted run. The backup stays when the run ends:
            save the model, then ``remove_backup(backup_dir)``.

    Returns:
        A ``Run`` (model, history, seconds, xla_choice).
    """
    from .model import ResNet50

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

    batches = training_batches(dataset, batch_size, seed=seed, shift=shift, rotation=rotation)
    keep_best, steps = keep_best_weights(epochs), None
    if backup_dir is not None:
        # One endless stream of epochs, so that epoch k's shuffle and augmentation
        # do not depend on how many epochs this process has run: a resumed run
        # skips the finished epochs' batches and sees what it would have seen.
        steps = steps_per_epoch
        batches = batches.repeat().skip(finished_epochs(backup_dir) * steps_per_epoch)
        keep_best = _ResumableKeepBest(Path(backup_dir) / _BEST_FILE, patience=epochs)
        # Best weights first: a kill between the two saves then repeats an epoch
        # rather than forgetting that it was the best.
        callbacks = [keras.callbacks.BackupAndRestore(str(backup_dir), double_checkpoint=True,
                                                      delete_checkpoint=False), *callbacks]
    start = time.perf_counter()
    model, history = train(
        build, batches, epochs=epochs, validation_data=dataset.val, strategy=strategy,
        mixed_precision=mixed_precision, jit_compile=jit_compile, optimizer=adam,
        callbacks=[keep_best, *callbacks], verbose=verbose,
        initial_epoch=initial_epoch, steps_per_epoch=steps,
    )
    return Run(model, history, time.perf_counter() - start, model.xla_choice)


CLASS_NAMES_ENTRY = "class_names.json"


def save_model(model, path, *, class_names=None):
    """Save ``model`` for inference: architecture and weights, no optimizer state.

    Adam's two moments would triple the file (ResNet50: 284 MB instead of about
    95). The file is written beside ``path`` first and then renamed, so that a
    process killed while saving never leaves a half-written model at ``path``.
    Load it with ``keras.models.load_model(path)`` (safe mode on).

    ``class_names`` (one per output, in label order), when given, are stored
    inside the .keras file (a zip archive) as ``class_names.json``, which Keras
    ignores when loading; ``saved_class_names(path)`` reads them back.
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise InvalidParameterError(f"`path` must end in '.keras', got {str(path)!r}.")
    bare = model.__class__.from_config(model.get_config())  # uncompiled (clone_model compiles)
    bare.set_weights(model.get_weights())
    partial = path.with_name(f".{path.stem}.partial.keras")
    path.parent.mkdir(parents=True, exist_ok=True)
    bare.save(partial)
    if class_names is not None:
        import zipfile

        names = [str(name) for name in class_names]
        if len(names) != int(model.output_shape[-1]):
            partial.unlink()
            raise InvalidParameterError(f"`class_names` must hold one name per class "
                                        f"({model.output_shape[-1]}), got {len(names)}.")
        with zipfile.ZipFile(partial, "a") as archive:
            archive.writestr(CLASS_NAMES_ENTRY, json.dumps(names))
    os.replace(partial, path)
    return path


def saved_class_names(path):
    """The class names ``save_model`` stored in a .keras file, or None if it holds none."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            if CLASS_NAMES_ENTRY not in archive.namelist():
                return None
            names = json.loads(archive.read(CLASS_NAMES_ENTRY))
    except (OSError, ValueError, zipfile.BadZipFile):
        return None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        return None
    return tuple(names)
