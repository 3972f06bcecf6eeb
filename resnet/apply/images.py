"""Reading images: files, PIL images and numpy arrays, in any mode, as 0..255 pixels.

``load_image`` is the one place that decodes and converts an image, for
``resnet.evaluate``, ``resnet.grad_cam`` and the folder loaders of
``resnet.train.data``: transparency composited over white, palette, CMYK and 16-bit
images converted, EXIF orientation applied, and bad input refused with a
``FileNotFoundError`` or ``ValueError`` that names the image.
``load_images`` reads one image or many; ``load_batch`` then resizes and
preprocesses them into the one batch a model eats (``evaluate`` and
``grad_cam`` both start with it).

    >>> import numpy as np
    >>> load_image(np.zeros((4, 5), dtype=np.uint8), channels=3).shape
    (4, 5, 3)

Pillow is imported inside the functions that need it.
"""

import os
import warnings
from pathlib import Path
from typing import NamedTuple

import numpy as np
import tensorflow as tf

from ..preprocessing import preprocess, scale_to_unit
from ..validation import InvalidParameterError, check_channels

_SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I")


def load_image(image, channels=3, *, name=None):
    """Read one image as pixels 0..255 with the given number of channels.

    Files are read with Pillow; EXIF orientation is applied; any mode is
    converted: transparency is composited over white, palette and CMYK become
    RGB, 16-bit images are scaled to 0..255, RGB becomes greyscale for
    ``channels=1`` and greyscale is repeated for ``channels=3``.

    Args:
        image: a path (str or os.PathLike), a PIL image, or a numpy array
            (H, W) or (H, W, C) with C in 1, 3, 4. Integer arrays use their
            dtype's range (uint8 0..255, uint16 0..65535); float arrays hold
            0..255, or [0, 1] when every value lies in [0, 1] (scikit-image's
            convention).
        channels: 1 (greyscale) or 3 (RGB).
        name: how error messages name the image (default: the path, or "image").

    Returns:
        (H, W, channels) float32 array of pixels 0..255.

    Raises:
        FileNotFoundError: a path that does not exist.
        ValueError: not an image, a corrupt or truncated file, an image over
            Pillow's decompression-bomb limit (``PIL.Image.MAX_IMAGE_PIXELS``),
            or an array of the wrong shape or values.
    """
    check_channels(channels)
    if isinstance(image, np.ndarray):  # arrays need no Pillow
        return _array_to_pixels(image, channels, name or "image")
    from PIL import Image

    if isinstance(image, (str, os.PathLike)):
        return _pil_to_pixels(_open(image), channels, name or str(image))
    if isinstance(image, Image.Image):
        name = name or "image"
        _check_pixel_count(image.width * image.height, name)
        return _pil_to_pixels(image, channels, name)
    raise InvalidParameterError(
        f"{name or 'image'}: expected a file path, a PIL image or a numpy array, got "
        f"{type(image).__name__}."
    )


def load_images(images, channels=3):
    """Read one image or many, each as ``load_image`` reads it, all before any is used.

    Args:
        images: a file path, a PIL image, a numpy array (H, W), (H, W, C) or a
            batch (N, H, W, C), or a list of any of these.
        channels: 1 (greyscale) or 3 (RGB).

    Returns:
        (names, pixels): one name per image (its path, or "image N" for an
        in-memory image, N its place in the input) and one (H, W, channels)
        float32 array of pixels 0..255 per image, in input order.

    Raises:
        FileNotFoundError, ValueError: as ``load_image``, naming the image; an
            empty list.

    >>> names, pixels = load_images(np.zeros((2, 4, 5, 3), dtype=np.uint8), channels=1)
    >>> names, pixels[0].shape
    (['image 0', 'image 1'], (4, 5, 1))
    """
    sources = _as_list(images)
    names = [source if source is not None else f"image {i}"
             for i, (source, _) in enumerate(sources)]
    pixels = [load_image(image, channels, name=name)
              for name, (_, image) in zip(names, sources, strict=True)]
    return names, pixels


class Batch(NamedTuple):
    """Images made ready for a model (what ``load_batch`` returns).

    Attributes:
        inputs: (N, H, W, C) float32 tensor: resized and preprocessed, what the model eats.
        names: one name per image (its path, or "image N").
        pixels: one (h, w, C) float32 array of 0..255 per image, as read (before resizing).
    """

    inputs: tf.Tensor
    names: list
    pixels: list


def load_batch(images, input_shape, preprocessing=scale_to_unit):
    """Read images, resize them to ``input_shape`` and preprocess them, as training did.

    The first step of ``resnet.evaluate`` and ``resnet.grad_cam``: every image
    is read first (``load_images``), so that a bad one fails before any
    prediction, then resized and preprocessed by ``resnet.preprocess``, the
    last step of the training pipelines, and stacked.

    Args:
        images: as for ``load_images``.
        input_shape: (height, width, channels) of the model's input, channels 1 or 3.
        preprocessing: a function of 0..255 pixels (default ``scale_to_unit``).

    Returns:
        A ``Batch`` (inputs, names, pixels).

    >>> batch = load_batch([np.zeros((8, 8), np.uint8), np.ones((4, 6, 3), np.uint8)],
    ...                    (16, 16, 3))
    >>> tuple(batch.inputs.shape), batch.names
    ((2, 16, 16, 3), ['image 0', 'image 1'])
    """
    height, width, channels = input_shape
    names, pixels = load_images(images, channels)
    inputs = tf.stack([preprocess(p, (height, width), preprocessing) for p in pixels])
    return Batch(inputs, names, pixels)


