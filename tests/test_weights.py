import numpy as np
import pytest
from conftest import PROBABILITY_ATOL
from tensorflow import keras

import resnet
from resnet import weights as resnet_weights
from resnet.book.checks import randomize_weights
from resnet.preprocessing import imagenet_caffe, preprocessing_for, preprocessing_name

SMALL = dict(input_shape=(32, 32, 3), classes=5)


def _reference(path, input_shape=(32, 32, 3), classes=5, seed=0):
    """keras.applications.ResNet50 with random weights (BN statistics too), saved to ``path``."""
    model = keras.applications.ResNet50(weights=None, input_shape=input_shape, classes=classes)
    randomize_weights(model, seed=seed)
    if str(path).endswith(".weights.h5"):
        model.save_weights(str(path))
    else:
        # keras.applications publishes whole-model Keras 2 .h5 files; model.save writes one.
        model.save(str(path))
    return model


@pytest.mark.parametrize("file_name", ["reference.weights.h5", "reference.h5"])
def test_a_keras_applications_file_loads_into_the_from_scratch_network(tmp_path, file_name, rng):
    reference = _reference(tmp_path / file_name)
    ours = resnet.ResNet50(**SMALL, weights=tmp_path / file_name)
    for a, b in zip(ours.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    x = rng.uniform(0, 1, size=(2, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(np.asarray(ours(x, training=False)),
                               np.asarray(reference(x, training=False)), atol=PROBABILITY_ATOL)
    # Not ImageNet's file: the model keeps the book's preprocessing.
    assert ours.name == "resnet50" and preprocessing_name(ours) == "scale_to_unit"


def test_weights_saved_from_our_network_load_back(tmp_path):
    model = resnet.ResNet50(**SMALL, seed=3)
    model.save_weights(str(tmp_path / "ours.weights.h5"))
    again = resnet.ResNet50(**SMALL, seed=4, weights=str(tmp_path / "ours.weights.h5"))
    for a, b in zip(model.get_weights(), again.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [(dict(input_shape=(32, 32, 3), classes=7), "do not fit ResNet50.*5 classes"),
     (dict(input_shape=(32, 32, 1), classes=5), "do not fit.*3-channel input")],
)
def test_weights_of_another_shape_raise_a_value_error_that_says_what_fits(tmp_path, kwargs, match):
    _reference(tmp_path / "reference.h5")
    with pytest.raises(ValueError, match=match):
        resnet.ResNet50(**kwargs, weights=tmp_path / "reference.h5")


@pytest.mark.slow
def test_weights_of_another_depth_raise_a_value_error_naming_it(tmp_path):
    resnet.ResNet101(**SMALL).save_weights(str(tmp_path / "deep.weights.h5"))
    with pytest.raises(ValueError, match="holds weights for ResNet101"):
        resnet.ResNet50(**SMALL, weights=tmp_path / "deep.weights.h5")


def test_a_missing_file_raises_file_not_found_naming_it():
    with pytest.raises(FileNotFoundError, match="no weights file exists at 'missing.h5'"):
        resnet.ResNet50(weights="missing.h5")


@pytest.mark.parametrize("weights", [3, True, ["imagenet"]])
def test_other_values_raise_a_value_error_listing_what_is_allowed(weights):
    with pytest.raises(ValueError, match="`weights` must be None, 'imagenet' or the path"):
        resnet.ResNet101(weights=weights)


def test_a_file_that_is_not_a_keras_weights_file_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("not weights")
    with pytest.raises(ValueError, match="must be a Keras weights file ending in .h5"):
        resnet.ResNet50(weights=tmp_path / "notes.txt")


def _no_download(*args, **kwargs):
    raise AssertionError("no download should be attempted")


@pytest.mark.parametrize(
    "kwargs", [dict(input_shape=(64, 64, 3), classes=1000), dict(input_shape=(224, 224, 3))]
)
def test_imagenet_weights_for_another_shape_raise_before_any_download(monkeypatch, kwargs):
    monkeypatch.setattr(resnet_weights.keras.utils, "get_file", _no_download)
    with pytest.raises(ValueError, match=r"needs input_shape=\(224, 224, 3\) and classes=1000"):
        resnet.ResNet152(**kwargs, weights="imagenet")


def test_imagenet_offline_raises_a_connection_error_saying_a_download_is_needed(monkeypatch):
    def offline(fname, origin, **kwargs):
        # What keras.utils.get_file raises with no network (measured).
        raise Exception(f"URL fetch failure on {origin}: None -- [Errno -2] Name or service "
                        "not known")

    monkeypatch.setattr(resnet_weights.keras.utils, "get_file", offline)
    with pytest.raises(ConnectionError, match="needs to download.*resnet101_weights_tf_dim"):
        resnet.ResNet101(input_shape=(224, 224, 3), classes=1000, weights="imagenet")


@pytest.mark.slow
def test_imagenet_downloads_the_published_file_and_marks_its_preprocessing(monkeypatch, tmp_path):
    published = tmp_path / "resnet50_weights_tf_dim_ordering_tf_kernels.h5"
    reference = _reference(published, input_shape=(224, 224, 3), classes=1000)
    calls = []

    def fake_get_file(fname, origin, cache_subdir, file_hash):
        calls.append((fname, origin, cache_subdir, file_hash))
        return str(published)

    monkeypatch.setattr(resnet_weights.keras.utils, "get_file", fake_get_file)
    model = resnet.ResNet50(input_shape=(224, 224, 3), classes=1000, weights="imagenet")
    assert calls == [(
        "resnet50_weights_tf_dim_ordering_tf_kernels.h5",
        "https://storage.googleapis.com/tensorflow/keras-applications/resnet/"
        "resnet50_weights_tf_dim_ordering_tf_kernels.h5",
        "models",
        "2cb95161c43110f7111970584f804107",
    )]
    # The model carries ImageNet's preprocessing (its name stays the builder's).
    assert model.name == "resnet50" and preprocessing_name(model) == "imagenet_caffe"
    assert preprocessing_for(model) is imagenet_caffe
    for a, b in zip(model.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    # The published file passed as a path is recognised as ImageNet's too.
    assert preprocessing_name(resnet.ResNet50(input_shape=(224, 224, 3), classes=1000,
                                              weights=published)) == "imagenet_caffe"


def test_imagenet_files_are_keras_applications():
    from keras.src.applications import resnet as keras_resnet

    assert resnet_weights.IMAGENET_URL == keras_resnet.BASE_WEIGHTS_PATH
    for depth, (file_name, file_hash) in resnet_weights.IMAGENET_FILES.items():
        assert file_name == f"resnet{depth}_weights_tf_dim_ordering_tf_kernels.h5"
        assert file_hash == keras_resnet.WEIGHTS_HASHES[f"resnet{depth}"][0]


def test_a_weights_file_saved_after_training_is_read_without_its_optimizer_slots(tmp_path):
    # Keras 3 saves the optimizer's variables beside the layers' (Adam: two arrays of each
    # kernel's shape): they must not count as more convolutions.
    model = resnet.ResNet50(input_shape=(32, 32, 1), classes=5)
    model.compile("adam", "sparse_categorical_crossentropy")
    model.optimizer.build(model.trainable_variables)  # Adam's slots, as after a fit
    model.save_weights(tmp_path / "trained.weights.h5")
    path = tmp_path / "trained.weights.h5"
    assert resnet_weights.file_shape(path) == (50, 1, 5)
    assert resnet_weights.describe_file(path) == "ResNet50, 1-channel input, 5 classes"
