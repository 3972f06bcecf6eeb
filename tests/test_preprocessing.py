"""resnet.preprocessing: the two preprocessings, resizing, and the one a model carries."""

import json
import zipfile

import numpy as np
import pytest
from tensorflow import keras

import resnet
from resnet.preprocessing import (
    PREPROCESSINGS,
    imagenet_caffe,
    preprocess,
    preprocessing_for,
    preprocessing_name,
    resize,
    scale_to_unit,
    set_preprocessing,
)
from resnet.train.saving import load_model, save_model


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


def _pooling_model(name="resnet50"):
    inputs = keras.Input((32, 32, 3))
    return keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(inputs), name=name)


def test_a_model_carries_its_preprocessing_and_its_name_does_not_matter():
    model = _pooling_model()
    assert preprocessing_name(model) == "scale_to_unit" and preprocessing_for(model) is (
        scale_to_unit)  # unmarked: what this book trains with
    assert set_preprocessing(model, "imagenet_caffe") is model
    assert preprocessing_name(model) == "imagenet_caffe"
    assert preprocessing_for(model) is imagenet_caffe
    # The "_imagenet" name suffix that used to pick ImageNet's preprocessing means nothing.
    assert preprocessing_for(_pooling_model("resnet50_imagenet")) is scale_to_unit
    assert PREPROCESSINGS == {"scale_to_unit": scale_to_unit, "imagenet_caffe": imagenet_caffe}


def test_an_unknown_preprocessing_is_refused_naming_the_known_ones():
    model = _pooling_model()
    with pytest.raises(ValueError, match="`name` must be one of .*'imagenet_caffe'.*got 'caffe'"):
        set_preprocessing(model, "caffe")
    assert preprocessing_name(model) == "scale_to_unit"  # left as it was
    model.preprocessing = "torch"  # set by hand
    with pytest.raises(ValueError, match="the model's `preprocessing` must be one of"):
        preprocessing_for(model)


@pytest.mark.parametrize("name", ["imagenet_caffe", "scale_to_unit"])
def test_the_preprocessing_survives_saving_and_loading(tmp_path, name):
    model = set_preprocessing(_pooling_model(), name)
    path = save_model(model, tmp_path / "model.keras")
    assert preprocessing_name(load_model(path)) == name
    # Keras' own loader knows nothing of it: the model comes back unmarked.
    assert preprocessing_name(keras.models.load_model(path)) == "scale_to_unit"
    with zipfile.ZipFile(path) as archive:
        assert json.loads(archive.read("preprocessing.json")) == name


def test_a_model_saved_by_keras_loads_as_scale_to_unit(tmp_path):
    model = set_preprocessing(_pooling_model(), "imagenet_caffe")
    model.save(tmp_path / "plain.keras")  # Keras' save: no entry for the preprocessing
    assert preprocessing_name(load_model(tmp_path / "plain.keras")) == "scale_to_unit"


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
