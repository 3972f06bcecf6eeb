"""resnet.train.training and saving: the recipe's mechanisms, zero-init residuals, saving.

One module-scoped run of the recipe (a tenth of the digits at its 16x16, two epochs, XLA
off so that nothing is measured, backed up to a folder) on the small stand-in for
ResNet50 of ``small_resnet50.py`` (passed as the builder) feeds the tests that need a
trained model. The recipe's accuracy is the training chapter's to show, with the real
network.
"""


import numpy as np
import pytest
import tensorflow as tf
from small_resnet50 import LastWeights, small_resnet50
from tensorflow import keras

import resnet
from resnet.preprocessing import imagenet_caffe, scale_to_unit, set_preprocessing
from resnet.train import backup, data, saving, speed, training
from resnet.train.recipe import RECIPE

EPOCHS = 2
FAST = RECIPE.replace(epochs=EPOCHS, jit_compile=False)  # 3 steps an epoch on `few`


@pytest.fixture(scope="module")
def digits():
    return data.digits(image_size=RECIPE.image_size, batch_size=32, seed=0)


@pytest.fixture(scope="module")
def few(digits):
    """12 training and 5 validation images of each digit (all 360 test images)."""
    return data.subset(digits, digits.class_names, per_class=12, val_per_class=5)


class _BackedUp(keras.callbacks.Callback):
    """Records, at the end of every epoch, the epochs the backup folder holds."""

    def __init__(self, folder):
        super().__init__()
        self.folder, self.seen = folder, []

    def on_epoch_end(self, epoch, logs=None):
        self.seen.append(backup.finished_epochs(self.folder))


@pytest.fixture(scope="module")
def backed_up(tmp_path_factory):
    folder = tmp_path_factory.mktemp("run") / "backup"
    return folder, _BackedUp(folder)


@pytest.fixture(scope="module")
def trained(few, backed_up):
    folder, watch = backed_up
    return training.train_resnet50(few, FAST, build=small_resnet50, backup_dir=folder,
                                   callbacks=[watch])


@pytest.mark.slow
def test_the_recipe_trains_and_keeps_its_best_epoch(trained, few):
    history = trained.history.history
    assert len(history["loss"]) == EPOCHS
    # The model returned is the epoch of lowest validation loss: evaluated again on the
    # validation split, it gives that loss (the same batches and weights, so only the order
    # of float32 sums differs, ~1e-7; another epoch's loss differs by percents). (Six steps
    # on 120 images show no learning; the training chapter shows the recipe's accuracy.)
    val_loss = trained.model.evaluate(few.val, verbose=0)[0]
    assert val_loss == pytest.approx(min(history["val_loss"]), rel=1e-4), history
    # It trained: every weighted layer moved from the recipe's start (the same builder,
    # seed, BN momentum and zeroed residual gammas).
    start = small_resnet50(input_shape=few.input_shape, classes=10, seed=FAST.seed,
                           bn_momentum=FAST.bn_momentum, zero_init_residual=True)
    unmoved = [layer.name for layer in start.layers if layer.weights and all(
        np.array_equal(a, b) for a, b in zip(
            layer.get_weights(), trained.model.get_layer(layer.name).get_weights(),
            strict=True))]
    assert not unmoved, unmoved
    assert (trained.speed.mixed_precision, trained.speed.jit_compile) == ("float32", False)
    assert str(trained.speed).startswith("float32, XLA off: ") and trained.seconds > 0
    assert trained.model.dtype_policy.name == "float32" and not trained.model.jit_compile


@pytest.mark.slow
def test_a_recipe_given_a_folder_backs_up_every_epoch_and_removes_it_at_the_end(
        trained, backed_up):
    folder, watch = backed_up
    assert watch.seen == list(range(1, EPOCHS + 1))  # saved before later callbacks ran
    assert not folder.exists()


