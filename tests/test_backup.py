"""``resnet.train.backup``: a run's backup folder, what it refuses, and resuming from it.

The refusals come before any model is built (the builder given fails if called). The
resuming test runs fine-tuning's phase 1 on features (``head="features"``: the backbone's
features once, then the classifier alone), which trains in seconds: the mechanism is the
one every phase uses (``training.fit_phase`` with a ``Backup``), and the command line's
tests kill and resume the other phases in a process of their own.
"""

import json

import numpy as np
import pytest
from small_resnet50 import small_resnet50
from tensorflow import keras

from resnet.book import checks
from resnet.train import backup, data, finetune, training
from resnet.train.recipe import FINE_TUNING, RECIPE

SMALL = RECIPE.replace(epochs=2, batch_size=8, jit_compile=False)
HEAD = FINE_TUNING.replace(head="features", head_epochs=3, epochs=0, batch_size=8,
                           jit_compile=False, seed=1)


def _never_built(**kwargs):
    raise AssertionError("a model was built: the backup was not refused before training")


@pytest.fixture(scope="module")
def digits():
    return data.digits(image_size=16)


@pytest.fixture(scope="module")
def few(digits):
    """Three digits, 8 training and 4 validation images each, at 16x16."""
    return data.subset(digits, ["0", "1", "7"], per_class=8, val_per_class=4, batch_size=8)


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    """A small ResNet50 with random weights (BN statistics too), saved as a .keras model."""
    model = small_resnet50((16, 16, 1), classes=5, seed=3)
    checks.randomize_weights(model, seed=1)
    path = tmp_path_factory.mktemp("weights") / "pretrained.keras"
    model.save(path)
    return path


# What a backup folder refuses -----------------------------------------------------------


def test_a_second_run_with_other_settings_is_refused_naming_what_differs(few, tmp_path):
    folder = tmp_path / "backup"
    backup.Backup(folder).open(backup.settings(SMALL.replace(epochs=3), few, _never_built))
    with pytest.raises(ValueError, match=r"backup_dir '.*backup': holds the backup of a run "
                                         r"with other settings \(epochs 3 then, 2 now\); "
                                         "repeat that run") as error:
        training.train_resnet50(few, SMALL, build=_never_built, backup_dir=folder)
    assert "batch_size" not in str(error.value)  # only what differs is named
    recorded = json.loads((folder / backup.RUN_FILE).read_text())
    assert recorded["epochs"] == 3  # the first run's record is left as it was


def test_other_data_another_builder_or_other_weights_are_named(few, digits, tmp_path):
    run = backup.settings(SMALL, few, small_resnet50, weights="imagenet")
    store = backup.Backup(tmp_path / "b", name="--backup-dir").open(run)
    assert store.settings == run and backup.Backup(tmp_path / "b").open(run)  # the same: fine
    other_images = data.subset(digits, ["0", "1", "7"], per_class=8, val_per_class=4, seed=1)
    for changed, named in [
            (backup.settings(SMALL, other_images, small_resnet50, "imagenet"), r"\(data\)"),
            (backup.settings(SMALL, few, _never_built, "imagenet"), "builder 'small_resnet50"),
            (backup.settings(SMALL, few, small_resnet50, "/my/w.keras"), "weights 'imagenet' then, "
                                                                         "'/my/w.keras' now")]:
        with pytest.raises(ValueError, match=f"--backup-dir '.*b': holds .*{named}"):
            backup.Backup(tmp_path / "b", name="--backup-dir").open(changed)
    with pytest.raises(ValueError, match="epochs 2 then, 5 now"):  # an open Backup, checked
        backup.opened(store, backup.settings(SMALL.replace(epochs=5), few, small_resnet50,
                                             "imagenet"))


@pytest.mark.parametrize("record", ["{not json", "[1, 2]", "null"])
def test_an_unreadable_record_is_refused_as_such(few, tmp_path, record):
    folder = tmp_path / "backup"
    folder.mkdir()
    (folder / backup.RUN_FILE).write_text(record)
    with pytest.raises(ValueError, match=r"holds the backup of a run with other settings "
                                         r"\(unreadable record\)"):
        training.train_resnet50(few, SMALL, build=_never_built, backup_dir=folder)


