"""Training on a folder of your own images, as one call: what ``python -m resnet train`` runs.

    >>> from resnet.train.folder import train_from_folder
    >>> run = train_from_folder("my_digits", "my_digits.keras",        # doctest: +SKIP
    ...                         input_shape=(32, 32, 1), epochs=5)

``train_from_folder`` reads the folder (one subfolder of images per class), splits it
(stratified, fixed by ``seed``), records the run in its backup folder or resumes the
backup found there (``backup``), decides the precision and XLA once
(``speed.choose_speed``), trains with the book's recipe from scratch
(``training.train_resnet50``) or from pretrained weights
(``finetune.fine_tune_resnet50``), saves the model with its class names
(``saving.save_model``) and removes the backup. It says what it does, line by line,
through ``say`` (``print`` by default).
"""

from pathlib import Path

SCRATCH_EPOCHS = 12  # train_resnet50's default
FINE_TUNE_EPOCHS = 5  # phase 2 of fine_tune_resnet50, after the head's epochs of phase 1
HEAD_EPOCHS = 3


def train_from_folder(data_dir, out, *, input_shape=(64, 64, 3), epochs=None, weights=None,
                      head_epochs=HEAD_EPOCHS, unfreeze="all", batch_size=32, val_split=0.2,
                      seed=0, backup_dir=None, jit_compile="auto", callbacks=(), say=print):
    """Train ResNet50 on the images in ``data_dir`` and save it to ``out``, resumably.

    Args:
        data_dir: a folder with one subfolder of images per class (the class names).
        out: the ``.keras`` file to save the model to (with the class names inside).
        input_shape: (height, width, channels) the images are resized to.
        epochs: from scratch, the recipe's epochs (default 12); with ``weights``, phase
            2's (default 5; 0 trains the classifier alone).
        weights: None (from scratch), or what ``finetune.fine_tune_resnet50`` takes:
            "imagenet", a weights file, a ``.keras`` model, or the ``Pretrained`` that
            ``finetune.pretrained_weights`` returned (loaded once, by the caller).
        head_epochs, unfreeze: with ``weights``, see ``fine_tune_resnet50``.
        batch_size, seed: images per step; the split, initial weights and batches.
        val_split: the share of each class held out for validation.
        backup_dir: the backup folder (default: ``out`` + ".backup"). Calling again with
            the same arguments after the process died resumes after the last finished
            epoch; a folder with another run's backup or other files is refused.
        jit_compile: see ``speed.choose_speed``.
        callbacks: more Keras callbacks (e.g. TensorBoard).
        say: where the lines go (``print``).

    Returns:
        The recipe's ``Run`` or ``FineTuned``.
    """
    import warnings

    from ..model import ResNet50
    from . import backup, data, finetune, saving, speed, training

    backup_dir = backup_dir or f"{out}.backup"
    if weights is not None:
        weights = finetune.pretrained_weights(weights, channels=input_shape[2])
        epochs = FINE_TUNE_EPOCHS if epochs is None else epochs
    else:
        epochs = SCRATCH_EPOCHS if epochs is None else epochs
    dataset, skipped = data.image_folder_with_skipped(
        data_dir, image_size=tuple(input_shape[:2]), batch_size=batch_size, seed=seed,
        channels=input_shape[2], val_fraction=val_split, test_fraction=0)
    if skipped:
        shown = ", ".join(Path(path).name for path, _ in skipped[:5])
        more = f" and {len(skipped) - 5} more" if len(skipped) > 5 else ""
        say(f"Skipped {len(skipped)} file(s) that are not readable images: {shown}{more}.")
    say(f"Classes: {', '.join(dataset.class_names)}")
    say(_counts(dataset))

    settings = {
        "data_dir": str(Path(data_dir).resolve()), "input_shape": list(input_shape),
        "epochs": epochs, "batch_size": batch_size, "val_split": val_split, "seed": seed,
        "class_names": list(dataset.class_names),
        "images": len(dataset.arrays["train"].labels) + len(dataset.arrays["val"].labels),
    }
    total = epochs
    if weights is not None:
        settings.update(weights=weights.source, head_epochs=head_epochs, unfreeze=unfreeze)
        total = head_epochs + epochs
    backup.record(backup_dir, settings)
    done = (sum(backup.finished_phases(backup_dir)) if weights is not None
            else backup.finished_epochs(backup_dir))
    if done >= total:
        say(f"All {total} epochs finished before (backup in {backup_dir}); saving.")
    elif done:
        say(f"Resuming at epoch {done + 1} of {total}: epochs 1-{done} finished before "
            f"(backup in {backup_dir}).")
    else:
        say(f"Backing up after every epoch to {backup_dir}; if interrupted, run the same "
            "command again to resume.")

    classes = len(dataset.class_names)
    choice = speed.choose_speed(lambda: ResNet50(input_shape=dataset.input_shape,
                                                 classes=classes),
                                (batch_size, *dataset.input_shape), jit_compile=jit_compile,
                                try_bfloat16=False)
    say(f"Speed: {choice}.")
    common = dict(batch_size=batch_size, seed=seed, speed_choice=choice,
                  callbacks=list(callbacks), verbose=1, backup_dir=backup_dir)
    with warnings.catch_warnings():  # fit's shuffle=True default is moot: ours are shuffled
        warnings.filterwarnings("ignore", message="`shuffle=True` was passed")
        if weights is not None:
            run = finetune.fine_tune_resnet50(dataset, weights, head_epochs=head_epochs,
                                              epochs=epochs, unfreeze=unfreeze, **common)
        else:
            run = training.train_resnet50(dataset, epochs=epochs, **common)
    accuracy = training.accuracy(run.model, dataset, "val", batch_size=batch_size)
    say(f"Validation accuracy: {accuracy:.3f} on {len(dataset.arrays['val'].labels)} images "
        "(the epoch with the lowest validation loss).")
    say(f"Time: {run.seconds:.1f} s for {total - done} epoch(s) in this run.")
    saving.save_model(run.model, out, class_names=dataset.class_names)
    backup.remove(backup_dir)  # the phases' folders too, for a fine-tuning run
    say(f"Saved the model to {out} (class names inside it, for predict).")
    return run


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
