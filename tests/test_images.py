"""resnet.apply.images: load_images and load_batch, the step evaluate and grad_cam share.

load_image's conversions and errors are tested through evaluate (tests/test_inference.py).
"""

import numpy as np
import pytest
from conftest import save_image

from resnet.apply import images
from resnet.preprocessing import imagenet_caffe, preprocess, scale_to_unit


def test_load_images_names_each_image_and_keeps_the_order(picture, tmp_path):
    path = save_image(picture, tmp_path / "p.png")
    names, pixels = images.load_images([picture, path, picture[:4]], channels=3)
    assert names == ["image 0", str(path), "image 2"]
    assert [p.shape for p in pixels] == [(16, 16, 3), (16, 16, 3), (4, 16, 3)]
    assert all(p.dtype == np.float32 for p in pixels)
    np.testing.assert_array_equal(pixels[0], pixels[1])  # the file holds the same pixels
    names, pixels = images.load_images(np.stack([picture, picture]), channels=1)
    assert names == ["image 0", "image 1"] and pixels[0].shape == (16, 16, 1)


def test_load_batch_resizes_and_preprocesses_as_training_does(picture, rng):
    small = rng.integers(0, 256, size=(8, 12, 3)).astype(np.uint8)
    batch = images.load_batch([picture, small], (16, 16, 3))
    assert tuple(batch.inputs.shape) == (2, 16, 16, 3) and batch.inputs.dtype == "float32"
    assert batch.names == ["image 0", "image 1"]
    assert [p.shape for p in batch.pixels] == [(16, 16, 3), (8, 12, 3)]  # as read
    for pixels, inputs in zip(batch.pixels, batch.inputs, strict=True):
        expected = preprocess(pixels, (16, 16), scale_to_unit)
        np.testing.assert_array_equal(np.asarray(inputs), np.asarray(expected))
    caffe = images.load_batch(picture, (16, 16, 3), imagenet_caffe)
    np.testing.assert_allclose(np.asarray(caffe.inputs[0]),
                               np.asarray(imagenet_caffe(picture.astype(np.float32))), atol=1e-4)


def test_load_batch_fails_on_a_bad_image_before_returning_anything(picture, tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.png"):
        images.load_batch([picture, tmp_path / "missing.png"], (16, 16, 3))
    with pytest.raises(ValueError, match="empty"):
        images.load_batch([], (16, 16, 3))
