"""Training on a folder of your own images: what ``python -m resnet train`` runs.

    >>> from resnet.train import folder
    >>> from resnet.train.recipe import RECIPE
    >>> recipe = RECIPE.replace(image_size=32, epochs=5)
    >>> digits = folder.read_folder("my_digits", recipe, channels=1)   # doctest: +SKIP
    >>> run = folder.train_and_save(digits, "my_digits.keras", recipe)  # doctest: +SKIP

``read_folder`` reads the folder (one subfolder of images per class) and splits it
(stratified, fixed by the recipe's ``seed``); ``train_and_save`` opens the run's backup
folder (``backup``: recording the run, or refusing another's), decides the precision
and XLA once (``training.recipe_speed``), trains from scratch with a ``recipe.Recipe``
(``training.train_resnet50``) or from pretrained weights with a ``recipe.FineTuning``
(``finetune.fine_tune_resnet50``), saves the model with its class names and
preprocessing (``saving.save_model``) and removes the backup. Both print what they do,
line by line.
"""

from pathlib import Path

from ..model import ResNet50
from ..validation import InvalidParameterError
from . import backup, data, finetune, saving, training
from .recipe import RECIPE, FineTuning, Recipe


def read_folder(data_dir, recipe=RECIPE, *, channels=3, val_split=0.2):
    """The images in ``data_dir`` at the recipe's size (64x64 for a recipe of None),
    split into training and validation images (stratified, fixed by the recipe's
    ``seed``); prints the files it skipped and the images per class.

    Args:
        data_dir: a folder with one subfolder of images per class (the class names).
        recipe: a ``recipe.Recipe`` or ``recipe.FineTuning``.
        channels: 3 (RGB) or 1 (greyscale).
        val_split: the share of each class held out for validation.

    Returns:
        A ``resnet.train.data`` Dataset with a "train" and a "val" split.
    """
    size = recipe.image_size if recipe.image_size is not None else 64
    dataset, skipped = data.image_folder_with_skipped(
        data_dir, image_size=size, batch_size=recipe.batch_size, seed=recipe.seed,
        channels=channels, val_fraction=val_split, test_fraction=0)
    if skipped:
        shown = ", ".join(Path(path).name for path, _ in skipped[:5])
        more = f" and {len(skipped) - 5} more" if len(skipped) > 5 else ""
        print(f"Skipped {len(skipped)} file(s) that are not readable images: {shown}{more}.")
    print(f"Classes: {', '.join(dataset.class_names)}")
    print(_counts(dataset))
    return dataset


def train_and_save(dataset, out, recipe=RECIPE, *, weights=None, backup_dir=None,
                   callbacks=(), build=ResNet50):
    """Train ResNet50 on ``dataset`` and save it to ``out``, resumably.

    Args:
        dataset: what ``read_folder`` (or ``resnet.train.data``) returns; its "val"
            split picks the best epoch and is reported.
        out: the ``.keras`` file to save the model to (class names inside).
        recipe: a ``recipe.Recipe`` (from scratch), or a ``recipe.FineTuning`` with
            ``weights``.
        weights: with a ``FineTuning``, what ``finetune.fine_tune_resnet50`` takes:
            "imagenet", a weights file, a ``.keras`` model, or the ``Pretrained`` that
            ``finetune.pretrained_weights`` returned (loaded once, by the caller).
        backup_dir: the backup folder, or a ``backup.Backup`` (default: ``out`` +
            ".backup"). Calling again with the same arguments after the process died
            resumes after the last finished epoch; a folder with another run's backup
            or other files is refused, naming what differs. Removed once the model is
            saved.
        callbacks: more Keras callbacks (e.g. TensorBoard).
        build: the model builder (``resnet.ResNet50``).

    Returns:
        The recipe's ``Run`` or ``FineTuned``.
    """
    if isinstance(recipe, FineTuning) != (weights is not None) or not isinstance(
            recipe, (Recipe, FineTuning)):
        raise InvalidParameterError(
            "`recipe` must be a `Recipe` (from scratch) without `weights`, or a "
            f"`FineTuning` with them; got a {type(recipe).__name__} and weights={weights!r}.")
    if weights is not None:
        weights = finetune.pretrained_weights(weights, channels=dataset.input_shape[-1],
                                              build=build)
    if not isinstance(backup_dir, backup.Backup):
        backup_dir = backup.Backup(backup_dir or f"{out}.backup")
    store, _ = backup.opened(backup_dir, backup.settings(recipe, dataset, build,
                                                          weights and weights.source))
    total = recipe.epochs + getattr(recipe, "head_epochs", 0)
    done = store.finished_epochs() if weights is None else sum(
        store.finished_epochs(phase) for phase in (1, 2))
    _say_backup(store.folder, done, total)
    choice = training.recipe_speed(recipe, dataset, build)
    print(f"Speed: {choice}.")
    options = dict(build=build, speed_choice=choice, callbacks=list(callbacks), verbose=1,
                   backup_dir=store)
    if weights is not None:
        run = finetune.fine_tune_resnet50(dataset, weights, recipe, **options)
    else:
        run = training.train_resnet50(dataset, recipe, **options)
    accuracy = training.accuracy(run.model, dataset, "val", batch_size=recipe.batch_size)
    print(f"Validation accuracy: {accuracy:.3f} on {len(dataset.arrays['val'].labels)} "
          "images (the epoch with the lowest validation loss).")
    print(f"Time: {run.seconds:.1f} s for {total - done} epoch(s) in this run.")
    saving.save_model(run.model, out, class_names=dataset.class_names)
    store.remove()  # the phases' folders too, for a fine-tuning run
    print(f"Saved the model to {out} (class names inside it, for predict).")
    return run


def _say_backup(folder, done, total):
    if done >= total:
        print(f"All {total} epochs finished before (backup in {folder}); saving.")
    elif done:
        print(f"Resuming at epoch {done + 1} of {total}: epochs 1-{done} finished before "
              f"(backup in {folder}).")
    else:
        print(f"Backing up after every epoch to {folder}; if interrupted, run the same "
              "command again to resume.")


def _counts(dataset):
    """The table of training and validation images per class, as text."""
    import numpy as np

    names = dataset.class_names
    width = max(5, *(len(n) for n in names))
    counts = {split: np.bincount(dataset.arrays[split].labels, minlength=len(names))
              for split in ("train", "val")}
    rows = [f"{'class':<{width}}  {'train':>6}  {'val':>6}"]
    rows += [f"{name:<{width}}  {counts['train'][i]:>6}  {counts['val'][i]:>6}"
             for i, name in enumerate(names)]
    rows.append(f"{'total':<{width}}  {counts['train'].sum():>6}  {counts['val'].sum():>6}")
    return "\n".join(rows)