@pytest.mark.slow
def test_without_validation_images_the_recipe_trains_its_budget_and_keeps_the_last_epoch(
        few, tmp_path):
    no_val = data.subset(few, few.class_names, val_per_class=0)
    last = LastWeights()
    run = training.train_resnet50(no_val, FAST, build=small_resnet50, callbacks=[last],
                                  backup_dir=tmp_path / "backup")
    assert len(run.history.history["loss"]) == EPOCHS
    assert "val_loss" not in run.history.history
    # Bit for bit the last epoch's weights (no best epoch restored).
    assert all(np.array_equal(a, b) for a, b in zip(
        run.model.get_weights(), last.weights, strict=True))


def test_the_recipe_uses_full_augmented_batches(digits):
    batches = training.training_batches(digits, RECIPE)
    assert batches.cardinality().numpy() == 1077 // 32  # the remainder of 21 sits out
    images, labels = next(iter(batches))
    assert images.shape == (32, 16, 16, 1) and labels.shape == (32,)
    plain = training.training_batches(digits, RECIPE.replace(shift=0, rotation=0))
    same_order, _ = next(iter(plain))
    # Same seed, same shuffled order: only the augmentation differs.
    assert not np.allclose(images.numpy(), same_order.numpy())


def test_warmup_cosine_rises_to_its_peak_then_decays_to_zero():
    schedule = training.warmup_cosine(epochs=4, steps_per_epoch=10, peak=3e-3)
    rates = np.array([float(schedule(step)) for step in range(41)])
    assert rates[0] == 0 and np.isclose(rates[10], 3e-3)
    assert np.all(np.diff(rates[:11]) > 0) and np.all(np.diff(rates[10:]) <= 0)
    assert rates[40] < 1e-9


@pytest.mark.slow
def test_evaluate_agrees_with_the_training_pipeline(trained, few):
    model = trained.model
    test = few.arrays["test"]
    expected = model.predict(few.test, verbose=0)
    predictions = resnet.evaluate(model, test.images[:40], class_names=few.class_names)
    # Same preprocessing, different batch composition: only float32 rounding through the
    # stand-in's 14 weighted layers (~1e-5 of a probability) separates the two; a
    # preprocessing mismatch moves probabilities by 1e-2 or more.
    np.testing.assert_allclose(np.stack([p.probabilities for p in predictions]), expected[:40],
                               atol=1e-3)
    assert [p.label for p in predictions] == [few.class_names[i]
                                              for i in expected[:40].argmax(axis=-1)]
    # accuracy() is the share of those predictions that are right.
    right = np.mean(expected.argmax(axis=-1) == test.labels)
    assert training.accuracy(model, few) == pytest.approx(right, abs=1 / len(test.labels))


@pytest.mark.slow
def test_save_model_drops_the_optimizer_and_reloads_identically(trained, few, tmp_path):
    model = trained.model
    path = saving.save_model(model, tmp_path / "digits.keras", class_names=few.class_names)
    assert [p.name for p in tmp_path.iterdir()] == ["digits.keras"]  # no partial file left
    with_optimizer = tmp_path / "with_optimizer.keras"
    model.save(with_optimizer)
    # Adam keeps two moments per weight: without them the file is about a third.
    assert path.stat().st_size < 0.5 * with_optimizer.stat().st_size
    for reloaded in (keras.models.load_model(path), saving.load_model(path)):  # safe mode
        assert getattr(reloaded, "optimizer", None) is None  # saved uncompiled
        images, _ = next(iter(few.test))
        np.testing.assert_array_equal(reloaded.predict(images, verbose=0),
                                      model.predict(images, verbose=0))
        assert reloaded.name == model.name
    assert saving.saved_class_names(path) == few.class_names
    assert resnet.preprocessing_name(saving.load_model(path)) == "scale_to_unit"


@pytest.mark.slow
def test_save_model_refuses_other_suffixes(trained, tmp_path):
    with pytest.raises(ValueError, match="`path` must end in '.keras'"):
        saving.save_model(trained.model, tmp_path / "digits.h5")


