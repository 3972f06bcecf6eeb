"""A short training run on real data: ResNet50 must beat chance by a wide margin.

One module-scoped run (digits at 32x32, BN momentum 0.9, two epochs) feeds every
test here, so the module costs one short training, about a minute on 2 cores.
"""

import warnings

import numpy as np
import pytest
from tensorflow import keras

import resnet
from resnet import data

EPOCHS = 2


@pytest.fixture(scope="module")
def trained():
    digits = data.digits(image_size=32, batch_size=32, seed=0)
    keras.utils.set_random_seed(0)
    model = resnet.ResNet50(input_shape=digits.input_shape, classes=10, bn_momentum=0.9)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras' note that fit's shuffle=True is ignored
        history = model.fit(digits.train, validation_data=digits.val, epochs=EPOCHS, verbose=0)
    return digits, model, history


def test_a_short_run_beats_chance_by_a_wide_margin(trained):
    digits, model, history = trained
    _, test_accuracy = model.evaluate(digits.test, verbose=0)
    # Chance is 10%; two epochs with BN momentum 0.9 reach well above 50%.
    assert test_accuracy > 0.5, history.history
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_evaluate_agrees_with_the_training_pipeline(trained):
    digits, model, _ = trained
    test = digits.arrays["test"]
    expected = model.predict(digits.test, verbose=0)
    predictions = resnet.evaluate(model, test.images[:40], class_names=digits.class_names)
    np.testing.assert_allclose(np.stack([p.probabilities for p in predictions]), expected[:40],
                               atol=1e-4)
    assert [p.label for p in predictions] == [digits.class_names[i]
                                              for i in expected[:40].argmax(axis=-1)]


def test_save_and_reload_give_identical_predictions(trained, tmp_path):
    digits, model, _ = trained
    path = tmp_path / "digits.keras"
    model.save(path)
    reloaded = keras.models.load_model(path)  # safe mode (the default) suffices
    images, _ = next(iter(digits.test))
    np.testing.assert_array_equal(reloaded.predict(images, verbose=0),
                                  model.predict(images, verbose=0))
    assert reloaded.name == model.name
