"""Datasets as ``tf.data`` pipelines: real images that need no download.

    >>> from resnet.train import data
    >>> digits = data.digits(image_size=32, batch_size=32, seed=0)
    >>> model.fit(digits.train, validation_data=digits.val, epochs=10)  # doctest: +SKIP
    >>> model.evaluate(digits.test)  # doctest: +SKIP

Every loader returns a ``Dataset`` (a named tuple) with:

    train, val, test   tf.data pipelines of (images, labels) batches: images
                       (B, H, W, C) float32 in [0, 1] (``scale_to_unit``),
                       labels (B,) int32. ``train`` is reshuffled every epoch
                       from ``seed``; ``val`` and ``test`` keep a fixed order.
    class_names        one name per class, in label order
    input_shape        (H, W, C): what to give ``resnet.ResNet50``
    arrays             {"train", "val", "test"} -> ``Split(images, labels)``:
                       the same images as uint8 0..255 before resizing, in
                       the pipelines' unshuffled order (for plots, confusion
                       matrices and classical baselines)

The splits are stratified (every class keeps its share in each split) and
fixed by ``seed``: 60% train, 20% validation, 20% test unless told otherwise.
Two fresh loads with the same seed give the same splits and the same shuffled
training order, epoch after epoch.

    digits        1,797 handwritten digits 0-9 shipped with scikit-learn
                  (8x8 greyscale, 0..16 ink, converted to 0..255) -> 10 classes;
                  split 1,077 / 360 / 360
    lfw_faces     the LFW subset shipped with scikit-image: 100 faces and 100
                  non-faces (25x25 greyscale) -> 2 classes; split 120 / 40 / 40
    image_folder  your own images: a folder with one subfolder per class
                  (``image_folder_with_skipped``: unreadable files skipped, listed)
    cifar10       CIFAR-10 via keras.datasets (downloads 170 MB; for Colab)
    load          one of these by name, "cifar10" falling back to the digits offline
    subset        some of a Dataset's classes, with few training images each

Augmentation of training batches: ``augment`` (random shifts and rotations, for the
digits and faces) and ``augment_photos`` (random resized crops and mirroring, for photos).
"""

from pathlib import Path
from typing import NamedTuple

import numpy as np
import tensorflow as tf

from ..preprocessing import preprocess, scale_to_unit
from ..validation import (
    InvalidParameterError,
    check_channels,
    check_fraction,
    check_image_size,
    check_int,
)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp")


class Split(NamedTuple):
    """One split as arrays: images (N, H, W, C) uint8 0..255 and labels (N,) int32."""

    images: np.ndarray
    labels: np.ndarray


class Dataset(NamedTuple):
    """What every loader returns; see the module docstring."""

    train: tf.data.Dataset
    val: tf.data.Dataset
    test: tf.data.Dataset
    class_names: tuple
    input_shape: tuple
    arrays: dict


def digits(image_size=32, batch_size=32, seed=0, *, channels=1, val_fraction=0.2,
           test_fraction=0.2):
    """The 1,797 handwritten digits of scikit-learn, 10 classes, no download.

    Args:
        image_size: the side the 8x8 images are resized to (the training
            recipe's: 16), or (height, width).
        batch_size: images per batch.
        seed: fixes the split and the shuffling.
        channels: 1 (greyscale) or 3 (the grey value repeated, for RGB models).
        val_fraction, test_fraction: shares of the validation and test splits.

    Returns:
        A ``Dataset``; with the defaults the splits hold 1,077 / 360 / 360 images.
    """
    from sklearn.datasets import load_digits

    bunch = load_digits()
    # 0..16 ink levels -> 0..255 pixels, so that everything downstream sees pixels.
    images = np.round(bunch.images * (255.0 / 16.0)).astype(np.uint8)[..., None]
    return _from_arrays(
        images, bunch.target, tuple(str(d) for d in range(10)), image_size=image_size,
        batch_size=batch_size, seed=seed, channels=channels, val_fraction=val_fraction,
        test_fraction=test_fraction,
    )


def lfw_faces(image_size=32, batch_size=32, seed=0, *, channels=1, val_fraction=0.2,
              test_fraction=0.2):
    """Faces and non-faces from the LFW subset of scikit-image, no download.

    200 greyscale 25x25 images: 100 faces (label 1) and 100 non-face patches
    (label 0). Arguments as for ``digits``.

    Returns:
        A ``Dataset`` with ``class_names`` ("non-face", "face"); with the
        defaults the splits hold 120 / 40 / 40 images.
    """
    from skimage.data import lfw_subset

    images = np.round(lfw_subset() * 255.0).astype(np.uint8)[..., None]  # [0, 1] floats
    labels = np.array([1] * 100 + [0] * 100)
    return _from_arrays(
        images, labels, ("non-face", "face"), image_size=image_size, batch_size=batch_size,
        seed=seed, channels=channels, val_fraction=val_fraction, test_fraction=test_fraction,
    )


