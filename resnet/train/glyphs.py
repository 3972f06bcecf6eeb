"""Generated glyphs: letters in the digits' format, as many as asked for, no download.

    >>> from resnet.train import glyphs
    >>> letters = glyphs.glyphs(20_000, seed=0, image_size=16)  # doctest: +SKIP
    >>> letters.class_names[:3], letters.arrays["train"].images.shape  # doctest: +SKIP
    (('A', 'B', 'C'), (12000, 8, 8, 1))

Why: transfer learning pays when a network learns on a large source and then
meets a small target. The book's target is the 1,797 digits of scikit-learn;
a source for it should be large, made offline, in the same format, and hold no
digit (else the "transfer" would be seeing the target). Upper-case letters
rendered from the fonts that ship with matplotlib are such a source: ``glyphs``
returns a ``resnet.train.data.Dataset`` with the same fields, splits and
pipelines as ``data.digits()``, of any size, the same for the same seed.

How each image is made (``render_glyphs``), from its own random generator
(seeded by (``seed``, its index), so the first N images do not depend on ``count``):

1. the letter: label ``i % len(letters)``, so the classes are balanced;
2. the font: one of ``FONTS`` at random (its outline, read with
   ``matplotlib.ft2font`` without hinting);
3. the shape: a random rotation (up to 8 degrees either way), slant (shear up to
   0.2), width (0.65 to 1.05 of the height's scale: condensed to normal, nearer
   the digits' proportions) and stroke (the outline filled, and drawn with a
   pen of 0 to 2 pixels of 32: from the font's own weight to bolder);
4. the place: cropped to its ink and scaled to fill a 32x32 frame, centred, as
   the digits are (they fill the height; ``keep_position=False``); or, with
   ``keep_position=True``, at a random size (45% to 100% of that) and a random
   place inside the frame;
5. the rendering: filled with matplotlib's Agg rasteriser (antialiased, one
   32x32 canvas reused, no Figure), blurred (Gaussian, sigma 0 to 1 pixel of 32)
   and noised (Gaussian, sd 0 to 0.05 of full ink a pixel);
6. the digits' format: each 4x4 block averaged (32x32 -> 8x8), quantised to 17
   ink levels 0..16 (the digits' counts of 16 pixels of 32x32 bitmaps), and
   stored as the digits' loader stores them: ``round(level * 255 / 16)`` uint8,
   ink bright on a dark (0) background.

    render_glyphs  (images (N, 8, 8) uint8, labels (N,) int32)
    glyphs         a ``Dataset`` of them, split and batched as ``data.digits``
    FONTS          the font files used: those of matplotlib's that draw every
                   Latin letter with a glyph of its own
"""

import string
from functools import cache
from pathlib import Path

import numpy as np

from ..validation import InvalidParameterError, check_channels, check_fraction, check_int
from . import data

LETTERS = string.ascii_uppercase
"""The default classes: the 26 upper-case Latin letters (lower-case ones may be asked for)."""

ALLOWED = string.ascii_letters
LEVELS = 16  # ink levels 0..16, as scikit-learn's digits
SIZE = 8  # the digits' side
SUPERSAMPLE = 4  # rendered at 32x32, each 4x4 block averaged
MAX_ROTATION = 8.0  # degrees, either way
MAX_SHEAR = 0.2
WIDTH_RANGE = (0.65, 1.05)
PEN_RANGE = (0.0, 2.0)  # extra stroke, in pixels of the 32x32 canvas
SIZE_RANGE = (0.45, 1.0)  # keep_position=True: share of the frame-filling size
MAX_BLUR = 1.0  # Gaussian sigma, pixels of the 32x32 canvas
MAX_NOISE = 0.05  # Gaussian sd, share of full ink, on each pixel of 32x32


def _font_folder():
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


@cache
def _font(font_file):
    from matplotlib.ft2font import FT2Font

    font = FT2Font(str(_font_folder() / font_file))
    font.set_size(100, 72)
    return font


@cache
def _outline(font_file, char):
    """The outline of ``char`` in ``font_file`` as closed polygons (Path), or None if absent."""
    from matplotlib.ft2font import LoadFlags
    from matplotlib.path import Path as MplPath

    font = _font(font_file)
    if font.get_char_index(ord(char)) == 0:
        return None
    font.load_char(ord(char), flags=LoadFlags.NO_HINTING)
    vertices, codes = font.get_path()
    if len(vertices) == 0:
        return None
    polygons = MplPath(vertices, codes).to_polygons(closed_only=True)
    if not polygons:
        return None
    return MplPath.make_compound_path(*(MplPath(p, closed=True) for p in polygons))


