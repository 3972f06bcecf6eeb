"""``resnet.train.finetune``: a pretrained backbone under a new classifier, in two phases.

Offline, on weights the tests make: every weight random, BN moving statistics included
(``checks.randomize_weights``), so that a statistic left unchanged cannot pass for the
fresh 0 and 1. The recipe's runs pass the small stand-in for ResNet50 of
``small_resnet50.py`` as the builder (freezing and unfreezing do not depend on the
depth); keras.applications' ResNet50 checks the loading of real weights files. The
images are the command line tests' patterned shapes (three classes, eight images each)
at 16x16, greyscale, or RGB under weights marked as ImageNet's.
"""

import numpy as np
import pytest
import tensorflow as tf
from conftest import CLASSES, make_shape_classes
from small_resnet50 import LastWeights, small_resnet50
from tensorflow import keras

import resnet
from resnet import weights as weights_module
from resnet.book import checks
from resnet.preprocessing import (
    imagenet_caffe,
    preprocessing_for,
    preprocessing_name,
    resize,
    scale_to_unit,
    set_preprocessing,
)
from resnet.train import data, finetune, saving
from resnet.train.recipe import FINE_TUNING

FAST = FINE_TUNING.replace(batch_size=6, jit_compile=False, seed=1)


def _source(channels, classes):
    model = small_resnet50((32, 32, channels), classes=classes, seed=3)
    checks.randomize_weights(model, seed=1)
    return model


def _backbone(model):
    return {layer.name: layer.get_weights() for layer in model.layers
            if layer.weights and layer.name != finetune.CLASSIFIER}


def _unchanged(before, after_model, names):
    return {name: all(np.array_equal(a, b) for a, b in zip(
        before[name], after_model.get_layer(name).get_weights(), strict=True)) for name in names}


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    root = make_shape_classes(tmp_path_factory.mktemp("shapes"))
    return data.image_folder(root, image_size=16, channels=1, val_fraction=0.25,
                             test_fraction=0)


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """RGB shapes, four a class (three for training), and their folder."""
    root = make_shape_classes(tmp_path_factory.mktemp("photos"), per_class=4, channels=3)
    return root, data.image_folder(root, image_size=16, channels=3, val_fraction=0.25,
                                   test_fraction=0)


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    model = _source(channels=1, classes=5)
    path = tmp_path_factory.mktemp("weights") / "pretrained.keras"
    model.save(path)  # Keras' own save: no preprocessing recorded, so scale_to_unit
    return path, _backbone(model)


@pytest.fixture(scope="module")
def imagenet_source(tmp_path_factory):
    """RGB weights marked as ImageNet's (as ``ResNet50(weights="imagenet")`` marks its
    model), saved with the mark."""
    model = set_preprocessing(_source(channels=3, classes=4), "imagenet_caffe")
    path = tmp_path_factory.mktemp("imagenet") / "pretrained.keras"
    saving.save_model(model, path)
    return path, _backbone(model)


@pytest.fixture(scope="module")
def head_only(photos, imagenet_source):
    """Phase 1 alone (augmented, on the frozen network) from the ImageNet-marked weights."""
    return finetune.fine_tune_resnet50(photos[1], imagenet_source[0],
                                       FAST.replace(head_epochs=1, epochs=0, batch_size=3),
                                       build=small_resnet50)


@pytest.fixture(scope="module")
def top_stage(shapes, source):
    return finetune.fine_tune_resnet50(
        shapes, source[0], FAST.replace(head_epochs=1, epochs=1, unfreeze="conv5",
                                        batch_norm="training"), build=small_resnet50)


# The recipe -------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_new_classifier_has_the_datasets_classes(head_only):
    assert head_only.model.output_shape == (None, len(CLASSES))
    assert head_only.model.get_layer("predictions").kernel.shape == (2048, len(CLASSES))
    assert len(head_only.head_history.history["loss"]) == 1 and head_only.history is None
    assert head_only.imagenet and head_only.model.name == "resnet50"


@pytest.mark.slow
def test_phase_1_leaves_every_backbone_weight_and_bn_statistic_exactly_unchanged(
        head_only, imagenet_source):
    _, before = imagenet_source
    same = _unchanged(before, head_only.model, before)
    changed = [name for name, kept in same.items() if not kept]
    # Equality, not closeness: a frozen layer is not updated at all, and a BN layer of a
    # frozen backbone runs in inference mode, so its moving mean and variance stay as
    # loaded. Any difference means the backbone trained or its BN re-estimated them.
    assert not changed, f"phase 1 changed {len(changed)} backbone layers: {changed[:5]}"
    assert all(layer.trainable for layer in head_only.model.layers)  # saved whole