def test_a_folder_with_other_files_or_a_file_is_refused_and_left_alone(few, tmp_path):
    folder = tmp_path / "thesis"
    folder.mkdir()
    (folder / "thesis.tex").write_text("precious")
    with pytest.raises(ValueError, match=r"backup_dir '.*thesis': holds other files "
                                         r"\(thesis.tex\)"):
        training.train_resnet50(few, SMALL, build=_never_built, backup_dir=folder)
    assert [p.name for p in folder.iterdir()] == ["thesis.tex"]  # no run.json written
    (tmp_path / "notes").write_text("")
    with pytest.raises(ValueError, match="'.*notes': is a file, not a folder"):
        training.train_resnet50(few, SMALL, build=_never_built, backup_dir=tmp_path / "notes")
    with pytest.raises(ValueError, match="`backup_dir` must be a folder or a `backup.Backup`"):
        training.train_resnet50(few, SMALL, build=_never_built, backup_dir=3)


def test_opened_owns_a_folder_and_leaves_a_backup_to_its_opener(few, tmp_path):
    run = backup.settings(SMALL, few, small_resnet50)
    store, owned = backup.opened(tmp_path / "a", run)
    assert owned and store.settings == run and (tmp_path / "a" / backup.RUN_FILE).exists()
    given = backup.Backup(tmp_path / "b")
    assert backup.opened(given, run) == (given, False) and given.settings == run
    assert backup.opened(None, run) == (None, False)


def test_remove_deletes_the_backups_files_only(tmp_path):
    folder = tmp_path / "backup"
    for name in (backup.RUN_FILE, "phase1/latest.weights.h5", "phase2/best_weights.npz"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("")
    backup.remove(folder)
    assert not folder.exists()
    (tmp_path / "kept").mkdir()
    (tmp_path / "kept" / backup.RUN_FILE).write_text("{}")
    (tmp_path / "kept" / "mine.txt").write_text("")
    backup.remove(tmp_path / "kept")
    assert [p.name for p in (tmp_path / "kept").iterdir()] == ["mine.txt"]
    assert backup.finished_epochs(tmp_path / "nothing") == 0
    assert backup.finished_phases(tmp_path / "nothing") == (0, 0)


# Resuming -----------------------------------------------------------------------------------


class _Interrupted(Exception):
    pass


class _StopAfter(keras.callbacks.Callback):
    """Raises after ``epochs`` epochs, once the backup has saved the last (as a killed
    process would stop: the callbacks given run after the backup's)."""

    def __init__(self, epochs):
        super().__init__()
        self.epochs = epochs

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.epochs:
            raise _Interrupted


@pytest.mark.slow
def test_phase_1_on_features_is_backed_up_and_resumes_to_the_uninterrupted_weights(
        few, weights, tmp_path):
    def fine_tune(backup_dir, callbacks=()):
        return finetune.fine_tune_resnet50(few, weights, HEAD, build=small_resnet50,
                                           backup_dir=backup_dir, callbacks=callbacks)

    # Uninterrupted, with a Backup: the recipe leaves it to its opener, every epoch in it.
    kept = backup.Backup(tmp_path / "kept")
    whole = fine_tune(kept)
    assert backup.finished_phases(kept.folder) == (HEAD.head_epochs, 0)
    assert json.loads((kept.folder / backup.RUN_FILE).read_text())["head"] == "features"
    assert len(whole.head_history.epoch) == HEAD.head_epochs and whole.history is None

    # Stopped after phase 1's first epoch: one epoch backed up, the folder left for a rerun.
    folder = tmp_path / "resumed"
    with pytest.raises(_Interrupted):
        fine_tune(folder, callbacks=[_StopAfter(1)])
    assert backup.finished_phases(folder) == (1, 0)
    resumed = fine_tune(folder)
    assert resumed.head_history.epoch == list(range(1, HEAD.head_epochs))  # epochs 2 and 3
    assert not folder.exists()  # a folder: removed when training ended
    # Equal, not close: the features, the batches' order (the skipped epoch's shuffle),
    # the classifier's weights, Adam's state and the best epoch's weights all come back
    # from the backup; anything lost would move the classifier.
    for a, b in zip(resumed.model.get_weights(), whole.model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    kernel = resumed.model.get_layer(finetune.CLASSIFIER).get_weights()[0]
    start = finetune.pretrained_model(weights, few.input_shape, 3, seed=HEAD.seed,
                                      build=small_resnet50)
    assert not np.array_equal(kernel, start.get_layer(finetune.CLASSIFIER).get_weights()[0])