def _draws_letters(font_file):
    """Whether the font draws every Latin letter with a glyph of its own.

    Its character map must hold all 52 (symbol fonts hold none; matplotlib's
    fall back to other fonts for them), their outlines must differ (LastResort
    maps every letter to one placeholder), the flat capitals must share one
    height within 10% and 'x' be lower than 'X' (cmex10 and cmsy10 map the
    letters' codes to big delimiters and to calligraphic capitals and symbols).
    """
    outlines = dict(zip(ALLOWED, (_outline(font_file, c) for c in ALLOWED), strict=True))
    if any(o is None for o in outlines.values()):
        return False
    if len({o.vertices.round(1).tobytes() for o in outlines.values()}) < len(ALLOWED):
        return False
    height = {c: np.ptp(o.vertices[:, 1]) for c, o in outlines.items()}
    flat = [height[c] for c in "ABDEFHIKLMNPRTUVWXYZ"]  # no descender, no overshoot
    return max(flat) < 1.1 * min(flat) and height["x"] < height["X"]


def _find_fonts():
    return tuple(sorted(p.name for p in _font_folder().glob("*.ttf") if _draws_letters(p.name)))


FONTS = _find_fonts()
"""The font files (in matplotlib's ``mpl-data/fonts/ttf``) the glyphs are drawn from, sorted."""


def _check_letters(letters, minimum=1):
    chars = tuple(letters) if isinstance(letters, (str, list, tuple)) else None
    if (chars is None or len(chars) < minimum or len(set(chars)) != len(chars)
            or any(not isinstance(c, str) or len(c) != 1 or c not in ALLOWED for c in chars)):
        what = "a letter" if minimum == 1 else f"{minimum} or more letters"
        raise InvalidParameterError(
            f"`letters` must be {what} of A-Z and a-z, each once, got {letters!r}.")
    return "".join(chars)


def _check_bool(value, name):
    if not isinstance(value, bool):
        raise InvalidParameterError(f"`{name}` must be True or False, got {value!r}.")
    return value


class _Canvas:
    """One 32x32 Agg canvas, filled glyph after glyph (white ink on transparent)."""

    def __init__(self, side):
        from matplotlib.backend_bases import GraphicsContextBase
        from matplotlib.backends.backend_agg import RendererAgg

        self.side = side
        self.renderer = RendererAgg(side, side, 72)  # 72 dpi: a point is a pixel
        self.gc = GraphicsContextBase()
        self.gc.set_antialiased(True)
        self.gc.set_snap(False)
        self.gc.set_foreground((1.0, 1.0, 1.0))
        self.gc.set_joinstyle("round")

    def draw(self, path, pen):
        """The ink (side, side) float in [0, 1] of ``path`` (canvas pixels, y up), filled
        and stroked with a pen ``pen`` pixels wide (none for 0)."""
        from matplotlib.transforms import IdentityTransform

        self.renderer.clear()
        self.gc.set_linewidth(pen)
        self.renderer.draw_path(self.gc, path, IdentityTransform(), (1.0, 1.0, 1.0))
        return np.asarray(self.renderer.buffer_rgba())[:, :, 3] / 255.0


def _glyph(canvas, outline, rng, keep_position):
    """One glyph's ink on the canvas, its shape and place drawn from ``rng``."""
    from matplotlib.path import Path as MplPath

    side = canvas.side
    angle = np.deg2rad(rng.uniform(-MAX_ROTATION, MAX_ROTATION))
    shear = rng.uniform(-MAX_SHEAR, MAX_SHEAR)
    width = rng.uniform(*WIDTH_RANGE)
    pen = rng.uniform(*PEN_RANGE)
    cos, sin = np.cos(angle), np.sin(angle)
    shape = np.array([[cos, -sin], [sin, cos]]) @ np.array([[width, shear], [0.0, 1.0]])
    points = outline.vertices @ shape.T
    low, high = points.min(axis=0), points.max(axis=0)
    # Crop to the ink (the pen's half width included) and fit it inside the frame.
    extent = high - low
    scale = (side - pen) / extent.max()
    if keep_position:
        scale *= rng.uniform(*SIZE_RANGE)
    room = side - pen - extent * scale  # free canvas along x and y
    offset = rng.uniform(0, 1, 2) * room if keep_position else room / 2
    points = (points - low) * scale + pen / 2 + offset
    return canvas.draw(MplPath(points, outline.codes), pen)


_SIDE = SIZE * SUPERSAMPLE
_DISTANCE = np.subtract.outer(np.arange(_SIDE), np.arange(_SIDE))
_AVERAGE = np.kron(np.eye(SIZE), np.full((1, SUPERSAMPLE), 1.0 / SUPERSAMPLE))  # (8, 32)


def _blur_and_average(sigma):
    """The (8, 32) matrix R with R @ ink @ R.T the 4x4 block means of ``ink`` (32x32)
    blurred by a Gaussian of ``sigma`` pixels (outside the canvas: no ink)."""
    if sigma < 0.05:
        return _AVERAGE
    reach = int(4 * sigma + 0.5)  # scipy.ndimage.gaussian_filter's truncation
    offsets = np.arange(-reach, reach + 1)
    weights = np.exp(-0.5 * (offsets / sigma) ** 2)
    kernel = np.zeros(2 * _SIDE - 1)  # the weight of each distance -31..31
    kernel[offsets + _SIDE - 1] = weights / weights.sum()
    return _AVERAGE @ kernel[_DISTANCE + _SIDE - 1]


