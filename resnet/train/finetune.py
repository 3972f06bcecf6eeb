"""Fine-tuning: a pretrained ResNet50's backbone under a new classifier, in two phases.

    >>> from resnet.train import data, finetune
    >>> photos = data.image_folder("my_photos", image_size=160)              # doctest: +SKIP
    >>> run = finetune.fine_tune_resnet50(photos, weights="imagenet")        # doctest: +SKIP
    >>> run.model.name                                                        # doctest: +SKIP
    'resnet50_finetuned_imagenet'

Fine-tuning pays when the pretrained network saw many images related to yours (e.g.
ImageNet's photos, for photos of your own); from a small or unrelated source,
training from scratch (``train_resnet50``) can do as well or better, as chapter 7
measures on the digits, where it does so from 5 images a class. A network
pretrained on many related images already computes features that serve other
classes too, so the recipe keeps its backbone and trains a new classifier on top of it:

    weights        where the backbone comes from: "imagenet" (keras.applications'
                   ImageNet weights, downloaded once), a weights file saved from a
                   ResNet50 (theirs or ours: ``.h5``, ``.weights.h5``), or a trained
                   ``.keras`` model (e.g. from ``python -m resnet train``)
    model          ``resnet.ResNet50`` at the dataset's input shape, every layer but
                   the classifier given the pretrained weights (a convolution's
                   weights do not depend on the image size), and a new softmax
                   classifier with one output per class of the dataset
    phase 1        ``head_epochs`` epochs: the backbone frozen and only the new
                   classifier trains (Adam at ``head_learning_rate``). A frozen
                   layer (``trainable=False``) runs its BN layers in inference mode
                   in Keras, so their moving statistics stay as pretrained too; in
                   training mode they would be re-estimated from a few small
                   batches, and a random classifier's first updates would sit on
                   features that have moved under it
                   (``head="features"``: the backbone's features are computed
                   once, unaugmented, and the classifier trains on them alone,
                   which is the same model in far less time)
    phase 2        ``epochs`` epochs: the layers from stage ``unfreeze`` up train
                   too, at the lower ``learning_rate`` decaying to zero along a
                   cosine, so that the pretrained weights move a little rather
                   than being trained over. ``batch_norm`` says what their BN
                   layers do: "training" (batch statistics, moving averages and
                   scales updating) or "inference" (frozen: the pretrained
                   statistics, scales and offsets, as in phase 1). The default,
                   ``PHASE_2_BATCH_NORM``, is the one that scored higher in
                   chapter 7's sweep (``benchmarks/transfer_digits.py``)
    preprocessing  what the weights were trained with: ImageNet's (``imagenet_caffe``)
                   for ImageNet weights, [0, 1] pixels otherwise. The model's name
                   ends in "_imagenet" for the first, so ``resnet.preprocessing_for``,
                   ``resnet.evaluate`` and ``python -m resnet predict`` pick the same
                   preprocessing after the model is saved and loaded again
    augmentation   "auto": random resized crops and mirroring
                   (``data.augment_photos``) for RGB images, the digits' shifts and
                   rotations (``data.augment``) for greyscale ones
    best epoch     each phase ends with the weights of its epoch of lowest
                   validation loss (``training.keep_best_weights``)
    speed          XLA chosen per machine and mixed precision on a GPU, as
                   ``training.train`` does; ``backup_dir`` makes the run resumable

Both phases are ``training.train`` calls on the same model; ``epochs=0`` trains the
classifier only (the frozen backbone as a fixed feature extractor).
"""

import time
from pathlib import Path
from typing import NamedTuple

from tensorflow import keras

from ..preprocessing import IMAGENET_SUFFIX, imagenet_caffe, scale_to_unit
from ..validation import InvalidParameterError, check_int
from . import backup, speed, training

HEAD_LEARNING_RATE = 1e-3
LEARNING_RATE = 1e-4  # a tenth of the head's: the pretrained weights should move a little
STAGES = ("conv2", "conv3", "conv4", "conv5")
CLASSIFIER = "predictions"
AUGMENTATIONS = ("auto", "photos", "shifts", None)
HEADS = ("augmented", "features")
BATCH_NORM = ("training", "inference")
# Phase 2's BN mode: the one that scored higher in chapter 7's sweep (over every k, seed
# and backbone of benchmarks/transfer_digits.py; a test checks it against the results).
PHASE_2_BATCH_NORM = "inference"


