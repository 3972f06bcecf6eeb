"""resnet.train.training and saving: the recipe's mechanisms, zero-init residuals, saving.

One module-scoped run of the recipe (digits at 32x32, two epochs, XLA off so that
nothing is measured, ResNet50 swapped for the small stand-in of ``small_resnet50.py``)
feeds the tests that need a trained model. The recipe's accuracy is the training
chapter's to show, with the real network.
"""


import numpy as np
import pytest
import tensorflow as tf
from small_resnet50 import use_small_resnet50
from tensorflow import keras

import resnet
from resnet.train import data, saving, training

EPOCHS = 2


@pytest.fixture(scope="module")
def digits():
    return data.digits(image_size=32, batch_size=32, seed=0)


@pytest.fixture(scope="module")
def trained(digits):
    with use_small_resnet50():
        return training.train_resnet50(digits, epochs=EPOCHS, jit_compile=False, seed=0)


@pytest.mark.slow
def test_the_recipe_learns_and_keeps_its_best_epoch(trained, digits):
    history = trained.history.history
    assert history["loss"][-1] < history["loss"][0], history
    # The model returned is the epoch of lowest validation loss: evaluated again on the
    # validation split, it gives that loss (the same batches and weights, so only the order
    # of float32 sums differs, ~1e-7; another epoch's loss differs by percents).
    val_loss = trained.model.evaluate(digits.val, verbose=0)[0]
    assert val_loss == pytest.approx(min(history["val_loss"]), rel=1e-4), history
    assert (trained.speed.mixed_precision, trained.speed.jit_compile) == ("float32", False)
    assert str(trained.speed).startswith("float32, XLA off: ") and trained.seconds > 0


def test_the_recipe_uses_full_augmented_batches(digits):
    batches = training.training_batches(digits, 32, seed=0)
    assert batches.cardinality().numpy() == 1077 // 32  # the remainder of 21 sits out
    images, labels = next(iter(batches))
    assert images.shape == (32, 32, 32, 1) and labels.shape == (32,)
    plain = training.training_batches(digits, 32, seed=0, shift=0, rotation=0)
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
def test_evaluate_agrees_with_the_training_pipeline(trained, digits):
    model = trained.model
    test = digits.arrays["test"]
    expected = model.predict(digits.test, verbose=0)
    predictions = resnet.evaluate(model, test.images[:40], class_names=digits.class_names)
    # Same preprocessing, different batch composition: only float32 rounding through 50
    # layers (~1e-5 of a probability) separates the two; a preprocessing mismatch moves
    # probabilities by 1e-2 or more.
    np.testing.assert_allclose(np.stack([p.probabilities for p in predictions]), expected[:40],
                               atol=1e-3)
    assert [p.label for p in predictions] == [digits.class_names[i]
                                              for i in expected[:40].argmax(axis=-1)]


@pytest.mark.slow
def test_save_model_drops_the_optimizer_and_reloads_identically(trained, digits, tmp_path):
    model = trained.model
    path = saving.save_model(model, tmp_path / "digits.keras")
    assert [p.name for p in tmp_path.iterdir()] == ["digits.keras"]  # no partial file left
    with_optimizer = tmp_path / "with_optimizer.keras"
    model.save(with_optimizer)
    # Adam keeps two moments per weight: without them the file is about a third.
    assert path.stat().st_size < 0.5 * with_optimizer.stat().st_size
    reloaded = keras.models.load_model(path)  # safe mode (the default) suffices
    assert getattr(reloaded, "optimizer", None) is None  # saved uncompiled
    images, _ = next(iter(digits.test))
    np.testing.assert_array_equal(reloaded.predict(images, verbose=0),
                                  model.predict(images, verbose=0))
    assert reloaded.name == model.name


@pytest.mark.slow
def test_save_model_refuses_other_suffixes(trained, tmp_path):
    with pytest.raises(ValueError, match="`path` must end in '.keras'"):
        saving.save_model(trained.model, tmp_path / "digits.h5")


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
    images, labels = next(iter(training.training_batches(dataset, 16)))
    assert images.shape == (16, 32, 32, 3) and float(tf.reduce_max(images)) <= 1.0


def test_load_refuses_unknown_names():
    with pytest.raises(ValueError, match="`name` must be one of"):
        data.load("mnist")