def render_glyphs(count, *, seed=0, letters=LETTERS, keep_position=False):
    """``count`` letters rendered from random fonts, in the format of the digits.

    Args:
        count: how many images.
        seed: a non-negative int; the same seed gives the same images, and image
            i is the same whatever ``count`` (each has its own generator,
            seeded by (seed, i)).
        letters: the classes, in label order: a string (or sequence) of
            different letters of A-Z and a-z (default A-Z).
        keep_position: False, the glyph is cropped to its ink and scaled to
            fill the frame, centred, as the digits are; True, it keeps a random
            size and place inside the frame.

    Returns:
        (images, labels): images (count, 8, 8) uint8 whose values are the
        digits' ``round(level * 255 / 16)`` for ink levels 0..16 (ink bright on
        0), labels (count,) int32, image i of class ``i % len(letters)``.

    Raises:
        InvalidParameterError: a bad argument (named in the message).
    """
    check_int(count, "count")
    check_int(seed, "seed", 0)
    letters = _check_letters(letters)
    _check_bool(keep_position, "keep_position")
    if not FONTS:
        raise RuntimeError(f"No font that draws the Latin letters in {_font_folder()}.")
    canvas = _Canvas(_SIDE)
    labels = np.arange(count, dtype=np.int32) % len(letters)
    blocks = np.empty((count, SIZE, SIZE))
    for i, label in enumerate(labels):
        rng = np.random.default_rng((seed, i))
        font = FONTS[rng.integers(len(FONTS))]
        ink = _glyph(canvas, _outline(font, letters[label]), rng, keep_position)
        reduce = _blur_and_average(rng.uniform(0, MAX_BLUR))
        # Noise of sd s on each of a block's 16 pixels is noise of sd s / 4 on its mean.
        noise = rng.normal(0.0, rng.uniform(0, MAX_NOISE) / SUPERSAMPLE, (SIZE, SIZE))
        blocks[i] = reduce @ ink @ reduce.T + noise
    levels = np.clip(np.round(blocks * LEVELS), 0, LEVELS)
    # As data.digits turns the digits' 0..16 into pixels.
    images = np.round(levels * (255.0 / LEVELS)).astype(np.uint8)
    return images, labels


def _split_sizes(count, val_fraction, test_fraction):
    """The (train, val, test) sizes ``data.split_indices`` makes of ``count`` images
    (scikit-learn's train_test_split: the held-out part rounded up)."""
    test = int(np.ceil(test_fraction * count))
    rest = count - test
    val = int(np.ceil(val_fraction / (1 - test_fraction) * rest))
    return rest - val, val, test


def glyphs(count, *, seed=0, image_size=8, keep_position=False, val_fraction=0.2,
           test_fraction=0.2, batch_size=32, channels=1):
    """``count`` generated letters as a ``Dataset``, split and batched as ``data.digits``.

    Args:
        count: how many images in all; every split must hold at least as many
            images as there are letters (127 or more for 26 letters and the
            default fractions; from 130, 5 a letter, every split holds every
            letter).
        seed: fixes the images (``render_glyphs``), the split and the shuffling.
        image_size: the side the pipelines resize the 8x8 images to, or
            (height, width); the default 8 keeps them as they are (the training
            recipe's is 16, ``data.digits``' default 32).
        keep_position: as for ``render_glyphs``.
        val_fraction, test_fraction: shares of the validation and test splits.
        batch_size: images per batch.
        channels: 1 (greyscale) or 3 (the grey value repeated, for RGB models).

    Returns:
        A ``resnet.train.data.Dataset``: ``class_names`` the letters, ``arrays``
        8x8x``channels`` uint8 images, stratified 60/20/20 by default.

    Raises:
        InvalidParameterError: a bad argument (named in the message), or a
            ``count`` that leaves a split fewer images than letters.
    """
    check_int(count, "count")
    letters = LETTERS  # the classes (``render_glyphs`` draws any other letters)
    check_channels(channels)
    check_fraction(val_fraction, "val_fraction")
    check_fraction(test_fraction, "test_fraction", allow_zero=True)
    if val_fraction + test_fraction >= 1:
        raise InvalidParameterError(
            f"`val_fraction` + `test_fraction` must be below 1, got {val_fraction} + "
            f"{test_fraction}.")
    sizes = _split_sizes(count, val_fraction, test_fraction)
    if min(sizes if test_fraction else sizes[:2]) < len(letters):
        raise InvalidParameterError(
            f"`count` must give every split at least as many images as the "
            f"{len(letters)} letters, got {count} (splits of {sizes[0]} / {sizes[1]} / "
            f"{sizes[2]}).")
    images, labels = render_glyphs(count, seed=seed, letters=letters,
                                   keep_position=keep_position)
    # data._from_arrays is private to data.py: called as data.digits calls it, so that
    # the glyphs are split and batched exactly as the digits are.
    return data._from_arrays(
        images[..., None], labels, tuple(letters), image_size=image_size,
        batch_size=batch_size, seed=seed, channels=channels, val_fraction=val_fraction,
        test_fraction=test_fraction,
    )
