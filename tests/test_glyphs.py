"""The generated glyphs: deterministic, in the digits' format, and a Dataset as the digits'."""

import string

import numpy as np
import pytest

from resnet.train import data, glyphs
from resnet.validation import InvalidParameterError


@pytest.fixture(scope="module")
def digits():
    return data.digits(image_size=8)


@pytest.fixture(scope="module")
def centred():
    return glyphs.render_glyphs(104, seed=0)


@pytest.fixture(scope="module")
def placed():
    return glyphs.render_glyphs(104, seed=0, keep_position=True)


def _ink_boxes(images):
    """(top, left, height, width) of each image's ink (pixels above 0)."""
    ink = images > 0
    rows, cols = ink.any(axis=2), ink.any(axis=1)
    top, left = rows.argmax(axis=1), cols.argmax(axis=1)
    height = images.shape[1] - rows[:, ::-1].argmax(axis=1) - top
    width = images.shape[2] - cols[:, ::-1].argmax(axis=1) - left
    return top, left, height, width


def test_the_fonts_are_matplotlibs_text_fonts():
    assert glyphs.FONTS == tuple(sorted(glyphs.FONTS))
    assert {"DejaVuSans.ttf", "DejaVuSerif-BoldItalic.ttf", "STIXGeneral.ttf",
            "cmr10.ttf"} <= set(glyphs.FONTS)
    symbols = {"cmsy10.ttf", "cmex10.ttf", "LastResortHE-Regular.ttf",
               "DejaVuSansDisplay.ttf", "STIXSizOneSymReg.ttf", "STIXNonUni.ttf"}
    assert not symbols & set(glyphs.FONTS)


def test_the_same_seed_gives_the_same_glyphs_whatever_the_count(centred):
    images, labels = centred
    again, again_labels = glyphs.render_glyphs(40, seed=0)
    np.testing.assert_array_equal(again, images[:40])
    np.testing.assert_array_equal(again_labels, labels[:40])
    other, _ = glyphs.render_glyphs(40, seed=1)
    assert (other != images[:40]).any(axis=(1, 2)).mean() > 0.9


def test_shapes_dtypes_and_the_digits_17_ink_levels(centred, digits):
    images, labels = centred
    assert images.shape == (104, 8, 8) and images.dtype == np.uint8
    assert labels.shape == (104,) and labels.dtype == np.int32
    # The digits' loader turns ink levels 0..16 into round(level * 255 / 16).
    digit_values = np.unique(digits.arrays["train"].images)
    np.testing.assert_array_equal(digit_values, np.round(np.arange(17) * 255 / 16))
    assert set(np.unique(images)) <= set(digit_values)
    assert len(np.unique(images)) >= 12
    # Ink bright on a dark background, as the digits: 0 is the most common value.
    for pixels in (digits.arrays["train"].images, images):
        assert np.bincount(pixels.ravel()).argmax() == 0 and (pixels == 0).mean() > 0.3
    assert images.max(axis=(1, 2)).min() >= 128


def test_every_class_is_present_and_balanced(centred):
    images, labels = centred
    np.testing.assert_array_equal(np.bincount(labels), np.full(26, 4))
    assert (images.max(axis=(1, 2)) > 0).all()
    lower, lower_labels = glyphs.render_glyphs(6, seed=0, letters="abcXYZ")
    np.testing.assert_array_equal(lower_labels, np.arange(6))
    assert (lower.max(axis=(1, 2)) > 0).all()


def test_centred_glyphs_fill_the_frame_and_kept_ones_move(centred, placed, digits):
    top, left, height, width = _ink_boxes(centred[0])
    # As the digits (every one of which spans the 8 rows), the glyphs fill the frame:
    # their ink spans its height or its width, centred.
    assert (_ink_boxes(digits.arrays["train"].images[..., 0])[2] == 8).all()
    assert (np.maximum(height, width) == 8).mean() > 0.95
    assert (np.abs(2 * left + width - 8) <= 2).all() and (np.abs(2 * top + height - 8) <= 2).all()
    # With keep_position, the ink keeps a random size and place inside the frame.
    top, left, height, width = _ink_boxes(placed[0])
    assert (np.maximum(height, width) < 8).mean() > 0.5
    assert len(np.unique(top)) >= 3 and len(np.unique(left)) >= 3
    assert len(np.unique(np.maximum(height, width))) >= 3


@pytest.mark.parametrize(("call", "name"), [
    (lambda: glyphs.render_glyphs(0), "count"),
    (lambda: glyphs.render_glyphs(2.5), "count"),
    (lambda: glyphs.render_glyphs(True), "count"),
    (lambda: glyphs.render_glyphs(3, seed=-1), "seed"),
    (lambda: glyphs.render_glyphs(3, letters="A1"), "letters"),
    (lambda: glyphs.render_glyphs(3, letters="AA"), "letters"),
    (lambda: glyphs.render_glyphs(3, letters=""), "letters"),
    (lambda: glyphs.render_glyphs(3, letters=5), "letters"),
    (lambda: glyphs.render_glyphs(3, keep_position="yes"), "keep_position"),
    (lambda: glyphs.glyphs(100), "count"),
    (lambda: glyphs.glyphs(200, val_fraction=1.5), "val_fraction"),
    (lambda: glyphs.glyphs(200, test_fraction=-0.1), "test_fraction"),
    (lambda: glyphs.glyphs(200, channels=2), "channels"),
])
def test_bad_arguments_are_named(call, name):
    with pytest.raises(InvalidParameterError, match=f"`{name}`"):
        call()


def test_the_dataset_is_built_as_the_digits(digits):
    dataset = glyphs.glyphs(130, seed=0, image_size=16, batch_size=16)
    assert type(dataset) is type(digits) is data.Dataset
    assert dataset.class_names == tuple(string.ascii_uppercase)
    assert dataset.input_shape == (16, 16, 1)
    assert set(dataset.arrays) == set(digits.arrays) == {"train", "val", "test"}
    sizes = tuple(len(dataset.arrays[name].labels) for name in ("train", "val", "test"))
    assert sizes == glyphs._split_sizes(130, 0.2, 0.2) == (78, 26, 26)
    images, labels = glyphs.render_glyphs(130, seed=0)
    seen = []
    for name, split in dataset.arrays.items():
        assert split.images.shape[1:] == (8, 8, 1) and split.images.dtype == np.uint8
        assert split.labels.dtype == np.int32
        assert set(split.labels) == set(range(26)), name  # stratified: every class
        seen.append(split.images[..., 0])
    # The splits partition the rendered glyphs.
    np.testing.assert_array_equal(np.unique(np.concatenate(seen), axis=0),
                                  np.unique(images, axis=0))
    batch_images, batch_labels = next(iter(dataset.train))
    assert batch_images.shape == (16, 16, 16, 1) and batch_images.dtype.name == "float32"
    assert batch_labels.dtype.name == "int32"
    assert dataset.train.element_spec[0].dtype == digits.train.element_spec[0].dtype


def test_split_sizes_match_the_split():
    for count, val, test in ((127, 0.2, 0.2), (333, 0.1, 0.3), (260, 0.25, 0)):
        labels = np.arange(count) % 26
        parts = data.split_indices(labels, 0, val_fraction=val, test_fraction=test)
        assert tuple(len(p) for p in parts) == glyphs._split_sizes(count, val, test)