def image_folder(path, image_size=64, batch_size=32, seed=0, *, channels=3, val_fraction=0.2,
                 test_fraction=0.2):
    """Your own images: a folder with one subfolder of images per class.

        path/cats/1.jpg, path/cats/2.png, ..., path/dogs/1.jpg, ...

    Class names are the subfolder names in sorted order. Every image is read
    with Pillow as ``resnet.evaluate`` reads it (EXIF orientation applied, any
    mode converted to ``channels``) and resized to ``image_size`` when loaded.

    Args:
        path: the folder.
        image_size: an int (square) or (height, width).
        batch_size, seed, val_fraction, test_fraction: as for ``digits``.
        channels: 3 (RGB) or 1 (greyscale).

    Returns:
        A ``Dataset``; ``arrays`` hold the resized images.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: fewer than two classes, a class without images, or a file
            that is not a readable image (named in the message).
    """
    dataset, _ = _folder_dataset(
        path, image_size=image_size, batch_size=batch_size, seed=seed, channels=channels,
        val_fraction=val_fraction, test_fraction=test_fraction, skip_unreadable=False,
    )
    return dataset


def image_folder_with_skipped(path, image_size=64, batch_size=32, seed=0, *, channels=3,
                              val_fraction=0.2, test_fraction=0.2):
    """As ``image_folder``, but a file that is not a readable image is skipped, not fatal.

    For folders gathered by hand, where a stray text file or a truncated
    download should not stop a training run: every file in a class folder is
    tried (hidden files, such as ``.DS_Store``, are ignored), and those that
    Pillow cannot read are listed instead of raising.

    Returns:
        (dataset, skipped): the ``Dataset``, and one (path, reason) pair per
        skipped file, in the order read (class by class, names sorted).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: fewer than two classes, or a class without a readable image.
    """
    return _folder_dataset(
        path, image_size=image_size, batch_size=batch_size, seed=seed, channels=channels,
        val_fraction=val_fraction, test_fraction=test_fraction, skip_unreadable=True,
    )


def cifar10(image_size=32, batch_size=64, seed=0, *, val_fraction=0.1):
    """CIFAR-10 (60,000 32x32 RGB images, 10 classes) via keras.datasets.

    Downloads about 170 MB the first time (needs the network: use it in
    Colab with a GPU). The official 10,000 test images are the test split;
    ``val_fraction`` of the 50,000 training images, stratified, is the
    validation split.

    Returns:
        A ``Dataset`` with the 10 CIFAR-10 class names.
    """
    from tensorflow import keras

    (x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()
    images = np.concatenate([x_train, x_test])
    labels = np.concatenate([y_train, y_test]).reshape(-1)
    names = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
             "truck")
    test_index = np.arange(len(x_train), len(images))
    return _from_arrays(
        images, labels, names, image_size=image_size, batch_size=batch_size, seed=seed,
        channels=3, val_fraction=val_fraction, test_fraction=None, test_index=test_index,
    )


DATASETS = ("digits", "cifar10")


def load(name, image_size=32, batch_size=32, seed=0):
    """A dataset by name, falling back to the digits when CIFAR-10 cannot be downloaded.

    The training chapter's switch: "digits" (ships with scikit-learn) or
    "cifar10" (``keras.datasets`` downloads it; meant for Colab with a GPU).
    Offline, "cifar10" prints why it cannot be had and returns the digits.

    Returns:
        (dataset, name): the ``Dataset`` and the name of the one loaded.
    """
    if name not in DATASETS:
        raise InvalidParameterError(f"`name` must be one of {DATASETS}, got {name!r}.")
    if name == "cifar10":
        try:
            return cifar10(image_size=image_size, batch_size=batch_size, seed=seed), name
        except Exception as error:  # keras' get_file wraps URLError/HTTPError in Exception
            reason = str(error).splitlines()[0][:160] if str(error) else type(error).__name__
            print(f"CIFAR-10 could not be downloaded ({reason}); staying on the digits.")
    return digits(image_size=image_size, batch_size=batch_size, seed=seed), "digits"


