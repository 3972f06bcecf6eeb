"""Backing a training run up after every epoch, and resuming it where it stopped.

    >>> from resnet.train import backup
    >>> backup.finished_epochs("no/such/backup")
    0

The one route that ``training.train_resnet50(backup_dir=...)``,
``finetune.fine_tune_resnet50(backup_dir=...)`` and ``python -m resnet train`` share, a
``Backup`` (the benchmarks' results files refuse other settings with its ``check_same``):

    the settings   ``Backup.open`` writes the run's settings (``settings``: the recipe,
                   the data's fingerprint, the model builder, the weights) to
                   ``RUN_FILE``, and refuses a folder that holds another run's backup,
                   naming the settings that differ (``check_same``), or files of its
                   own, which removing the backup at the end would delete or leave behind
    resuming       ``Backup.resumable`` turns the batches into one endless stream that
                   skips the finished epochs, so a resumed run sees the batches,
                   shuffles and augmentation an uninterrupted one would have seen, and
                   keeps the best epoch's weights beside Keras' ``BackupAndRestore``
                   files; a fine-tuning run keeps one such set per phase (``PHASES``)
    the end        ``Backup.remove`` deletes these files and nothing else. A recipe given
                   a folder removes it when training ends; one given a ``Backup`` leaves
                   that to its caller (``folder.train_and_save`` removes it once the model
                   is saved)
"""

import hashlib
import json
import os
from pathlib import Path

import numpy as np
from tensorflow import keras

from ..validation import InvalidParameterError

RUN_FILE = "run.json"
_BEST_FILE = "best_weights.npz"
# Every file a backup folder may hold: the run's settings, Keras' BackupAndRestore files
# (double_checkpoint keeps a .bkp of each) and the best epoch's weights.
FILES = (RUN_FILE, "latest.weights.h5", "latest.weights.h5.bkp", "training_metadata.json",
         "training_metadata.json.bkp", _BEST_FILE, f".{_BEST_FILE}.partial.npz")
PHASES = ("phase1", "phase2")  # a fine-tuning run's two phases, a subfolder each