def _as_list(images):
    """[(source or None, image)] for one image, a batch array or a list."""
    if isinstance(images, (str, os.PathLike)):
        return [(str(images), images)]
    if isinstance(images, np.ndarray):
        if images.ndim == 4:
            return [(None, image) for image in images]
        return [(None, images)]
    if isinstance(images, (list, tuple)):
        if len(images) == 0:
            raise InvalidParameterError(
                "`images` is empty: give at least one path, PIL image or array.")
        return [
            (str(image) if isinstance(image, (str, os.PathLike)) else None, image)
            for image in images
        ]
    from PIL import Image

    if isinstance(images, Image.Image):
        return [(None, images)]
    raise InvalidParameterError(
        "`images` must be a file path, a PIL image, a numpy array or a list of these, got "
        f"{type(images).__name__}."
    )


def _check_pixel_count(pixels, name):
    try:
        from PIL import Image
    except ImportError:  # an array, and no Pillow installed: Pillow's limit does not apply
        return

    limit = Image.MAX_IMAGE_PIXELS
    if limit is not None and pixels > limit:
        raise ValueError(
            f"{name}: {pixels:,} pixels is over Pillow's decompression-bomb limit of "
            f"{limit:,} (PIL.Image.MAX_IMAGE_PIXELS); refusing to load it."
        )


def _open(path):
    """Open and fully decode an image file, or raise an error that names it."""
    from PIL import Image

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{str(path)!r}: no such file.")
    if not path.is_file():
        raise ValueError(f"{str(path)!r}: not a file (a folder?); expected an image file.")
    try:
        # Pillow only warns between its limit and twice its limit: refuse both.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                image.load()  # decode now: truncated or corrupt data fails here
                return image.copy()
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as error:
        raise ValueError(
            f"{str(path)!r}: over Pillow's decompression-bomb limit of "
            f"{Image.MAX_IMAGE_PIXELS:,} pixels (PIL.Image.MAX_IMAGE_PIXELS); refusing to "
            f"load it ({error})."
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise ValueError(
            f"{str(path)!r}: not a readable image (not an image file, or corrupt or truncated: "
            f"{error})."
        ) from None


def _pil_to_pixels(image, channels, name):
    """(H, W, channels) float32 0..255 from a PIL image of any mode."""
    from PIL import Image, ImageOps

    try:
        image = ImageOps.exif_transpose(image)
    except Exception:  # a broken EXIF block should not stop the pixels
        pass
    if image.mode in _SIXTEEN_BIT_MODES or image.mode == "F":
        return _array_to_pixels(np.asarray(image), channels, name)
    if image.mode == "P" or "transparency" in image.info:
        image = image.convert("RGBA")
    if "A" in image.getbands() or image.mode in ("LA", "La", "RGBa", "PA"):
        # Transparent pixels have arbitrary colours underneath: show them on white.
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    image = image.convert("L" if channels == 1 else "RGB")
    pixels = np.asarray(image, dtype=np.float32)
    return pixels[..., None] if channels == 1 else pixels


def _array_to_pixels(array, channels, name):
    """(H, W, channels) float32 0..255 from a numpy image array."""
    array = np.asarray(array)
    if array.ndim == 3 and array.shape[-1] in (1, 3, 4):
        pass
    elif array.ndim == 2:
        array = array[..., None]
    else:
        raise ValueError(
            f"{name}: an image array must be (H, W) or (H, W, C) with C 1, 3 or 4 (or a batch "
            f"(N, H, W, C)), got shape {array.shape}."
        )
    if array.shape[0] < 1 or array.shape[1] < 1:
        raise ValueError(f"{name}: the image is empty (shape {array.shape}).")
    _check_pixel_count(array.shape[0] * array.shape[1], name)
    if array.dtype == bool:
        pixels = array.astype(np.float32) * 255
    elif np.issubdtype(array.dtype, np.integer):
        # 8- and 16-bit types use their range; wider ints (Pillow's mode "I") their values.
        if array.dtype.itemsize == 1:
            top = 255.0
        elif array.dtype.itemsize == 2 or array.max(initial=0) > 255:
            top = 65535.0
        else:
            top = 255.0
        if array.min(initial=0) < 0 or array.max(initial=0) > 65535:
            raise ValueError(
                f"{name}: integer pixels must be 0..255 (8-bit) or 0..65535 (16-bit), got "
                f"{array.min()}..{array.max()}."
            )
        pixels = array.astype(np.float32) * (255.0 / top)
    elif np.issubdtype(array.dtype, np.floating):
        if not np.all(np.isfinite(array)):
            raise ValueError(f"{name}: the image holds NaN or infinite values.")
        low, high = float(array.min()), float(array.max())
        if low < 0 or high > 255:
            raise ValueError(
                f"{name}: float pixels must be in [0, 255] (or [0, 1]), got {low:g}..{high:g}."
            )
        pixels = array.astype(np.float32) * (255.0 if high <= 1 else 1.0)
    else:
        raise ValueError(f"{name}: unsupported pixel type {array.dtype}.")
    if pixels.shape[-1] == 4:  # RGBA: composite over white
        alpha = pixels[..., 3:] / 255.0
        pixels = pixels[..., :3] * alpha + 255.0 * (1 - alpha)
    if channels == 1 and pixels.shape[-1] == 3:
        # ITU-R 601 luma, the weights of Pillow's convert("L").
        pixels = pixels @ np.array([[0.299], [0.587], [0.114]], dtype=np.float32)
    elif channels == 3 and pixels.shape[-1] == 1:
        pixels = np.repeat(pixels, 3, axis=-1)
    return pixels.astype(np.float32)