@pytest.mark.slow
def test_phase_2_trains_the_unfrozen_stage_bn_statistics_included_and_nothing_below(
        top_stage, source):
    _, before = source
    same = _unchanged(before, top_stage.model, before)
    above = [n for n in before if n.startswith("conv5_")]
    below = [n for n in before if not n.startswith("conv5_")]
    assert all(same[n] for n in below), [n for n in below if not same[n]][:5]
    assert not any(same[n] for n in above), [n for n in above if same[n]][:5]
    # Each of conv5's BN layers moved all four of its arrays: gamma, beta, mean, variance.
    for name in (n for n in above if n.endswith("_bn")):
        new = top_stage.model.get_layer(name).get_weights()
        assert all(not np.array_equal(a, b) for a, b in zip(before[name], new, strict=True)), \
            name
    assert not top_stage.imagenet and preprocessing_name(top_stage.model) == "scale_to_unit"


@pytest.fixture(scope="module")
def on_features(shapes, source):
    return finetune.fine_tune_resnet50(
        shapes, source[0], FAST.replace(head="features", head_epochs=3, epochs=1,
                                        batch_norm="inference"), build=small_resnet50)


@pytest.mark.slow
def test_a_head_on_features_trains_the_classifier_alone_from_the_models_own_start(
        on_features, shapes, source):
    _, before = source
    assert len(on_features.head_history.history["loss"]) == 3
    fresh = finetune.pretrained_model(source[0], shapes.input_shape, len(CLASSES),
                                      seed=FAST.seed, build=small_resnet50)
    # Its start is the classifier fine_tune_resnet50 builds; training moved it.
    kernel = on_features.model.get_layer(finetune.CLASSIFIER).get_weights()[0]
    assert not np.array_equal(kernel, fresh.get_layer(finetune.CLASSIFIER).get_weights()[0])
    assert _unchanged(before, fresh, before) == {name: True for name in before}


@pytest.mark.slow
def test_phase_2_with_bn_in_inference_mode_moves_the_convolutions_and_no_bn_array(
        on_features, source):
    _, before = source
    same = _unchanged(before, on_features.model, before)
    bn = [n for n in before if n.endswith("_bn")]
    conv = [n for n in before if n.endswith("_conv")]
    # Equality: a frozen BN layer is not updated at all (statistics, scale and offset).
    assert all(same[n] for n in bn), [n for n in bn if not same[n]][:5]
    assert not any(same[n] for n in conv), [n for n in conv if same[n]][:5]


@pytest.mark.slow
def test_without_validation_images_each_phase_trains_its_epochs_and_keeps_the_last(
        shapes, source):
    no_val = data.subset(shapes, shapes.class_names, val_per_class=0)
    last = LastWeights()
    run = finetune.fine_tune_resnet50(
        no_val, source[0], FAST.replace(head="features", head_epochs=2, epochs=2,
                                        batch_norm="inference"),
        build=small_resnet50, callbacks=[last])
    for history in (run.head_history, run.history):
        assert len(history.history["loss"]) == 2 and "val_loss" not in history.history
    assert all(np.array_equal(a, b) for a, b in zip(
        run.model.get_weights(), last.weights, strict=True))


def _loss(model, batches):
    """The mean cross-entropy of ``model`` (inference mode) over ``batches``."""
    losses = [keras.losses.sparse_categorical_crossentropy(y, model(x, training=False))
              for x, y in batches]
    return float(np.mean(np.concatenate(losses)))


