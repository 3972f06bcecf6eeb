"""Fine-tuning: a pretrained ResNet50's backbone under a new classifier, in two phases.

    >>> from resnet.train import data, finetune
    >>> from resnet.train.recipe import FINE_TUNING
    >>> photos = data.image_folder("my_photos", image_size=160)              # doctest: +SKIP
    >>> run = finetune.fine_tune_resnet50(photos, "imagenet", FINE_TUNING)   # doctest: +SKIP
    >>> resnet.preprocessing_name(run.model)                                 # doctest: +SKIP
    'imagenet_caffe'

Fine-tuning pays when the pretrained network saw many images related to yours (e.g.
ImageNet's photos, for photos of your own); from a small or unrelated source,
training from scratch (``train_resnet50``) can do as well or better, as chapter 7
measures on the digits. A network pretrained on many related images already computes
features that serve other classes too, so the recipe (a ``recipe.FineTuning``; its
settings and defaults are in ``resnet.train.recipe``) keeps its backbone and trains a
new classifier on top of it:

    weights        where the backbone comes from: "imagenet" (keras.applications'
                   ImageNet weights, downloaded once), a weights file saved from a
                   ResNet50 (theirs or ours: ``.h5``, ``.weights.h5``), or a trained
                   ``.keras`` model (e.g. from ``python -m resnet train``)
    model          the builder (``resnet.ResNet50``) at the dataset's input shape,
                   every layer but the classifier given the pretrained weights (a
                   convolution's weights do not depend on the image size), and a new
                   softmax classifier with one output per class of the dataset
    phase 1        ``head_epochs`` epochs: the backbone frozen and only the new
                   classifier trains (Adam at ``head_learning_rate``). A frozen
                   layer (``trainable=False``) runs its BN layers in inference mode
                   in Keras, so their moving statistics stay as pretrained too
                   (``head="features"``: the backbone's features are computed
                   once, unaugmented, and the classifier trains on them alone,
                   which is the same model in far less time)
    phase 2        ``epochs`` epochs: the layers from stage ``unfreeze`` up train
                   too, at the lower ``learning_rate`` decaying to zero along a
                   cosine, so that the pretrained weights move a little rather
                   than being trained over. ``batch_norm`` says what their BN
                   layers do: "training" (batch statistics, moving averages and
                   scales updating) or "inference" (frozen, as pretrained)
    preprocessing  what the weights were trained with: ImageNet's (``imagenet_caffe``)
                   for ImageNet weights, [0, 1] pixels otherwise. The model carries
                   its name (``resnet.set_preprocessing``), ``saving.save_model``
                   stores it, so ``resnet.evaluate`` and ``python -m resnet predict``
                   pick the same preprocessing after the model is loaded again
    augmentation   "auto": random resized crops and mirroring
                   (``data.augment_photos``) for RGB images, the digits' shifts and
                   rotations (``data.augment``) for greyscale ones
    best epoch     each phase ends with the weights of its epoch of lowest
                   validation loss (``training.keep_best_weights``); a dataset
                   without validation images keeps each phase's last epoch
    speed, backup  as ``training.train_resnet50``: one ``training.recipe_speed``
                   decision for both phases; ``backup_dir`` backs every phase up

Both phases are ``training.train`` calls on the same model; ``epochs=0`` trains the
classifier only (the frozen backbone as a fixed feature extractor).
"""

import math
from pathlib import Path
from typing import NamedTuple

from tensorflow import keras

from ..model import ResNet50
from ..preprocessing import PREPROCESSINGS, preprocessing_for, preprocessing_name, set_preprocessing
from ..validation import InvalidParameterError
from . import backup, speed, training
from .recipe import FINE_TUNING, SMALL_DATA_BN_MOMENTUM, STAGES, FineTuning

CLASSIFIER = "predictions"
# A classifier on features computed once: too small for XLA or a mixed policy to pay.
_HEAD_SPEED = speed.SpeedChoice("float32", False, {},
                                "float32, XLA off: a classifier on features computed once")


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