# The preprocessing a model carries ---------------------------------------------------------


def _levels():
    """8x8 RGB images, three of value 0 (label 0) and five of value 100 (label 1)."""
    images = np.concatenate([np.zeros((3, 8, 8, 3)), np.full((5, 8, 8, 3), 100)])
    labels = np.array([0, 0, 0, 1, 1, 1, 1, 1], np.int32)
    split = data.Split(images.astype(np.uint8), labels)
    return data.Dataset(None, None, None, ("dark", "grey"), (8, 8, 3), {"test": split})


def _brightness_model():
    """Class 1 where the sum of the three channel means m exceeds 0.1: the logits are
    (1 - 10 m, 10 m). Pixels of 100 are grey (m = 1.18) in [0, 1] and dark in ImageNet's
    preprocessing (minus the mean pixel: m = -44); zeros are dark in both."""
    inputs = keras.Input((8, 8, 3))
    pooled = keras.layers.GlobalAveragePooling2D()(inputs)
    dense = keras.layers.Dense(2, activation="softmax")
    model = keras.Model(inputs, dense(pooled))
    dense.set_weights([np.tile([[-10.0, 10.0]], (3, 1)), np.array([1.0, 0.0])])
    return model


def test_accuracy_uses_the_models_preprocessing_or_the_one_given(tmp_path):
    levels, model = _levels(), _brightness_model()
    assert training.accuracy(model, levels) == 1.0  # scale_to_unit: all right
    # Zeros for every image: all dark, so right on the three dark ones only.
    assert training.accuracy(model, levels, preprocessing=tf.zeros_like) == 3 / 8
    set_preprocessing(model, "imagenet_caffe")
    assert training.accuracy(model, levels) == 3 / 8  # the grey ones turn dark
    assert training.accuracy(model, levels, preprocessing=imagenet_caffe) == 3 / 8
    assert training.accuracy(model, levels, preprocessing=scale_to_unit) == 1.0  # given wins
    path = saving.save_model(model, tmp_path / "levels.keras")
    assert training.accuracy(saving.load_model(path), levels) == 3 / 8  # travels with it
    # Keras' own loader does not read the entry: the model falls back to [0, 1] pixels.
    assert training.accuracy(keras.models.load_model(path), levels) == 1.0
    with pytest.raises(ValueError, match="`preprocessing` must be a function"):
        training.accuracy(model, levels, preprocessing="imagenet_caffe")
    with pytest.raises(ValueError, match="`split` must be one of \\['test'\\]"):
        training.accuracy(model, levels, "val")


def _tiny_classifier():
    return keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Flatten(),
                             keras.layers.Dense(2, activation="softmax", dtype="float32")])


def test_train_and_the_recipes_do_not_try_bfloat16(monkeypatch):
    """On a CPU that computes in bfloat16, where it measured 10x as fast (a fake measure,
    so nothing is timed), ``choose_speed`` picks it when asked to try it; ``train``
    without a ``speed_choice`` and ``recipe_speed`` must not ask."""
    choose, asked = speed.choose_speed, []
    bfloat16_cpu = speed.cpu_info()._replace(flags=frozenset({"avx2", "avx512_bf16"}))

    def on_a_bfloat16_cpu(build_model, batch_shape, **kwargs):
        asked.append(kwargs)
        return choose(build_model, batch_shape, cpu=bfloat16_cpu, gpu=None,
                      measure=lambda policy, jit: 100.0 if policy == "mixed_bfloat16" else 10.0,
                      **kwargs)

    monkeypatch.setattr(speed, "choose_speed", on_a_bfloat16_cpu)
    # The fake makes bfloat16 win where it is tried: so the test can fail.
    assert on_a_bfloat16_cpu(_tiny_classifier, (4, 8, 8, 3)).mixed_precision == "mixed_bfloat16"
    images = np.zeros((4, 8, 8, 3), np.float32)
    batches = tf.data.Dataset.from_tensor_slices((images, np.zeros(4, np.int32))).batch(4)
    model, _ = training.train(_tiny_classifier, batches, verbose=0)
    assert asked[-1]["try_bfloat16"] is False
    assert model.dtype_policy.name == "float32"
    levels = _levels()
    choice = training.recipe_speed(RECIPE, levels, build=lambda **kwargs: _tiny_classifier())
    assert asked[-1]["try_bfloat16"] is False and choice.mixed_precision == "float32"