class FineTuned(NamedTuple):
    """What ``fine_tune_resnet50`` returns: the model (each phase's best epoch), the
    History of each phase (None for a phase of 0 epochs), the seconds both phases'
    ``fit`` took, the precision and XLA both phases trained with (a
    ``speed.SpeedChoice``), and whether the weights were ImageNet's."""

    model: keras.Model
    head_history: object
    history: object
    seconds: float
    speed: speed.SpeedChoice
    imagenet: bool


class Pretrained(NamedTuple):
    """What ``pretrained_weights`` returns: {layer name: list of arrays} for every
    weighted layer but the classifier, whether they are ImageNet's, the channels of
    the images they were trained on, and where they came from ("imagenet" or the
    file's absolute path)."""

    layers: dict
    imagenet: bool
    channels: int
    source: str


def pretrained_weights(weights, channels=None):
    """The pretrained network's weights by layer name, and whether they are ImageNet's.

    Args:
        weights: "imagenet", a weights file (``.h5``, ``.weights.h5``) of a ResNet50,
            or a ``.keras`` model with ResNet50's layer names (ours or
            keras.applications').
        channels: the channels of the images to fine-tune on; checked against the
            weights' (None: not checked).

    Returns:
        A ``Pretrained`` (layers, imagenet, channels): {layer name: list of arrays}
        for every weighted layer but the classifier, True for keras.applications'
        ImageNet weights (or a model fine-tuned from them, whose name ends in
        "_imagenet"), and the channels they were trained on. ``fine_tune_resnet50``
        takes it as its ``weights``, so that weights loaded once serve many runs.

    Raises:
        ConnectionError: "imagenet" could not be downloaded (the message names the
            file and the alternative: download it elsewhere and pass its path).
        FileNotFoundError: the file does not exist.
        ValueError: the file is neither a Keras weights file nor a loadable .keras
            model, holds another network than ResNet50, or was trained on images of
            another number of channels than ``channels``.
    """
    from .. import weights as weights_module
    from ..model import ResNet50

    if isinstance(weights, Pretrained):
        _check_channels(weights, channels, "the pretrained weights were")
        return weights
    if isinstance(weights, str) and weights == "imagenet":
        source = ResNet50(input_shape=weights_module.IMAGENET_INPUT_SHAPE,
                          classes=weights_module.IMAGENET_CLASSES, weights="imagenet")
    elif isinstance(weights, (str, Path)) and str(weights).endswith(".keras"):
        if not Path(weights).is_file():
            raise FileNotFoundError(f"`weights` {str(weights)!r}: no such file (a saved "
                                    ".keras model).")
        try:
            source = keras.models.load_model(weights)  # safe mode: no arbitrary code
        except Exception as error:  # Keras raises many types for a file it cannot read
            raise ValueError(f"`weights` {str(weights)!r}: not a loadable Keras model "
                             f"({str(error).splitlines()[0] if str(error) else error!r}).") \
                from None
    elif isinstance(weights, (str, Path)):
        path = weights_module.resolve(weights, 50, (32, 32, 3), 1)  # checks the file
        depth, file_channels, classes = weights_module.file_shape(path)
        if depth != 50 or file_channels is None or classes is None:
            found = weights_module.describe_file(path) or "no ResNet layers"
            raise ValueError(f"`weights` {str(weights)!r}: not the weights of a ResNet50 "
                             f"(read from the file: {found}).")
        # Any input size loads the same kernels; a small one builds quickest.
        # (ResNet50 names a model that gets keras.applications' ImageNet file *_imagenet.)
        source = ResNet50(input_shape=(32, 32, file_channels), classes=classes, weights=path)
    else:
        raise InvalidParameterError(
            "`weights` must be 'imagenet', a weights file (.h5, .weights.h5) or a .keras "
            f"model, got {weights!r}.")
    imagenet = source.name.endswith(IMAGENET_SUFFIX)
    source_channels = int(source.input_shape[-1])
    what = "ImageNet's weights were" if imagenet else f"{str(weights)!r} was"
    _check_channels(Pretrained({}, imagenet, source_channels, ""), channels, what)
    origin = "imagenet" if weights == "imagenet" else str(Path(weights).resolve())
    found = {layer.name: layer for layer in source.layers if layer.weights}
    if not str(weights).endswith(".keras"):  # built by our ResNet50: its layers are right
        return Pretrained({name: layer.get_weights() for name, layer in found.items()
                           if name != CLASSIFIER}, imagenet, source_channels, origin)
    backbone = {}
    # Any saved model: its layers checked against the smallest ResNet50's, by name and shape.
    for layer in ResNet50(input_shape=(32, 32, source_channels), classes=1).layers:
        if not layer.weights or layer.name == CLASSIFIER:
            continue
        got = found.get(layer.name)
        if got is None or _shapes(got) != _shapes(layer):
            what = "missing" if got is None else f"of shapes {_shapes(got)}"
            raise ValueError(
                f"`weights` {str(weights)!r}: not a ResNet50 with this book's (and "
                f"keras.applications') layer names: its layer {layer.name!r} is {what}, "
                f"ResNet50's is {_shapes(layer)}.")
        backbone[layer.name] = got.get_weights()
    return Pretrained(backbone, imagenet, source_channels, origin)