def pretrained_weights(weights, channels=None, *, build=ResNet50):
    """The pretrained network's weights by layer name, and whether they are ImageNet's.

    Args:
        weights: "imagenet", a weights file (``.h5``, ``.weights.h5``) of a ResNet50,
            or a ``.keras`` model with ResNet50's layer names (ours or
            keras.applications'), or a ``Pretrained`` (returned as it is).
        channels: the channels of the images to fine-tune on; checked against the
            weights' (None: not checked).
        build: the network the weights are for (``resnet.ResNet50``): it reads a
            weights file, and a saved model's layers are checked against it.

    Returns:
        A ``Pretrained``. ``fine_tune_resnet50`` takes it as its ``weights``, so that
        weights loaded once serve many runs.

    Raises:
        ConnectionError: "imagenet" could not be downloaded (the message names the
            file and the alternative: download it elsewhere and pass its path).
        FileNotFoundError: the file does not exist.
        ValueError: the file is neither a Keras weights file nor a loadable .keras
            model, holds another network than ResNet50, or was trained on images of
            another number of channels than ``channels``.
    """
    if isinstance(weights, Pretrained):
        _check_channels(weights, channels, "the pretrained weights were")
        return weights
    source = _source_model(weights, build)
    imagenet = preprocessing_name(source) == "imagenet_caffe"
    found = Pretrained({}, imagenet, int(source.input_shape[-1]),
                       "imagenet" if weights == "imagenet" else str(Path(weights).resolve()))
    what = "ImageNet's weights were" if imagenet else f"{str(weights)!r} was"
    _check_channels(found, channels, what)
    return found._replace(layers=_backbone(source, weights, build))


def _source_model(weights, build):
    """The model that holds ``weights`` (``pretrained_weights``' argument)."""
    from .. import weights as weights_module
    from .saving import load_model

    if isinstance(weights, str) and weights == "imagenet":
        return ResNet50(input_shape=weights_module.IMAGENET_INPUT_SHAPE,
                        classes=weights_module.IMAGENET_CLASSES, weights="imagenet")
    if isinstance(weights, (str, Path)) and str(weights).endswith(".keras"):
        return load_model(weights, name="`weights`")  # with its preprocessing
    if not isinstance(weights, (str, Path)):
        raise InvalidParameterError(
            "`weights` must be 'imagenet', a weights file (.h5, .weights.h5) or a .keras "
            f"model, got {weights!r}.")
    path = weights_module.resolve(weights, 50, (32, 32, 3), 1)  # checks the file
    depth, file_channels, classes = weights_module.file_shape(path)
    if depth != 50 or file_channels is None or classes is None:
        found = weights_module.describe_file(path) or "no ResNet layers"
        raise ValueError(f"`weights` {str(weights)!r}: not the weights of a ResNet50 "
                         f"(read from the file: {found}).")
    # Any input size loads the same kernels; a small one builds quickest. (ResNet50 marks
    # a model given keras.applications' ImageNet file with ImageNet's preprocessing.)
    return build(input_shape=(32, 32, file_channels), classes=classes, weights=path)


def _backbone(source, weights, build):
    """{layer name: weights} of every weighted layer of ``source`` but the classifier,
    each checked against ResNet50's by name and shape when ``source`` is any saved model."""
    found = {layer.name: layer for layer in source.layers if layer.weights}
    if not str(weights).endswith(".keras"):  # built by our ResNet50: its layers are right
        return {name: layer.get_weights() for name, layer in found.items()
                if name != CLASSIFIER}
    backbone = {}
    for layer in build(input_shape=(32, 32, int(source.input_shape[-1])), classes=1).layers:
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
    return backbone


def _check_channels(pretrained, channels, what):
    if channels is not None and channels != pretrained.channels:
        raise ValueError(
            f"`weights`: {what} trained on {pretrained.channels}-channel images, and the "
            f"images to fine-tune on have {channels}; load them with "
            f"channels={pretrained.channels}.")


def _shapes(layer):
    return [tuple(int(n) for n in w.shape) for w in layer.weights]


