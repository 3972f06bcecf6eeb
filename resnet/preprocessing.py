"""Preprocessing: the one place that turns 0..255 pixels into what a model eats.

Everything in this package treats images as pixels in the range 0..255
(uint8, or float32 holding 0..255 values), channels last. The data loaders
(``resnet.train.data``) and ``resnet.evaluate`` both finish with the functions
below, so a model sees the same numbers in training and in use:

    scale_to_unit    pixels / 255 -> [0, 1]: what the models trained in this
                     book (digits, faces, your own folders) use
    imagenet_caffe   RGB -> BGR, minus the ImageNet mean, no scaling: what
                     keras.applications' ResNet50 ImageNet weights expect

A model carries the name of its own (``set_preprocessing``: ``ResNet50(weights=
"imagenet")`` and a model fine-tuned from those weights name ``imagenet_caffe``),
``resnet.train.saving`` stores that name in the saved file and ``load_model`` gives it
back; ``preprocessing_for(model)`` returns the function, and ``preprocess`` resizes and
then applies it.
"""

import tensorflow as tf

from .validation import InvalidParameterError, check_image_size

# The ImageNet mean pixel in BGR order (keras.applications' 'caffe' mode).
IMAGENET_MEAN_BGR = (103.939, 116.779, 123.68)
# The model attribute that names a model's preprocessing (absent: scale_to_unit).
ATTRIBUTE = "preprocessing"


def scale_to_unit(images):
    """Scale 0..255 pixels to float32 in [0, 1].

    Args:
        images: array or tensor of any shape, uint8 or float holding 0..255.

    Returns:
        A float32 tensor of the same shape, ``images / 255``.
    """
    return tf.cast(images, tf.float32) / 255.0


def imagenet_caffe(images):
    """Preprocess like keras.applications.resnet50.preprocess_input ('caffe' mode).

    Args:
        images: (..., 3) RGB pixels 0..255, uint8 or float.

    Returns:
        A float32 tensor of the same shape: channels reversed to BGR and the
        ImageNet mean pixel subtracted; no scaling.
    """
    images = tf.cast(images, tf.float32)
    if images.shape[-1] != 3:
        raise InvalidParameterError(
            f"`images` must have 3 channels (RGB) for ImageNet preprocessing, got shape "
            f"{tuple(images.shape)}."
        )
    return images[..., ::-1] - tf.constant(IMAGENET_MEAN_BGR, dtype=tf.float32)


def set_preprocessing(model, name):
    """Record on ``model`` the preprocessing it expects: a name in ``PREPROCESSINGS``.

    The name travels with the model: ``resnet.train.saving.save_model`` stores it in the
    .keras file and ``saving.load_model`` sets it again. Returns ``model``.
    """
    if name not in PREPROCESSINGS:
        raise InvalidParameterError(
            f"`name` must be one of {sorted(PREPROCESSINGS)}, got {name!r}.")
    setattr(model, ATTRIBUTE, name)
    return model


def preprocessing_name(model):
    """The name of the preprocessing ``model`` expects (``scale_to_unit`` unless
    ``set_preprocessing`` recorded another)."""
    name = getattr(model, ATTRIBUTE, "scale_to_unit")
    if name not in PREPROCESSINGS:
        raise InvalidParameterError(
            f"the model's `{ATTRIBUTE}` must be one of {sorted(PREPROCESSINGS)}, got {name!r}.")
    return name


def preprocessing_for(model):
    """The preprocessing function a model was trained with: ``imagenet_caffe`` for
    ``ResNet50(weights="imagenet")`` and the models fine-tuned from it (loaded again with
    ``resnet.train.saving.load_model``), ``scale_to_unit`` (what this book trains with)
    for every other model."""
    return PREPROCESSINGS[preprocessing_name(model)]


PREPROCESSINGS = {"scale_to_unit": scale_to_unit, "imagenet_caffe": imagenet_caffe}


def resize(images, image_size):
    """Resize images to ``image_size`` with antialiased bilinear interpolation.

    Args:
        images: (H, W, C) or (B, H, W, C) pixels 0..255.
        image_size: an int (square) or (height, width).

    Returns:
        A float32 tensor (..., height, width, C) still in 0..255 (clipped, since
        interpolation may overshoot slightly). Images already of that size are
        returned unchanged but for the cast.
    """
    height, width = check_image_size(image_size)
    images = tf.cast(images, tf.float32)
    if tuple(images.shape[-3:-1]) == (height, width):
        return images
    resized = tf.image.resize(images, (height, width), method="bilinear", antialias=True)
    return tf.clip_by_value(resized, 0.0, 255.0)


def preprocess(images, image_size, preprocessing=scale_to_unit):
    """Resize 0..255 pixels to ``image_size``, then apply ``preprocessing``.

    This is the last step of the training pipelines in ``resnet.train.data`` and of
    ``resnet.evaluate``: the one function that serves both.

    Args:
        images: (H, W, C) or (B, H, W, C) pixels 0..255.
        image_size: an int (square) or (height, width).
        preprocessing: a function of 0..255 pixels (default ``scale_to_unit``).

    Returns:
        A float32 tensor (..., height, width, C).
    """
    return preprocessing(resize(images, image_size))

