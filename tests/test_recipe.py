"""``resnet.train.recipe``: the recipes as data, each field checked and named when wrong.

No test here trains: a recipe is checked when it is made, and the recipes check their
dataset before any model is built (the builder given fails if it is called).
"""

import json

import numpy as np
import pytest

from resnet.train import data, finetune, training
from resnet.train.recipe import FINE_TUNING, RECIPE, FineTuning, Recipe


def _never_built(**kwargs):
    raise AssertionError("a model was built: the recipe did not refuse before training")


def _dataset(n_train=70, size=(16, 16), channels=1, classes=2):
    """A ``data.Dataset`` of ``n_train`` blank training images (no pipelines needed)."""
    images = np.zeros((n_train, *size, channels), np.uint8)
    labels = np.arange(n_train, dtype=np.int32) % classes
    split = data.Split(images, labels)
    return data.Dataset(None, None, None, tuple(str(c) for c in range(classes)),
                        (*size, channels), {"train": split, "val": split})


@pytest.mark.parametrize("field, value", [
    ("image_size", 0), ("image_size", (16,)), ("epochs", 0), ("batch_size", 0),
    ("batch_size", 2.0), ("peak_learning_rate", -1e-3), ("warmup_epochs", -1),
    ("bn_momentum", 1.0), ("bn_momentum", -0.1), ("zero_init_residual", 1),
    ("shift", -0.1), ("rotation", "10"), ("seed", -1), ("mixed_precision", "float64"),
    ("jit_compile", "yes"), ("jit_compile", 1),
])
def test_a_bad_recipe_field_is_named(field, value):
    with pytest.raises(ValueError, match=f"`{field}`"):
        Recipe(**{field: value})
    with pytest.raises(ValueError, match=f"`{field}`"):  # replace checks it too
        RECIPE.replace(**{field: value})


@pytest.mark.parametrize("field, value", [
    ("image_size", -16), ("head_epochs", -1), ("epochs", -1), ("batch_size", 0),
    ("head_learning_rate", -1.0), ("learning_rate", "1e-4"), ("unfreeze", "conv6"),
    ("batch_norm", "frozen"), ("head", "cached"), ("augmentation", "mirror"),
    ("bn_momentum", 1.5), ("seed", 0.5), ("mixed_precision", "half"),
])
def test_a_bad_fine_tuning_field_is_named(field, value):
    with pytest.raises(ValueError, match=f"`{field}`"):
        FineTuning(**{field: value})


def test_fine_tuning_with_no_epochs_at_all_is_refused():
    with pytest.raises(ValueError, match="`head_epochs` and `epochs` must not both be 0"):
        FINE_TUNING.replace(head_epochs=0, epochs=0)
    assert FINE_TUNING.replace(epochs=0).phases()[1].epochs == 0  # the classifier alone


def test_replace_names_an_unknown_field_and_lists_the_settings():
    with pytest.raises(ValueError, match="Recipe has no setting 'epoch'; its settings: "
                                         ".*epochs.*") as error:
        RECIPE.replace(epoch=3, seed=1)
    assert "'seed'" not in str(error.value).split(";")[0]  # only the unknown one is named
    with pytest.raises(ValueError, match="FineTuning has no setting 'peak_learning_rate'"):
        FINE_TUNING.replace(peak_learning_rate=1e-3)  # a Recipe's field, not FineTuning's


def test_replace_makes_a_new_recipe_and_leaves_the_book_s_as_it_is():
    faster = RECIPE.replace(epochs=2, jit_compile=False)
    assert (faster.epochs, faster.jit_compile, faster.batch_size) == (2, False, 32)
    assert (RECIPE.epochs, RECIPE.jit_compile) == (12, "auto")
    assert faster == Recipe(epochs=2, jit_compile=False) and faster != RECIPE
    with pytest.raises(AttributeError):  # frozen: a changed setting is a new recipe
        RECIPE.epochs = 2