def _kept(members, split, name, rng, *, per_class, val_per_class):
    """The indices ``members`` of class ``name`` in ``split`` that ``subset`` keeps (sorted).

    ``per_class`` of the training images and at most ``val_per_class`` of the validation
    images, drawn from ``rng``; all of them where that is None, and in the test split.
    """
    if split == "train" and per_class is not None:
        if per_class > len(members):
            raise InvalidParameterError(
                f"`per_class` ({per_class}) exceeds the {len(members)} training "
                f"images of class {name!r}.")
        return np.sort(rng.choice(members, per_class, replace=False))
    if split == "val" and val_per_class is not None:
        return np.sort(rng.choice(members, min(val_per_class, len(members)), replace=False))
    return members


def subset(dataset, classes, *, per_class=None, val_per_class=None, batch_size=32, seed=0):
    """A Dataset with only some of ``dataset``'s classes, and few training images each.

    For transfer experiments: pretrain on some classes, then fine-tune on the
    others with ``per_class`` labelled images a class.

        >>> pretrain = subset(digits(), ["0", "1", "2", "3", "4"])  # doctest: +SKIP
        >>> few = subset(digits(), ["5", "6", "7", "8", "9"], per_class=20)  # doctest: +SKIP

    Args:
        dataset: a ``Dataset`` (what ``digits()``, ``image_folder()``, ... return).
        classes: the class names to keep, in the new label order (label 0 is
            the first name).
        per_class: how many training images to keep of each class (drawn at
            random from ``seed``); None keeps them all. The validation and test
            splits keep every image of the kept classes, unless told otherwise:
        val_per_class: how many validation images to keep of each class (at most
            all of them); None keeps them all, 0 none (the recipes then train their
            whole budget and keep the last epoch).
        batch_size: images per batch of the new pipelines.
        seed: which training images are kept, and the shuffling.

    Returns:
        A ``Dataset`` with ``class_names`` = ``classes``.

    Raises:
        ValueError: an unknown or repeated class name, fewer than two classes, or
            ``per_class`` above the training images of some class.
    """
    classes = tuple(classes)
    unknown = [name for name in classes if name not in dataset.class_names]
    if unknown or len(set(classes)) != len(classes) or len(classes) < 2:
        raise InvalidParameterError(
            f"`classes` must name two or more different classes of {dataset.class_names}, "
            f"got {classes}.")
    for value, name, minimum in ((per_class, "per_class", 1),
                                 (val_per_class, "val_per_class", 0)):
        if value is not None:
            check_int(value, name, minimum)
    old = [dataset.class_names.index(name) for name in classes]
    rng = np.random.default_rng(seed)
    arrays = {}
    for split, (images, labels) in dataset.arrays.items():
        index = [_kept(np.flatnonzero(labels == label), split, name, rng,
                       per_class=per_class, val_per_class=val_per_class)
                 for name, label in zip(classes, old, strict=True)]
        new_labels = np.repeat(np.arange(len(classes), dtype=np.int32),
                               [len(members) for members in index])
        arrays[split] = Split(images[np.concatenate(index)], new_labels)
    make = dict(image_size=dataset.input_shape[:2], batch_size=batch_size, seed=seed)
    return Dataset(
        train=pipeline(*arrays["train"], shuffle=True, **make),
        val=pipeline(*arrays["val"], **make),
        test=pipeline(*arrays["test"], **make),
        class_names=classes,
        input_shape=dataset.input_shape,
        arrays=arrays,
    )


def split_indices(labels, seed=0, val_fraction=0.2, test_fraction=0.2):
    """Stratified train / validation / test indices, fixed by ``seed``.

    Args:
        labels: (N,) integer labels.
        seed: the random seed of the split.
        val_fraction, test_fraction: shares of the validation and test splits
            (test_fraction may be 0 for no test split).

    Returns:
        (train, val, test): sorted index arrays that partition range(N).
    """
    from sklearn.model_selection import train_test_split

    check_fraction(val_fraction, "val_fraction")
    check_fraction(test_fraction, "test_fraction", allow_zero=True)
    if val_fraction + test_fraction >= 1:
        raise InvalidParameterError(
            f"`val_fraction` + `test_fraction` must be below 1, got {val_fraction} + "
            f"{test_fraction}."
        )
    labels = np.asarray(labels)
    index = np.arange(len(labels))
    if test_fraction > 0:
        rest, test = train_test_split(
            index, test_size=test_fraction, stratify=labels, random_state=seed
        )
    else:
        rest, test = index, index[:0]
    train, val = train_test_split(
        rest, test_size=val_fraction / (1 - test_fraction), stratify=labels[rest],
        random_state=seed,
    )
    return np.sort(train), np.sort(val), np.sort(test)


