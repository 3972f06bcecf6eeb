import numpy as np
import pytest
from tensorflow import keras

import resnet
from resnet.preprocessing import (
    imagenet_caffe,
    preprocess,
    preprocessing_for,
    resize,
    scale_to_unit,
)


def test_scale_to_unit_maps_0_255_to_0_1_as_float32(rng):
    images = rng.integers(0, 256, size=(2, 5, 5, 3)).astype(np.uint8)
    scaled = np.asarray(scale_to_unit(images))
    assert scaled.dtype == np.float32
    # One float32 division per pixel: within 1 ulp (6e-8 relative); a wrong scale is off by %.
    np.testing.assert_allclose(scaled, images / 255.0, rtol=1e-6)
    assert scaled.min() >= 0 and scaled.max() <= 1


def test_imagenet_caffe_equals_keras_applications_preprocess_input(rng):
    images = rng.uniform(0, 255, size=(2, 7, 7, 3)).astype(np.float32)
    expected = keras.applications.resnet50.preprocess_input(images.copy())
    np.testing.assert_allclose(np.asarray(imagenet_caffe(images)), expected, atol=1e-4)


def test_imagenet_caffe_refuses_greyscale():
    with pytest.raises(ValueError, match="3 channels"):
        imagenet_caffe(np.zeros((4, 4, 1)))


def test_preprocessing_for_picks_by_model_name():
    inputs = keras.Input((32, 32, 3))
    outputs = keras.layers.GlobalAveragePooling2D()(inputs)
    assert preprocessing_for(keras.Model(inputs, outputs, name="resnet50_imagenet")) is (
        imagenet_caffe
    )
    assert preprocessing_for(keras.Model(inputs, outputs, name="resnet50")) is scale_to_unit


def test_resize_keeps_the_pixel_range_and_shape(rng):
    images = rng.integers(0, 256, size=(3, 8, 8, 1)).astype(np.uint8)
    resized = np.asarray(resize(images, 32))
    assert resized.shape == (3, 32, 32, 1)
    assert resized.min() >= 0 and resized.max() <= 255
    # A constant image stays constant.
    np.testing.assert_allclose(np.asarray(resize(np.full((8, 8, 1), 200.0), (16, 24))), 200.0,
                               atol=1e-3)


def test_preprocess_is_resize_then_preprocessing(rng):
    images = rng.integers(0, 256, size=(2, 40, 30, 3)).astype(np.uint8)
    # The same resize, then one float32 division: within 1 ulp, no network involved.
    np.testing.assert_allclose(
        np.asarray(preprocess(images, 32)), np.asarray(resize(images, 32)) / 255.0, rtol=1e-6
    )
    assert resnet.preprocess is preprocess


@pytest.mark.parametrize("size", [0, (32,), (32, 0), "32", 32.0, True])
def test_bad_image_size_is_refused(size):
    with pytest.raises(ValueError, match="image_size"):
        resize(np.zeros((8, 8, 1)), size)