def set_trainable(model, unfreeze, batch_norm="training"):
    """Freeze the backbone below stage ``unfreeze``: None freezes all of it (the
    classifier alone trains), "all" none of it, "conv5" all but conv5, and so on.
    ``batch_norm="inference"`` freezes every BN layer too (a frozen layer runs in
    inference mode in Keras); "training" lets those of the training stages train."""
    FineTuning(unfreeze=unfreeze, batch_norm=batch_norm)  # checks both, naming them
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
                     bn_momentum=SMALL_DATA_BN_MOMENTUM, build=ResNet50):
    """``build``'s model (``resnet.ResNet50``) at ``input_shape`` with a new classifier of
    ``classes`` outputs, every other layer given the pretrained weights, and the
    preprocessing those expect recorded on it: the model that ``fine_tune_resnet50``
    trains.

    Args:
        weights: anything ``fine_tune_resnet50`` takes (see ``pretrained_weights``).
        input_shape: (height, width, channels) of the images to fine-tune on.
        classes: outputs of the new classifier.
        seed: the new classifier's initial weights.
        bn_momentum: momentum of the BN moving averages, when they train.
        build: the model builder (``build(input_shape=..., classes=..., seed=...,
            bn_momentum=...)``).
    """
    pretrained = pretrained_weights(weights, channels=input_shape[-1], build=build)
    model = build(input_shape=input_shape, classes=classes, seed=seed,
                  bn_momentum=bn_momentum)
    for layer_name, values in pretrained.layers.items():
        model.get_layer(layer_name).set_weights(values)
    return set_preprocessing(model, "imagenet_caffe" if pretrained.imagenet
                             else "scale_to_unit")


def batches(dataset, recipe=FINE_TUNING, *, preprocessing, seed=None):
    """The training and validation pipelines of a ``resnet.train.data`` Dataset's arrays,
    preprocessed with ``preprocessing`` (the weights' own) and, for training, augmented
    as the recipe says.

    Returns:
        (train, val): full shuffled batches, reshuffled every epoch from ``seed`` (None:
        the recipe's) and augmented (see the module); the validation split in order,
        unaugmented.
    """
    from . import data

    seed = recipe.seed if seed is None else seed
    augmentation = recipe.augmentation
    if augmentation == "auto":
        augmentation = "photos" if dataset.input_shape[-1] == 3 else "shifts"
    size, batch_size = dataset.input_shape[:2], recipe.batch_size
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


def features(model, dataset, split):
    """(features, labels): ``split``'s images through ``model``'s backbone (every layer
    up to ``avg_pool``, BN in inference mode, in the model's preprocessing), once."""
    from . import data

    backbone = keras.Model(model.input, model.get_layer("avg_pool").output)
    images, labels = dataset.arrays[split]
    pipeline = data.pipeline(images, labels, image_size=dataset.input_shape[:2],
                             batch_size=256, preprocessing=preprocessing_for(model))
    return backbone.predict(pipeline, verbose=0), labels


def _head_on_features(model, dataset, recipe, store, **train_options):
    """Phase 1 on features computed once: a copy of ``model``'s classifier trains on them
    (Adam at ``head_learning_rate``, the best epoch kept, resumable from ``store``), and
    its weights go back into ``model``. Without augmentation this is exactly phase 1
    on the frozen network, at the cost of one forward pass per image instead of one per
    epoch. Returns (history, seconds)."""
    import tensorflow as tf

    train_x, train_y = features(model, dataset, "train")
    val = None
    if len(dataset.arrays["val"].labels):
        val = tf.data.Dataset.from_tensor_slices(features(model, dataset, "val")).batch(256)
    classifier = model.get_layer(CLASSIFIER)

    def build_head():
        head = keras.Sequential([
            keras.Input(train_x.shape[1:]),
            keras.layers.Dense(classifier.units, activation="softmax", name=CLASSIFIER,
                               dtype="float32")])
        head.layers[-1].set_weights(classifier.get_weights())  # the model's own start
        return head

    stream = tf.data.Dataset.from_tensor_slices((train_x, train_y)).shuffle(
        len(train_y), seed=recipe.seed).batch(recipe.batch_size)
    head, history, seconds = training.fit_phase(
        build_head, stream, recipe.head_epochs,
        steps_per_epoch=math.ceil(len(train_y) / recipe.batch_size), store=store, phase=1,
        optimizer=lambda: keras.optimizers.Adam(recipe.head_learning_rate),
        validation_data=val,
        **{**train_options, "speed_choice": _HEAD_SPEED})
    classifier.set_weights(head.layers[-1].get_weights())
    return history, seconds


def _describe(phase):
    what = ("the new classifier alone, the backbone frozen" if phase.unfreeze is None else
            f"{'the whole network' if phase.unfreeze == 'all' else f'{phase.unfreeze} and up'}"
            f", from learning rate {phase.learning_rate:g}")
    return (f"Phase {phase.number} of 2: {what} "
            f"({phase.epochs} epoch{'s' if phase.epochs > 1 else ''}).")