def test_zero_init_residual_zeroes_exactly_the_last_gamma_of_each_block():
    model = resnet.ResNet50((32, 32, 1), classes=10, zero_init_residual=True)
    reference = resnet.ResNet50((32, 32, 1), classes=10)
    zeroed = sorted(layer.name for layer in model.layers if hasattr(layer, "gamma")
                    and not np.any(layer.gamma.numpy()))
    blocks = [f"conv{stage}_block{b}" for stage, n in zip(range(2, 6), (3, 4, 6, 3),
                                                          strict=True)
              for b in range(1, n + 1)]
    assert zeroed == sorted(f"{block}_3_bn" for block in blocks)  # 16 blocks, 16 gammas
    for layer, twin in zip(model.layers, reference.layers, strict=True):
        for weight, twin_weight in zip(layer.weights, twin.weights, strict=True):
            if not (layer.name in zeroed and "gamma" in weight.path):
                np.testing.assert_array_equal(weight.numpy(), twin_weight.numpy())
    # Every block's main path now outputs zeros, so an identity block is the identity
    # on its (non-negative) input.
    block = keras.Model(model.input, [model.get_layer("conv2_block1_out").output,
                                      model.get_layer("conv2_block2_out").output])
    before, after = block(np.random.default_rng(0).uniform(size=(2, 32, 32, 1)))
    np.testing.assert_array_equal(before.numpy(), after.numpy())


def test_zero_init_residual_refuses_bad_values():
    with pytest.raises(ValueError, match="`zero_init_residual` must be True or False"):
        resnet.ResNet50((32, 32, 1), zero_init_residual=1)
    with pytest.raises(ValueError, match="`zero_init_residual` is for training from scratch"):
        resnet.ResNet50((224, 224, 3), 1000, zero_init_residual=True, weights="imagenet")


def test_cifar10_switch_stays_on_the_digits_offline(monkeypatch, capsys):
    def offline():
        raise Exception("URL fetch failure on https://example.invalid: None -- no network")

    monkeypatch.setattr(keras.datasets.cifar10, "load_data", offline)
    dataset, name = data.load("cifar10")
    assert name == "digits" and dataset.class_names == tuple("0123456789")
    assert "CIFAR-10 could not be downloaded (URL fetch failure" in capsys.readouterr().out


def test_cifar10_switch_with_arrays_of_cifar10s_shape(monkeypatch):
    rng = np.random.default_rng(0)

    def fake():  # CIFAR-10's layout: uint8 (N, 32, 32, 3) images and (N, 1) labels
        def part(n):
            return (rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8),
                    np.repeat(np.arange(10, dtype=np.uint8), n // 10)[:, None])
        return part(200), part(50)

    monkeypatch.setattr(keras.datasets.cifar10, "load_data", fake)
    dataset, name = data.load("cifar10", batch_size=16)
    assert name == "cifar10" and dataset.input_shape == (32, 32, 3)
    assert dataset.class_names[0] == "airplane" and len(dataset.class_names) == 10
    sizes = {split: len(arrays.labels) for split, arrays in dataset.arrays.items()}
    assert sizes == {"train": 180, "val": 20, "test": 50}  # the official test split kept
    images, labels = next(iter(training.training_batches(
        dataset, RECIPE.replace(image_size=32, batch_size=16))))
    assert images.shape == (16, 32, 32, 3) and float(tf.reduce_max(images)) <= 1.0


def test_load_refuses_unknown_names():
    with pytest.raises(ValueError, match="`name` must be one of"):
        data.load("mnist")