def _check_channels(pretrained, channels, what):
    if channels is not None and channels != pretrained.channels:
        raise ValueError(
            f"`weights`: {what} trained on {pretrained.channels}-channel images, and the "
            f"images to fine-tune on have {channels}; load them with "
            f"channels={pretrained.channels}.")


def _shapes(layer):
    return [tuple(int(n) for n in w.shape) for w in layer.weights]


def _check_unfreeze(unfreeze):
    if unfreeze is not None and unfreeze != "all" and unfreeze not in STAGES:
        raise InvalidParameterError(
            f"`unfreeze` must be 'all', one of {STAGES} (that stage and those above it "
            f"train) or None, got {unfreeze!r}.")


def _check_choice(value, name, allowed):
    if value not in allowed:
        raise InvalidParameterError(f"`{name}` must be one of {allowed}, got {value!r}.")


def set_trainable(model, unfreeze, batch_norm="training"):
    """Freeze the backbone below stage ``unfreeze``: None freezes all of it (the
    classifier alone trains), "all" none of it, "conv5" all but conv5, and so on.
    ``batch_norm="inference"`` freezes every BN layer too (a frozen layer runs in
    inference mode in Keras); "training" lets those of the training stages train."""
    _check_unfreeze(unfreeze)
    _check_choice(batch_norm, "batch_norm", BATCH_NORM)
    first = None if unfreeze is None else (0 if unfreeze == "all" else STAGES.index(unfreeze))
    for layer in model.layers:
        if layer.name == CLASSIFIER:
            layer.trainable = True
        elif first is None:
            layer.trainable = False
        elif first == 0:
            layer.trainable = True
        else:
            stage = layer.name.split("_")[0]
            layer.trainable = stage in STAGES and STAGES.index(stage) >= first
        if batch_norm == "inference" and isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False


def pretrained_model(weights, input_shape, classes, *, seed=0,
                     bn_momentum=training.SMALL_DATA_BN_MOMENTUM, name=None):
    """``resnet.ResNet50`` at ``input_shape`` with a new classifier of ``classes``
    outputs, every other layer given the pretrained weights: the model that
    ``fine_tune_resnet50`` trains.

    Args:
        weights: anything ``fine_tune_resnet50`` takes (see ``pretrained_weights``).
        input_shape: (height, width, channels) of the images to fine-tune on.
        classes: outputs of the new classifier.
        seed: the new classifier's initial weights.
        bn_momentum: momentum of the BN moving averages, when they train.
        name: the model's name (None: "resnet50_finetuned", with "_imagenet"
            appended for ImageNet's weights).
    """
    from ..model import ResNet50

    pretrained = pretrained_weights(weights, channels=input_shape[-1])
    if name is None:
        name = "resnet50_finetuned" + (IMAGENET_SUFFIX if pretrained.imagenet else "")
    model = ResNet50(input_shape=input_shape, classes=classes, seed=seed,
                     bn_momentum=bn_momentum, name=name)
    for layer_name, values in pretrained.layers.items():
        model.get_layer(layer_name).set_weights(values)
    return model