def _train_phase(model, phase, dataset, recipe, store, preprocessing, **train_options):
    """One phase of ``fine_tune_resnet50`` on the model that ``model()`` returns (built
    the first time inside ``train``'s strategy scope and precision policy):
    (history, seconds)."""
    if phase.unfreeze is None and recipe.head == "features":
        return _head_on_features(model(), dataset, recipe, store, **train_options)
    # Each phase reads its own stream of batches (phase 2 from seed + 1, not a replay of
    # phase 1's epochs), in the preprocessing the weights expect.
    stream, val = batches(dataset, recipe, preprocessing=preprocessing,
                          seed=recipe.seed + phase.number - 1)
    steps = recipe.steps_per_epoch(dataset)
    rate = phase.learning_rate
    if phase.cosine:
        rate = keras.optimizers.schedules.CosineDecay(rate, max(1, phase.epochs * steps))

    def build_phase():
        built = model()
        set_trainable(built, phase.unfreeze, batch_norm=phase.batch_norm)
        return built

    _, history, seconds = training.fit_phase(
        build_phase, stream, phase.epochs, steps_per_epoch=steps, store=store,
        phase=phase.number, optimizer=lambda: keras.optimizers.Adam(rate),
        validation_data=training.validation(val), **train_options)
    return history, seconds


def _built_once(make):
    """A function that returns ``make()``, made on the first call (inside ``train``'s
    strategy scope and precision policy, for phase 2) and the same model after."""
    built = []

    def model():
        if not built:
            built.append(make())
        return built[0]

    return model


def fine_tune_resnet50(dataset, weights, recipe=FINE_TUNING, *, build=ResNet50,
                       speed_choice=None, callbacks=(), verbose=0, backup_dir=None):
    """Fine-tune a pretrained ResNet50 on a ``resnet.train.data`` Dataset (see the module).

    Args:
        dataset: what ``resnet.train.data.image_folder()`` (or ``digits()``, ...)
            returns; its ``val`` split picks each phase's best epoch (without
            validation images, each phase trains its epochs and keeps the last).
            ImageNet weights need RGB images (channels=3).
        weights: "imagenet", a ResNet50 weights file, a trained ``.keras`` model,
            or what ``pretrained_weights`` returned for one of them.
        recipe: a ``recipe.FineTuning`` (default ``FINE_TUNING``).
        build: the model builder (``resnet.ResNet50``; see ``pretrained_model``).
        speed_choice: a ``speed.SpeedChoice`` made before, for both phases (None:
            ``training.recipe_speed``).
        callbacks: more Keras callbacks, for both phases.
        verbose: ``fit``'s verbosity (1: a progress bar per epoch, and a line per phase).
        backup_dir: a folder (or an open ``backup.Backup``) to back the run up to after
            every epoch of either phase; see ``training.train_resnet50``.

    Returns:
        A ``FineTuned`` (model, head_history, history, seconds, speed, imagenet).
    """
    if not isinstance(recipe, FineTuning):
        raise InvalidParameterError("`recipe` must be a `resnet.train.recipe.FineTuning`, "
                                    f"got {type(recipe).__name__}.")
    recipe.check_dataset(dataset)
    recipe.steps_per_epoch(dataset)  # checks the batch size against the images
    pretrained = pretrained_weights(weights, channels=dataset.input_shape[-1], build=build)
    store, owned = backup.opened(
        backup_dir, backup.settings(recipe, dataset, build, pretrained.source))
    if speed_choice is None:
        speed_choice = training.recipe_speed(recipe, dataset, build)
    keras.utils.set_random_seed(recipe.seed)
    model = _built_once(lambda: pretrained_model(
        pretrained, dataset.input_shape, len(dataset.class_names), seed=recipe.seed,
        bn_momentum=recipe.bn_momentum, build=build))
    preprocessing = PREPROCESSINGS["imagenet_caffe" if pretrained.imagenet
                                   else "scale_to_unit"]
    histories, seconds = [], 0.0
    for phase in recipe.phases():
        if not phase.epochs:
            histories.append(None)
            continue
        if verbose:
            print(_describe(phase), flush=True)
        history, took = _train_phase(model, phase, dataset, recipe, store, preprocessing,
                                     speed_choice=speed_choice, callbacks=callbacks,
                                     verbose=verbose)
        histories.append(history)
        seconds += took
    set_trainable(model(), "all")  # a saved model trains whole when loaded again
    if owned:
        store.remove()
    if not recipe.epochs and recipe.head == "features":  # nothing ran at the recipe's speed
        speed_choice = _HEAD_SPEED
    return FineTuned(model(), *histories, seconds, speed_choice, pretrained.imagenet)