@pytest.mark.slow
def test_imagenet_weights_travel_with_the_model_as_its_preprocessing(
        head_only, photos, tmp_path):
    root, dataset = photos
    model = head_only.model
    assert preprocessing_name(model) == "imagenet_caffe"
    # What phase 1 validated on (and trained on: the same call makes both pipelines) was
    # ImageNet's preprocessing: the kept epoch's validation loss is the model's loss on the
    # validation images so preprocessed (float32 sums in another order: ~1e-7), not on [0, 1].
    history = head_only.head_history.history
    recipe = FAST.replace(batch_size=3, augmentation=None)
    for preprocessing, same in ((imagenet_caffe, True), (scale_to_unit, False)):
        _, val = finetune.batches(dataset, recipe, preprocessing=preprocessing)
        assert (_loss(model, val) == pytest.approx(history["val_loss"][0], rel=1e-4)) == same
    path = saving.save_model(model, tmp_path / "tuned.keras", class_names=dataset.class_names)
    loaded = saving.load_model(path)
    assert preprocessing_for(loaded) is imagenet_caffe
    assert preprocessing_for(keras.models.load_model(path)) is scale_to_unit  # Keras' loader
    assert saving.saved_class_names(path) == CLASSES
    predictions = resnet.evaluate(loaded, [root / "square" / "0.png"])
    assert predictions[0].label == predictions[0].index  # no names given: indices
    files = [root / name / "0.png" for name in CLASSES]
    pixels = np.stack([resnet.load_image(f) for f in files])
    pixels = np.asarray(resize(pixels, 16))  # as evaluate resizes
    got = np.stack([p.probabilities for p in resnet.evaluate(loaded, files)])
    # The same call on the same batch in one process: equal, not close.
    np.testing.assert_array_equal(got, np.asarray(loaded(imagenet_caffe(pixels), training=False)))


@pytest.mark.slow
def test_a_model_fine_tuned_from_an_imagenet_marked_model_keeps_the_mark(head_only, photos,
                                                                          tmp_path):
    path = saving.save_model(head_only.model, tmp_path / "first.keras")
    pretrained = finetune.pretrained_weights(path, channels=3, build=small_resnet50)
    assert pretrained.imagenet and pretrained.source == str(path.resolve())
    again = finetune.pretrained_model(pretrained, photos[1].input_shape, 2, seed=0,
                                      build=small_resnet50)
    assert preprocessing_name(again) == "imagenet_caffe"
    # The name no longer matters: a model named as before but saved unmarked is [0, 1]'s.
    unmarked = tmp_path / "resnet50_imagenet.keras"
    keras.Model(head_only.model.input, head_only.model.output,
                name="resnet50_imagenet").save(unmarked)
    assert not finetune.pretrained_weights(unmarked, build=small_resnet50).imagenet


# The parts ----------------------------------------------------------------------------------


def test_the_pipelines_apply_the_preprocessing_the_weights_expect(tmp_path):
    root = make_shape_classes(tmp_path / "photos", per_class=4, channels=3)
    photos = data.image_folder(root, image_size=32, channels=3, val_fraction=0.25,
                               test_fraction=0)
    recipe = FINE_TUNING.replace(batch_size=3, augmentation=None)
    for preprocessing in (imagenet_caffe, scale_to_unit):
        train, val = finetune.batches(photos, recipe, preprocessing=preprocessing)
        images, _ = next(iter(val))
        # The images are 32x32 already, so resizing leaves them be: equal, not close.
        np.testing.assert_array_equal(images, preprocessing(photos.arrays["val"].images[:3]))
        assert next(iter(train))[0].shape == (3, 32, 32, 3)


def test_set_trainable_freezes_below_the_stage_and_always_trains_the_classifier():
    model = resnet.ResNet50((32, 32, 1), classes=2)
    finetune.set_trainable(model, "conv4")
    trainable = {layer.name for layer in model.layers if layer.trainable}
    assert "predictions" in trainable and "conv4_block1_1_conv" in trainable
    assert "conv5_block3_3_bn" in trainable and "conv3_block4_3_bn" not in trainable
    assert "conv1_conv" not in trainable
    finetune.set_trainable(model, None)
    assert [layer.name for layer in model.layers if layer.trainable] == ["predictions"]
    finetune.set_trainable(model, "all")
    assert all(layer.trainable for layer in model.layers)


def _stream(images):
    return tf.data.Dataset.from_tensor_slices((images, np.zeros(len(images), np.int32))).batch(8)