def train_head_on_features(model, dataset, *, preprocessing, epochs, batch_size=32,
                           learning_rate=HEAD_LEARNING_RATE, seed=0, verbose=0):
    """Phase 1 on features computed once: the classifier of ``model`` trained alone.

    The backbone (every layer up to ``avg_pool``, BN in inference mode) turns the
    training and validation images into 2,048 numbers each, once; a copy of the
    classifier then trains on those for ``epochs`` epochs (Adam at
    ``learning_rate``, the epoch of lowest validation loss kept), and its weights go
    back into ``model``. Without augmentation this is exactly phase 1 on the frozen
    network, at the cost of one forward pass per image instead of one per epoch.

    Returns:
        The classifier's ``fit`` History; ``model`` is changed in place.
    """
    from . import data

    check_int(epochs, "epochs")
    backbone = keras.Model(model.input, model.get_layer("avg_pool").output)
    features = {}
    for split in ("train", "val"):
        images, labels = dataset.arrays[split]
        batches = data.pipeline(images, labels, image_size=dataset.input_shape[:2],
                                batch_size=256, preprocessing=preprocessing)
        features[split] = (backbone.predict(batches, verbose=0), labels)
    classifier = model.get_layer(CLASSIFIER)
    head = keras.Sequential([
        keras.Input(features["train"][0].shape[1:]),
        keras.layers.Dense(classifier.units, activation="softmax", name=CLASSIFIER,
                           dtype="float32")])
    head.layers[-1].set_weights(classifier.get_weights())  # the model's own start
    head.compile(optimizer=keras.optimizers.Adam(learning_rate),
                 loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    keras.utils.set_random_seed(seed)  # the shuffling
    history = head.fit(*features["train"], batch_size=batch_size, epochs=epochs,
                       validation_data=features["val"], shuffle=True, verbose=verbose,
                       callbacks=[training.keep_best_weights(epochs)])
    classifier.set_weights(head.layers[-1].get_weights())
    return history


def batches(dataset, *, preprocessing, batch_size=32, seed=0, augmentation="auto"):
    """The training and validation pipelines of a ``resnet.train.data`` Dataset's arrays,
    preprocessed with ``preprocessing`` (the weights' own) and augmented for training.

    Returns:
        (train, val): full shuffled batches, reshuffled every epoch from ``seed``
        and augmented (see the module); the validation split in order, unaugmented.
    """
    from . import data

    if augmentation not in AUGMENTATIONS:
        raise InvalidParameterError(
            f"`augmentation` must be one of {AUGMENTATIONS}, got {augmentation!r}.")
    if augmentation == "auto":
        augmentation = "photos" if dataset.input_shape[-1] == 3 else "shifts"
    size = dataset.input_shape[:2]
    train = data.pipeline(*dataset.arrays["train"], image_size=size, batch_size=batch_size,
                          shuffle=True, seed=seed, drop_remainder=True,
                          preprocessing=preprocessing)
    if augmentation == "photos":
        train = data.augment_photos(train, seed=seed)
    elif augmentation == "shifts":
        train = data.augment(train, seed=seed)
    val = data.pipeline(*dataset.arrays["val"], image_size=size, batch_size=batch_size,
                        preprocessing=preprocessing)
    return train, val


def fine_tune_resnet50(
    dataset,
    weights,
    *,
    head_epochs=3,
    epochs=5,
    unfreeze="all",
    batch_size=32,
    head_learning_rate=HEAD_LEARNING_RATE,
    learning_rate=LEARNING_RATE,
    bn_momentum=training.SMALL_DATA_BN_MOMENTUM,
    batch_norm=PHASE_2_BATCH_NORM,
    head="augmented",
    augmentation="auto",
    seed=0,
    jit_compile="auto",
    mixed_precision="auto",
    strategy=None,
    speed_choice=None,
    callbacks=(),
    verbose=0,
    backup_dir=None,
):
    """Fine-tune a pretrained ResNet50 on a ``resnet.train.data`` Dataset (see the module).

    Args:
        dataset: what ``resnet.train.data.image_folder()`` (or ``digits()``, ...)
            returns; its arrays are read, its ``val`` split picks each phase's best
            epoch. ImageNet weights need RGB images (channels=3).
        weights: "imagenet", a ResNet50 weights file, a trained ``.keras`` model,
            or what ``pretrained_weights`` returned for one of them.
        head_epochs: phase 1, the classifier alone (0: skip it).
        epochs: phase 2, the unfrozen layers too (0: the classifier alone).
        unfreeze: what phase 2 trains: "all", or a stage ("conv5": conv5 and the
            classifier, "conv4": conv4 and conv5 and the classifier, ...).
        batch_size: images per step.
        head_learning_rate: Adam's learning rate in phase 1.
        learning_rate: Adam's starting learning rate in phase 2 (cosine decay to 0).
        bn_momentum: momentum of the BN moving averages in phase 2.
        batch_norm: what phase 2's BN layers do: "training" (they normalise each
            batch by its own statistics, update their moving averages and learn
            their scales) or "inference" (frozen, as pretrained).
        head: phase 1 on "augmented" batches through the frozen network, or on
            "features" computed once (unaugmented; far faster, the same model
            when there is no augmentation).
        augmentation: "auto", "photos", "shifts" or None.
        seed: the classifier's initial weights, the shuffling and the augmentation.
        jit_compile, mixed_precision, strategy, speed_choice: see ``training.train``
            (decided once for both phases; bfloat16 is not tried).
        callbacks: more Keras callbacks, for both phases.
        verbose: ``fit``'s verbosity (1: a progress bar per epoch).
        backup_dir: a folder to back the run up to after every epoch (one
            subfolder per phase, ``backup.PHASES``); calling again with the same
            arguments after the process died resumes after the last finished
            epoch. The backup stays when the run ends: save the model, then
            ``backup.remove(backup_dir)``.

    Returns:
        A ``FineTuned`` (model, head_history, history, seconds, speed, imagenet).
    """
    from ..model import ResNet50

    check_int(head_epochs, "head_epochs", 0)
    check_int(epochs, "epochs", 0)
    check_int(batch_size, "batch_size")
    if head_epochs + epochs == 0:
        raise InvalidParameterError("`head_epochs` and `epochs` must not both be 0.")
    _check_unfreeze(unfreeze)
    _check_choice(batch_norm, "batch_norm", BATCH_NORM)
    _check_choice(head, "head", HEADS)
    n_train = len(dataset.arrays["train"].labels)
    if n_train < batch_size:
        raise InvalidParameterError(
            f"`batch_size` ({batch_size}) must not exceed the training images ({n_train}).")
    steps_per_epoch = n_train // batch_size
    weights = pretrained_weights(weights, channels=dataset.input_shape[-1])  # loaded once
    imagenet = weights.imagenet
    classes = len(dataset.class_names)
    # Each phase reads its own stream of batches (phase 2 from seed + 1, not a replay of
    # phase 1's epochs), in the preprocessing the weights expect.
    preprocessing = imagenet_caffe if imagenet else scale_to_unit
    streams, val = {}, None
    for folder, stream_seed in zip(backup.PHASES, (seed, seed + 1), strict=True):
        streams[folder], val = batches(dataset, preprocessing=preprocessing,
                                       batch_size=batch_size, seed=stream_seed,
                                       augmentation=augmentation)
    # One decision for both phases, timed on a fresh ResNet50 of the same shape (the
    # cache entry that train_resnet50 uses), so that no timing step touches the weights.
    if speed_choice is None:
        speed_choice = speed.choose_speed(
            lambda: ResNet50(input_shape=dataset.input_shape, classes=classes),
            (batch_size, *dataset.input_shape), mixed_precision=mixed_precision,
            jit_compile=jit_compile, try_bfloat16=False)  # its bfloat16 accuracy: unmeasured
    keras.utils.set_random_seed(seed)
    model = None

    def build():
        nonlocal model
        if model is None:
            model = pretrained_model(weights, dataset.input_shape, classes, seed=seed,
                                     bn_momentum=bn_momentum)
        return model

    phases = (
        (head_epochs, None, lambda: keras.optimizers.Adam(head_learning_rate)),
        (epochs, unfreeze, lambda: keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(
            learning_rate, max(1, epochs * steps_per_epoch)))),
    )
    histories, seconds = [], 0.0
    for (phase_epochs, trainable, optimizer), folder in zip(phases, backup.PHASES,
                                                            strict=True):
        if not phase_epochs:
            histories.append(None)
            continue
        if trainable is None and head == "features":
            start = time.perf_counter()
            histories.append(train_head_on_features(
                build(), dataset, preprocessing=preprocessing, epochs=phase_epochs,
                batch_size=batch_size, learning_rate=head_learning_rate, seed=seed,
                verbose=verbose))
            seconds += time.perf_counter() - start
            continue
        stream = streams[folder]
        keeping, steps = [training.keep_best_weights(phase_epochs)], None
        if backup_dir is not None:
            steps = steps_per_epoch
            stream, keeping = backup.resumable(stream, Path(backup_dir) / folder,
                                               phase_epochs, steps_per_epoch)

        def build_phase(trainable=trainable):
            built = build()
            set_trainable(built, trainable,
                          batch_norm="training" if trainable is None else batch_norm)
            return built

        if verbose:
            what = ("the new classifier alone, the backbone frozen" if trainable is None else
                    f"{'the whole network' if trainable == 'all' else f'{trainable} and up'}, "
                    f"from learning rate {learning_rate:g}")
            print(f"Phase {backup.PHASES.index(folder) + 1} of 2: {what} "
                  f"({phase_epochs} epoch{'s' if phase_epochs > 1 else ''}).", flush=True)
        start = time.perf_counter()
        model, history = training.train(
            build_phase, stream, epochs=phase_epochs, validation_data=val, strategy=strategy,
            speed_choice=speed_choice, optimizer=optimizer, callbacks=[*keeping, *callbacks],
            verbose=verbose, steps_per_epoch=steps)
        seconds += time.perf_counter() - start
        histories.append(history)
    set_trainable(model, "all")  # a saved model trains whole when loaded again
    return FineTuned(model, histories[0], histories[1], seconds, speed_choice, imagenet)