def test_settings_are_every_field_as_json():
    settings = RECIPE.replace(image_size=(16, 24)).settings()
    assert set(settings) == {f for f in Recipe.__dataclass_fields__}
    assert settings["image_size"] == [16, 24] and settings["epochs"] == 12
    assert json.loads(json.dumps(settings)) == settings  # what a backup writes and reads
    assert FINE_TUNING.settings()["unfreeze"] == "all"
    assert FINE_TUNING.settings()["image_size"] is None


def test_steps_per_epoch_counts_full_batches_only():
    assert RECIPE.steps_per_epoch(_dataset(70)) == 2  # 70 // 32: the last 6 sit out
    assert RECIPE.replace(batch_size=7).steps_per_epoch(_dataset(70)) == 10
    assert FINE_TUNING.replace(batch_size=70).steps_per_epoch(_dataset(70)) == 1
    with pytest.raises(ValueError, match=r"`batch_size` \(32\) must not exceed the training "
                                         r"images \(31\)"):
        RECIPE.steps_per_epoch(_dataset(31))


def test_check_dataset_refuses_another_size_naming_both():
    RECIPE.check_dataset(_dataset(size=(16, 16)))  # the recipe's 16: accepted
    RECIPE.replace(image_size=(16, 24)).check_dataset(_dataset(size=(16, 24)))
    with pytest.raises(ValueError, match="images are 32x32 and the recipe's `image_size` is 16"):
        RECIPE.check_dataset(_dataset(size=(32, 32)))
    with pytest.raises(ValueError, match="images are 24x16 .* `image_size` is \\(16, 24\\)"):
        RECIPE.replace(image_size=(16, 24)).check_dataset(_dataset(size=(24, 16)))
    FINE_TUNING.check_dataset(_dataset(size=(40, 40)))  # None: the dataset's size
    with pytest.raises(ValueError, match="images are 40x40 and the recipe's `image_size` is 32"):
        FINE_TUNING.replace(image_size=32).check_dataset(_dataset(size=(40, 40)))


def test_the_recipes_refuse_a_dataset_of_another_size_before_building_a_model():
    with pytest.raises(ValueError, match="images are 32x32 and the recipe's `image_size` is 16"):
        training.train_resnet50(_dataset(size=(32, 32)), RECIPE, build=_never_built)
    with pytest.raises(ValueError, match=r"`batch_size` \(32\) must not exceed"):
        training.train_resnet50(_dataset(20), RECIPE, build=_never_built)
    with pytest.raises(ValueError, match="images are 40x40 and the recipe's `image_size` is 32"):
        finetune.fine_tune_resnet50(_dataset(size=(40, 40)), "imagenet",
                                    FINE_TUNING.replace(image_size=32), build=_never_built)


def test_each_recipe_refuses_the_other_kind_naming_it():
    with pytest.raises(ValueError, match="`recipe` must be a `resnet.train.recipe.Recipe`, "
                                         "got FineTuning"):
        training.train_resnet50(_dataset(), FINE_TUNING, build=_never_built)
    with pytest.raises(ValueError, match="`recipe` must be a `resnet.train.recipe.FineTuning`, "
                                         "got Recipe"):
        finetune.fine_tune_resnet50(_dataset(), "imagenet", RECIPE, build=_never_built)


def test_fine_tuning_has_two_phases_from_its_fields():
    recipe = FINE_TUNING.replace(head_epochs=2, epochs=4, unfreeze="conv4",
                                 batch_norm="training", head_learning_rate=2e-3,
                                 learning_rate=3e-4)
    first, second = recipe.phases()
    # Phase 1: the classifier alone (BN frozen with the backbone) at a constant rate.
    assert first == (1, 2, None, "inference", 2e-3, False)
    # Phase 2: from the stage up, BN as the recipe says, decaying along a cosine.
    assert second == (2, 4, "conv4", "training", 3e-4, True)
    assert [p.epochs for p in FINE_TUNING.phases()] == [FINE_TUNING.head_epochs,
                                                        FINE_TUNING.epochs]