def test_photo_augmentation_repeats_from_its_seed_and_mirrors_about_half():
    # Dark on the left, bright on the right: a mirrored crop is bright on the left.
    halves = np.zeros((64, 32, 32, 3), np.float32)
    halves[:, :, 16:] = 1.0
    first = np.concatenate([x for x, _ in data.augment_photos(_stream(halves), seed=5)])
    again = np.concatenate([x for x, _ in data.augment_photos(_stream(halves), seed=5)])
    np.testing.assert_array_equal(first, again)
    mirrored = (first[:, :, :8].mean(axis=(1, 2, 3)) > first[:, :, -8:].mean(axis=(1, 2, 3)))
    assert 16 <= mirrored.sum() <= 48, mirrored.sum()  # binomial(64, 1/2): 32 +- 8 is 2.8 sd
    unmirrored = np.concatenate([x for x, _ in data.augment_photos(_stream(halves), flip=False)])
    assert not (unmirrored[:, :, :8].mean(axis=(1, 2, 3)) > 0.5).any()
    # A crop of a constant image is that constant: nothing is filled in from outside it.
    flat = np.full((8, 32, 32, 3), 0.25, np.float32)
    out = next(iter(data.augment_photos(_stream(flat))))[0]
    np.testing.assert_allclose(out, 0.25, rtol=0, atol=1e-6)  # float32 bilinear weights sum
    # A resumed run skips the batches it has seen and gets the crops it would have got.
    endless = data.augment_photos(_stream(halves).repeat(), seed=5)
    read = [x for x, _ in endless.take(10)]
    np.testing.assert_array_equal(read[:8], first.reshape(8, 8, 32, 32, 3))  # epoch 1
    np.testing.assert_array_equal(next(iter(endless.skip(9)))[0], read[9])  # epoch 2
    assert not np.array_equal(read[8], read[0])  # epoch 2 is cropped anew


def test_photo_augmentation_refuses_a_min_area_outside_0_1():
    with pytest.raises(ValueError, match="`min_area` must be a number in"):
        data.augment_photos(_stream(np.zeros((2, 32, 32, 3), np.float32)), min_area=0)


@pytest.mark.slow
def test_keras_applications_weights_and_models_give_their_backbone(tmp_path):
    theirs = keras.applications.ResNet50(weights=None, input_shape=(32, 32, 3), classes=4)
    checks.randomize_weights(theirs, seed=2)
    theirs.save_weights(tmp_path / "theirs.weights.h5")
    theirs.save(tmp_path / "theirs.keras")
    expected = _backbone(theirs)
    for path in (tmp_path / "theirs.weights.h5", tmp_path / "theirs.keras"):
        backbone, imagenet, channels, origin = finetune.pretrained_weights(path, channels=3)
        assert sorted(backbone) == sorted(expected) and not imagenet and channels == 3
        assert origin == str(path.resolve())
        for name, values in expected.items():  # loaded, not computed: equal
            for a, b in zip(backbone[name], values, strict=True):
                np.testing.assert_array_equal(a, b, err_msg=f"{path.name}: {name}")


# Clear errors -------------------------------------------------------------------------------


def test_weights_for_other_channels_are_refused_naming_both(source):
    with pytest.raises(ValueError, match="trained on 1-channel images.*have 3.*channels=1"):
        finetune.pretrained_weights(source[0], channels=3)


def test_a_keras_model_that_is_not_a_resnet50_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "small.keras"
    keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Conv2D(4, 3, name="conv1_conv"),
                      keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(2)]).save(path)
    with pytest.raises(ValueError, match=r"small\.keras.*not a ResNet50.*conv1_conv"):
        finetune.pretrained_weights(path)


def test_a_missing_file_and_a_wrong_type_are_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="gone.keras"):
        finetune.pretrained_weights(tmp_path / "gone.keras")
    with pytest.raises(FileNotFoundError, match="gone.weights.h5"):
        finetune.pretrained_weights(tmp_path / "gone.weights.h5")
    with pytest.raises(ValueError, match="`weights` must be 'imagenet'"):
        finetune.pretrained_weights(3)


def test_a_batch_larger_than_the_training_images_is_refused_before_any_work(shapes):
    # Refused before "imagenet" would be downloaded (18 training images, batches of 32).
    with pytest.raises(ValueError, match="`batch_size` \\(32\\) must not exceed"):
        finetune.fine_tune_resnet50(shapes, "imagenet", FINE_TUNING.replace(batch_size=32))


def test_imagenet_offline_says_what_it_tried_to_download_and_the_alternative(monkeypatch):
    def offline(*args, **kwargs):
        raise Exception("URL fetch failure: [Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(weights_module.keras.utils, "get_file", offline)
    with pytest.raises(ConnectionError, match=weights_module.IMAGENET_FILES[50][0]) as error:
        finetune.pretrained_weights("imagenet", channels=3)
    assert "pass its path as `weights`" in str(error.value)