def pipeline(images, labels, image_size, batch_size=32, *, shuffle=False, seed=0,
             preprocessing=scale_to_unit, drop_remainder=False):
    """A tf.data pipeline of (images, labels) batches from uint8 arrays.

    Cached, then (when ``shuffle``) reshuffled every epoch from ``seed``,
    batched, resized to ``image_size`` and preprocessed, and prefetched.

    Args:
        images: (N, H, W, C) uint8 pixels 0..255.
        labels: (N,) integer labels.
        image_size: an int or (height, width); None keeps the size.
        batch_size: images per batch.
        shuffle: reshuffle every epoch (for training).
        seed: the shuffle seed.
        preprocessing: applied after resizing (default ``scale_to_unit``).
        drop_remainder: full batches only (the pipeline's length stays known).

    Returns:
        A ``tf.data.Dataset`` of ((B, height, width, C) float32, (B,) int32).
    """
    check_int(batch_size, "batch_size")
    size = images.shape[1:3] if image_size is None else check_image_size(image_size)
    ds = tf.data.Dataset.from_tensor_slices((images, np.asarray(labels, dtype=np.int32)))
    ds = ds.cache()
    if shuffle:
        ds = ds.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    ds = ds.map(lambda x, y: (preprocess(x, tuple(size), preprocessing), y),
                num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.prefetch(tf.data.AUTOTUNE)


def augment(dataset, *, shift=0.1, rotation=10.0, seed=0):
    """Add random shifts and rotations to the images of a batched dataset.

    Args:
        dataset: batches of ((B, H, W, C) images, labels), e.g. ``digits().train``.
        shift: largest shift, as a fraction of the height and width.
        rotation: largest rotation in degrees.
        seed: the seed of the random transformations.

    Returns:
        The dataset with each batch randomly shifted and rotated (the empty
        border filled with zeros, the background of the digits and faces),
        prefetched: the next batch is augmented while the model trains on this one.
    """
    from tensorflow import keras

    layers = keras.layers
    transform = keras.Sequential([
        layers.RandomTranslation(shift, shift, fill_mode="constant", seed=seed),
        layers.RandomRotation(rotation / 360.0, fill_mode="constant", seed=seed + 1),
    ])
    augmented = dataset.map(lambda x, y: (transform(x, training=True), y),
                            num_parallel_calls=tf.data.AUTOTUNE)
    return augmented.prefetch(tf.data.AUTOTUNE)


def augment_photos(dataset, *, min_area=0.35, flip=True, seed=0):
    """Add random resized crops and horizontal flips to the images of a batched dataset.

    The augmentation of photos (Szegedy et al. 2015's crops, as keras.applications'
    ImageNet weights were trained with): each image is replaced by a random crop of
    ``min_area`` to all of its area, of aspect ratio 3:4 to 4:3, resized back to the
    image's size (bilinear), and mirrored left to right with probability 1/2 when
    ``flip``. Not for digits or text, which a mirror changes: they keep ``augment``.

    The random numbers are drawn per batch from (``seed``, the batch's position in
    the stream), so the same stream gives the same crops however it is read, and a
    resumed run that skips the batches it has seen gets the crops it would have got.

    Args:
        dataset: batches of ((B, H, W, C) images, labels), already resized and
            preprocessed (a crop commutes with any per-pixel affine preprocessing).
        min_area: the smallest share of the image a crop keeps, in (0, 1].
        flip: mirror half the images left to right.
        seed: the seed of the crops and flips.

    Returns:
        The dataset of augmented batches, prefetched.
    """
    if isinstance(min_area, bool) or not isinstance(min_area, (int, float)) or not (
            0 < min_area <= 1):
        raise InvalidParameterError(f"`min_area` must be a number in (0, 1], got {min_area!r}.")
    log_ratio = float(np.log(4 / 3))

    def crop(index, batch):
        images, labels = batch
        height, width = images.shape[1], images.shape[2]
        n = tf.shape(images)[0]
        u = tf.random.stateless_uniform([n, 5], seed=tf.stack([tf.cast(seed, tf.int64), index]))
        area = min_area + (1.0 - min_area) * u[:, 0]
        ratio = tf.exp((2.0 * u[:, 1] - 1.0) * log_ratio)  # width / height
        h = tf.minimum(1.0, tf.sqrt(area / ratio))
        w = tf.minimum(1.0, tf.sqrt(area * ratio))
        top, left = u[:, 2] * (1.0 - h), u[:, 3] * (1.0 - w)
        left_edge, right_edge = left, left + w
        if flip:  # a box whose x1 > x2 is read right to left: the crop comes out mirrored
            mirrored = u[:, 4] < 0.5
            left_edge, right_edge = (tf.where(mirrored, right_edge, left_edge),
                                     tf.where(mirrored, left_edge, right_edge))
        boxes = tf.stack([top, left_edge, top + h, right_edge], axis=1)
        cropped = tf.image.crop_and_resize(images, boxes, tf.range(n), (height, width))
        return tf.cast(cropped, images.dtype), labels

    augmented = dataset.enumerate().map(crop, num_parallel_calls=tf.data.AUTOTUNE)
    return augmented.prefetch(tf.data.AUTOTUNE)


def _class_folders(path):
    """The class subfolders of ``path`` (hidden ones left out), sorted; at least two."""
    root = Path(path)
    if not root.is_dir():
        raise FileNotFoundError(f"`path` must be an existing folder, got {str(path)!r}.")
    class_dirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if len(class_dirs) < 2:
        raise ValueError(
            f"`path` must hold one subfolder per class (at least two), found "
            f"{len(class_dirs)} in {str(path)!r}."
        )
    return class_dirs


def _folder_dataset(path, *, image_size, batch_size, seed, channels, val_fraction,
                    test_fraction, skip_unreadable):
    """(dataset, skipped) for ``image_folder`` (strict) and ``image_folder_with_skipped``.

    Strict: the files with an image suffix are read, and the first that cannot be
    read raises. Otherwise every file but hidden ones is tried, and each that cannot
    be read is listed in ``skipped`` as (path, reason).
    """
    from ..apply.images import load_image

    class_dirs = _class_folders(path)
    height, width = check_image_size(image_size)
    check_channels(channels)
    images, labels, skipped = [], [], []
    for label, class_dir in enumerate(class_dirs):
        if skip_unreadable:
            files = [f for f in class_dir.iterdir() if not f.name.startswith(".")]
        else:
            files = [f for f in class_dir.iterdir()
                     if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES]
        count = 0
        for f in sorted(files):
            try:
                pixels = load_image(f, channels=channels)
            except (ValueError, OSError) as error:
                if not skip_unreadable:
                    raise
                skipped.append((str(f), str(error)))
                continue
            images.append(preprocess(pixels, (height, width), _round_uint8).numpy())
            labels.append(label)
            count += 1
        if not count:
            what = "readable images" if skip_unreadable else f"images ({IMAGE_SUFFIXES})"
            raise ValueError(f"Class folder {str(class_dir)!r} holds no {what}.")
    dataset = _from_arrays(
        np.stack(images), np.array(labels), tuple(d.name for d in class_dirs),
        image_size=None, batch_size=batch_size, seed=seed, channels=channels,
        val_fraction=val_fraction, test_fraction=test_fraction,
        input_shape=(height, width, channels),
    )
    return dataset, skipped


def _round_uint8(pixels):
    return tf.cast(tf.round(pixels), tf.uint8)


def _from_arrays(images, labels, class_names, *, image_size, batch_size, seed, channels,
                 val_fraction, test_fraction, input_shape=None, test_index=None):
    """The ``Dataset`` of uint8 ``images`` (N, H, W, C): split, then one pipeline a split.

    ``image_size`` None keeps the images' size; ``input_shape`` overrides what the
    Dataset reports; ``test_index`` is a given test split (then ``test_fraction`` is
    unused).
    """
    check_channels(channels)
    labels = np.asarray(labels, dtype=np.int32)
    if images.shape[-1] != channels:
        images = np.repeat(images, channels, axis=-1) if images.shape[-1] == 1 else (
            np.round(tf.image.rgb_to_grayscale(images).numpy()).astype(np.uint8)
        )
    if test_index is None:
        train, val, test = split_indices(labels, seed, val_fraction=val_fraction,
                                         test_fraction=test_fraction)
    else:  # a given test split (CIFAR-10's official one); split the rest
        rest = np.setdiff1d(np.arange(len(labels)), test_index)
        train, val, _ = split_indices(labels[rest], seed, val_fraction=val_fraction,
                                      test_fraction=0)
        train, val, test = rest[train], rest[val], np.asarray(test_index)
    if input_shape is None:
        size = images.shape[1:3] if image_size is None else check_image_size(image_size)
        input_shape = (*size, channels)
    arrays = {
        name: Split(images[index], labels[index])
        for name, index in (("train", train), ("val", val), ("test", test))
    }
    make = dict(image_size=input_shape[:2], batch_size=batch_size, seed=seed)
    return Dataset(
        train=pipeline(*arrays["train"], shuffle=True, **make),
        val=pipeline(*arrays["val"], **make),
        test=pipeline(*arrays["test"], **make),
        class_names=tuple(class_names),
        input_shape=tuple(int(n) for n in input_shape),
        arrays=arrays,
    )