def finished_epochs(backup_dir):
    """How many epochs the backup in ``backup_dir`` holds (0: none, or no backup)."""
    for name in ("training_metadata.json", "training_metadata.json.bkp"):
        try:
            return int(json.loads((Path(backup_dir) / name).read_text())["epoch"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return 0


def finished_phases(backup_dir):
    """(phase 1, phase 2): the epochs of each fine-tuning phase the backup holds."""
    return tuple(finished_epochs(Path(backup_dir) / phase) for phase in PHASES)


def remove(backup_dir):
    """Delete a backup's files (the phases' too), then each folder left empty."""
    root = Path(backup_dir)
    for folder in (*(root / phase for phase in PHASES), root):
        for name in FILES:
            (folder / name).unlink(missing_ok=True)
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()


def fingerprint(dataset):
    """What identifies a ``resnet.train.data`` Dataset's training and validation data:
    its classes, input shape, split sizes and a digest of their images and labels."""
    digest = hashlib.sha256()
    sizes = {}
    for split in ("train", "val"):
        images, labels = dataset.arrays[split]
        sizes[split] = len(labels)
        digest.update(np.ascontiguousarray(images).tobytes())
        digest.update(np.ascontiguousarray(labels).tobytes())
    return {"class_names": list(dataset.class_names), "input_shape": list(dataset.input_shape),
            "images": sizes, "sha256": digest.hexdigest()[:16]}


def settings(recipe, dataset, build, weights=None):
    """A run's settings, as a backup records them: the recipe's fields, the data's
    ``fingerprint``, the model builder's name and the pretrained weights' source."""
    found = {"recipe": type(recipe).__name__, **recipe.settings(),
             "data": fingerprint(dataset),
             "builder": f"{getattr(build, '__module__', '')}."
                        f"{getattr(build, '__qualname__', type(build).__name__)}"}
    if weights is not None:
        found["weights"] = weights
    return found


def check_same(before, now, where, *, what="the backup of a run", remedy=None):
    """Raise ``ValueError`` naming the settings in which ``before`` (recorded) and ``now``
    differ; ``where`` names the folder or file in the message, ``what`` what it holds and
    ``remedy`` what to do (the defaults: for a backup folder)."""
    if before == now:
        return
    if isinstance(before, dict):  # not a dict: a corrupt record (None) or another file's
        changed = sorted(k for k in {*now, *before} if before.get(k) != now.get(k))
        described = ", ".join(k if k == "data" else
                              f"{k} {before.get(k)!r} then, {now.get(k)!r} now"
                              for k in changed[:4])
        described += f" and {len(changed) - 4} more" if len(changed) > 4 else ""
    else:
        described = "unreadable record"
    remedy = remedy or ("repeat that run to resume it, or delete the folder to start over")
    raise ValueError(f"{where}: holds {what} with other settings ({described}); {remedy}.")


class Backup:
    """A run's backup folder: ``open`` records the run's settings and refuses another's.

    Args:
        folder: the folder (created when opened, if missing).
        name: how error messages name the folder (``--backup-dir`` on the command line).
    """

    def __init__(self, folder, *, name="backup_dir"):
        if not isinstance(folder, (str, os.PathLike)):
            raise InvalidParameterError(f"`{name}` must be a folder or a `backup.Backup`, "
                                        f"got {type(folder).__name__}.")
        self.folder, self.name, self.settings = Path(folder), name, None
        self._where = f"{name} {str(folder)!r}"

    def open(self, settings):
        """Check the folder and record the run's ``settings`` (a JSON-able dict) there.

        Raises:
            ValueError: the folder is a file, holds files of another kind (which
                ``remove`` would leave behind), holds the backup of a run with other
                settings (naming them), or cannot be written.
        """
        self._check_folder()
        path = self.folder / RUN_FILE
        if path.exists():
            try:
                before = json.loads(path.read_text())
            except (OSError, ValueError):
                before = None
            check_same(before, settings, self._where)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(settings, indent=1))
        except OSError as error:
            raise ValueError(f"{self._where}: cannot be written "
                             f"({error.strerror or error}).") from None
        self.settings = settings
        return self

    def _check_folder(self):
        if not self.folder.exists():
            return
        if not self.folder.is_dir():
            raise ValueError(f"{self._where}: is a file, not a folder.")
        others = sorted(p.name for p in self.folder.iterdir()
                        if p.name not in (*FILES, *PHASES))
        if others:
            raise ValueError(
                f"{self._where}: holds other files ({', '.join(others[:3])}), which "
                "removing the backup at the end would leave behind; give a new or empty "
                "folder.")

    def check(self, settings):
        """Refuse to serve a run whose settings differ from those recorded by ``open``."""
        check_same(self.settings, settings, self._where)

    def finished_epochs(self, phase=None):
        """Epochs the backup holds (of ``phase``, 1 or 2, for a fine-tuning run)."""
        return finished_epochs(self._folder(phase))

    def _folder(self, phase):
        return self.folder if phase is None else self.folder / PHASES[phase - 1]

    def resumable(self, batches, epochs, steps_per_epoch, phase=None, *, keep_best=True):
        """What makes a run of ``epochs`` resumable from this backup.

        Returns:
            (batches, callbacks): the batches as one endless stream that skips the
            epochs the backup holds (so that epoch k's shuffle and augmentation do not
            depend on how many epochs this process has run), for ``fit`` with
            ``steps_per_epoch``; and the callbacks, in this order: the best epoch's
            weights kept (in the backup too; not with ``keep_best=False``, for a run
            without validation data that keeps its last epoch), then Keras'
            ``BackupAndRestore`` (best weights first, so that a kill between the two
            saves repeats an epoch rather than forgetting that it was the best).
        """
        folder = self._folder(phase)
        batches = batches.repeat().skip(finished_epochs(folder) * steps_per_epoch)
        restore = keras.callbacks.BackupAndRestore(str(folder), double_checkpoint=True,
                                                   delete_checkpoint=False)
        if not keep_best:
            return batches, [restore]
        return batches, [_ResumableKeepBest(folder / _BEST_FILE, patience=epochs), restore]

    def remove(self):
        """Delete the backup's files, then each folder left empty."""
        remove(self.folder)


def opened(backup_dir, run_settings):
    """(backup, owned): the open ``Backup`` for a recipe's ``backup_dir`` argument.

    None: no backup. A folder: opened here with ``run_settings``, and owned: the recipe
    removes it when training ends. A ``Backup``: opened with ``run_settings`` if it is
    not yet, else checked against them; its opener removes it (after saving the model).
    """
    if backup_dir is None:
        return None, False
    if not isinstance(backup_dir, Backup):
        return Backup(backup_dir).open(run_settings), True
    if backup_dir.settings is None:
        backup_dir.open(run_settings)
    else:
        backup_dir.check(run_settings)
    return backup_dir, False


class _ResumableKeepBest(keras.callbacks.EarlyStopping):
    """``training.keep_best_weights`` that survives a restart: the best epoch's weights
    and validation loss are also written to ``path`` and read back when training begins."""

    def __init__(self, path, patience):
        super().__init__(monitor="val_loss", patience=patience, restore_best_weights=True)
        self.path = Path(path)

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        if self.path.exists():
            with np.load(self.path) as stored:
                count = int(stored["count"])
                self.best_weights = [stored[f"w{i}"] for i in range(count)]
                self.best = float(stored["best"])
                self.best_epoch = int(stored["best_epoch"])
                self.best = None if np.isnan(self.best) else self.best

    def on_epoch_end(self, epoch, logs=None):
        before = self.best_weights
        super().on_epoch_end(epoch, logs)
        if self.best_weights is not before:  # a new best: store it, atomically
            partial = self.path.with_name(f".{self.path.name}.partial.npz")
            self.path.parent.mkdir(parents=True, exist_ok=True)
            best = np.nan if self.best is None else float(self.best)
            np.savez(partial, count=len(self.best_weights), best=best,
                     best_epoch=self.best_epoch,
                     **{f"w{i}": w for i, w in enumerate(self.best_weights)})
            os.replace(partial, self.path)
