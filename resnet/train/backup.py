"""Backing a training run up after every epoch, and resuming it where it stopped.

    >>> from resnet.train import backup
    >>> backup.finished_epochs("no/such/backup")
    0

The one home of the protocol that ``training.train_resnet50(backup_dir=...)``,
``finetune.fine_tune_resnet50(backup_dir=...)`` and ``python -m resnet train`` share:

    a folder       Keras' ``BackupAndRestore`` files (the latest weights with the
                   optimizer's state, and the finished epochs) and the best epoch's
                   weights (``resumable``); a fine-tuning run keeps one such set per
                   phase, in the subfolders ``PHASES``
    the settings   ``record`` writes the run's settings to ``RUN_FILE`` and refuses a
                   folder that holds another run's backup or files of its own, which
                   removing the backup at the end would delete or leave behind
    resuming       ``resumable`` turns the batches into one endless stream that skips
                   the finished epochs, so a resumed run sees the batches, shuffles and
                   augmentation an uninterrupted one would have seen
    the end        ``remove`` deletes these files and nothing else, once the model is saved
"""

import json
import os
from pathlib import Path

import numpy as np
from tensorflow import keras

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


def record(backup_dir, settings, *, name="backup_dir"):
    """Check ``backup_dir`` and record the run's ``settings`` (a JSON-able dict) there.

    Args:
        backup_dir: the folder (created if missing).
        settings: what must match for a backup to be resumed by this run.
        name: how error messages name the folder (``--backup-dir`` on the command line).

    Raises:
        ValueError: the folder is a file, holds files of another kind (which ``remove``
            would leave behind), holds a backup of a run with other settings (which this
            run could not resume), or cannot be written.
    """
    folder = Path(backup_dir)
    path = folder / RUN_FILE
    if folder.exists():
        if not folder.is_dir():
            raise ValueError(f"{name} {str(backup_dir)!r}: is a file, not a folder.")
        others = sorted(p.name for p in folder.iterdir() if p.name not in (*FILES, *PHASES))
        if others:
            raise ValueError(
                f"{name} {str(backup_dir)!r}: holds other files ({', '.join(others[:3])}), "
                "which removing the backup at the end would leave behind; give a new or "
                "empty folder.")
        if path.exists():
            try:
                before = json.loads(path.read_text())
            except (OSError, ValueError):
                before = None
            if before != settings:
                changed = sorted(k for k in settings if (before or {}).get(k) != settings[k])
                raise ValueError(
                    f"{name} {str(backup_dir)!r}: holds the backup of a run with other "
                    f"settings ({', '.join(changed) or 'unreadable record'}); rerun that "
                    "command to resume it, or delete the folder to start over.")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(settings, indent=1))
    except OSError as error:
        raise ValueError(f"{name} {str(backup_dir)!r}: cannot be written "
                         f"({error.strerror or error}).") from None


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


def resumable(batches, backup_dir, epochs, steps_per_epoch):
    """What makes a run of ``epochs`` resumable from the backup in ``backup_dir``.

    Returns:
        (batches, callbacks): the batches as one endless stream that skips the epochs
        the backup holds (so that epoch k's shuffle and augmentation do not depend on
        how many epochs this process has run), for ``fit`` with ``steps_per_epoch``;
        and the callbacks, in this order: ``keep_best_weights`` that keeps the best
        epoch in the backup too, then Keras' ``BackupAndRestore`` (best weights first,
        so that a kill between the two saves repeats an epoch rather than forgetting
        that it was the best).
    """
    batches = batches.repeat().skip(finished_epochs(backup_dir) * steps_per_epoch)
    keep_best = _ResumableKeepBest(Path(backup_dir) / _BEST_FILE, patience=epochs)
    restore = keras.callbacks.BackupAndRestore(str(backup_dir), double_checkpoint=True,
                                               delete_checkpoint=False)
    return batches, [keep_best, restore]
