"""The command line: ``python -m resnet COMMAND ...``.

Each command is a small function taking the parsed arguments; ``main`` builds
the parser, so ``python -m resnet --help`` lists them all.

``train`` honours ``RESNET_DETERMINISTIC=1`` in the environment (TensorFlow's
deterministic ops, for the test that a resumed run ends as an uninterrupted one).
"""

import argparse
import sys

SCRATCH_EPOCHS = 12  # train_resnet50's default
FINE_TUNE_EPOCHS = 5  # phase 2 of fine_tune_resnet50, after --head-epochs of phase 1
HEAD_EPOCHS = 3


def _summary(args):
    from .model import ResNet50, ResNet101, ResNet152

    build = {50: ResNet50, 101: ResNet101, 152: ResNet152}[args.depth]
    model = build(input_shape=tuple(args.input_shape), classes=args.classes)
    model.summary()
    print(f"Total parameters: {model.count_params():,}")
    return 0


def _predict(args):
    from pathlib import Path

    from tensorflow import keras

    from .apply.inference import evaluate
    from .train.saving import saved_class_names

    if not Path(args.model).is_file():
        raise FileNotFoundError(f"--model {args.model!r}: no such file (a saved .keras model).")
    try:
        model = keras.models.load_model(args.model)  # safe_mode stays on: no arbitrary code
    except Exception as error:  # Keras raises many types for a file it cannot read
        raise ValueError(f"--model {args.model!r}: not a loadable Keras model ({error}).") from None
    class_names = args.class_names or saved_class_names(args.model)  # what `train` stored
    for prediction in evaluate(model, args.images, class_names=class_names):
        print(f"{prediction.source}: {prediction.label} ({prediction.probability:.3f})")
    return 0


def _check_writable(out):
    """Fail now, not after training, if the model cannot be written to ``out``."""
    import tempfile
    from pathlib import Path

    path = Path(out)
    if path.suffix != ".keras":
        raise ValueError(f"--out {out!r}: must end in '.keras'.")
    if path.is_dir():
        raise ValueError(f"--out {out!r}: is a folder; give a file name ending in '.keras'.")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", suffix=".probe"):
            pass
    except OSError as error:
        raise ValueError(f"--out {out!r}: cannot be written ({error.strerror or error}).") from None


def _prepare_backup(backup_dir, settings):
    """Check ``backup_dir`` and record this run's settings there.

    The backup is deleted when the run ends, so a folder holding anything else
    is refused; so is a backup written by a run with other settings, which
    could not be resumed by this one.
    """
    import json
    from pathlib import Path

    from .train.finetune import PHASE_FOLDERS
    from .train.training import BACKUP_FILES, RUN_FILE

    folder = Path(backup_dir)
    record = folder / RUN_FILE
    if folder.exists():
        if not folder.is_dir():
            raise ValueError(f"--backup-dir {backup_dir!r}: is a file, not a folder.")
        ours = (*BACKUP_FILES, *PHASE_FOLDERS)  # a fine-tuning run backs up each phase apart
        others = sorted(p.name for p in folder.iterdir() if p.name not in ours)
        if others:
            raise ValueError(
                f"--backup-dir {backup_dir!r}: holds other files ({', '.join(others[:3])}), which "
                "removing the backup at the end would leave behind; give a new or empty folder.")
        if record.exists():
            try:
                before = json.loads(record.read_text())
            except (OSError, ValueError):
                before = None
            if before != settings:
                changed = sorted(k for k in settings if (before or {}).get(k) != settings[k])
                raise ValueError(
                    f"--backup-dir {backup_dir!r}: holds the backup of a run with other settings "
                    f"({', '.join(changed) or 'unreadable record'}); rerun that command to resume "
                    "it, or delete the folder to start over.")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        record.write_text(json.dumps(settings, indent=1))
    except OSError as error:
        reason = error.strerror or error
        raise ValueError(f"--backup-dir {backup_dir!r}: cannot be written ({reason}).") from None


def _print_counts(dataset):
    import numpy as np

    names = dataset.class_names
    width = max(5, *(len(n) for n in names))
    print(f"{'class':<{width}}  {'train':>6}  {'val':>6}")
    counts = {split: np.bincount(dataset.arrays[split].labels, minlength=len(names))
              for split in ("train", "val")}
    for i, name in enumerate(names):
        print(f"{name:<{width}}  {counts['train'][i]:>6}  {counts['val'][i]:>6}")
    print(f"{'total':<{width}}  {counts['train'].sum():>6}  {counts['val'].sum():>6}")


def _train(args):
    """``train``: check the flags, load the images, train (resuming a backup), save."""
    _check_train_flags(args)
    if args.epochs is None:
        args.epochs = FINE_TUNE_EPOCHS if args.weights else SCRATCH_EPOCHS
    backup_dir = args.backup_dir or f"{args.out}.backup"
    dataset = _load_images(args)
    done = _start_or_resume(args, dataset, backup_dir)
    run = _fit(args, dataset, backup_dir, done)
    _save(args, run.model, dataset, backup_dir)
    return 0


def _check_train_flags(args):
    """Refuse bad flags now, before any image is read or any epoch trained."""
    import importlib.util
    from pathlib import Path

    from .validation import check_channels, check_fraction, check_int

    check_channels(args.input_shape[2], "--input-shape C")
    if args.epochs is not None:
        check_int(args.epochs, "--epochs", 0 if args.weights else 1)
    if args.head_epochs is None:
        args.head_epochs = HEAD_EPOCHS
    elif not args.weights:
        raise ValueError("--head-epochs: only with --weights (the epochs that train the new "
                         "classifier alone on the pretrained network); without --weights "
                         "use --epochs.")
    check_int(args.head_epochs, "--head-epochs", 0)
    if args.unfreeze is None:
        args.unfreeze = "all"
    elif not args.weights:
        raise ValueError("--unfreeze: only with --weights (what trains after the new "
                         "classifier: all, or a stage and the stages above it).")
    if args.weights and args.head_epochs == 0 and args.epochs == 0:
        raise ValueError("--head-epochs and --epochs: both are 0, so nothing would train.")
    check_int(args.batch_size, "--batch-size")
    check_fraction(args.val_split, "--val-split")
    _check_writable(args.out)
    if args.logdir and importlib.util.find_spec("tensorboard") is None:
        raise ValueError(f"--logdir {args.logdir!r}: writing TensorBoard logs needs the "
                         "tensorboard package (pip install tensorboard).")
    if not Path(args.data_dir).is_dir():
        raise FileNotFoundError(
            f"DATA_DIR {args.data_dir!r}: no such folder (expected one subfolder of images per "
            "class).")
    if args.weights:
        _check_weights(args.weights, args.input_shape[2])


def _check_weights(weights, channels):
    """Load the pretrained weights once now (downloading ImageNet's), so that a file that
    does not fit or a failed download stops the run before any image is read."""
    from . import weights as weights_module
    from .train import finetune

    if weights == "imagenet" and channels != 3:
        raise ValueError(f"--weights imagenet: ImageNet's weights were trained on RGB images; "
                         f"give --input-shape H W 3, not C={channels}.")
    try:
        finetune.pretrained_weights(weights, channels=channels)
    except ConnectionError as error:
        file = weights_module.IMAGENET_FILES[50][0]
        cause = " ".join(str(error.__cause__ or error).split())[:200]
        raise ValueError(
            f"--weights imagenet: could not download {weights_module.IMAGENET_URL}{file} "
            f"({cause}). Connect to the internet (Colab can), or download that file "
            f"elsewhere and give its path: --weights PATH/{file}.") from None
    except (ValueError, FileNotFoundError) as error:
        message = str(error).replace("`weights`", "--weights", 1).replace(
            "channels=", "--input-shape H W ")
        raise type(error)(message) from None


def _load_images(args):
    """DATA_DIR's images split into training and validation; say what was skipped and found."""
    import os
    from pathlib import Path

    import tensorflow as tf

    from .train.data import image_folder_with_skipped

    if os.environ.get("RESNET_DETERMINISTIC") == "1":
        # For the resume test: the same run twice gives the same weights, bit for bit.
        tf.config.experimental.enable_op_determinism()
        print("Deterministic ops on (RESNET_DETERMINISTIC=1).")
    height, width, channels = args.input_shape
    dataset, skipped = image_folder_with_skipped(
        args.data_dir, image_size=(height, width), batch_size=args.batch_size, seed=args.seed,
        channels=channels, val_fraction=args.val_split, test_fraction=0,
    )
    if skipped:
        shown = ", ".join(Path(path).name for path, _ in skipped[:5])
        more = f" and {len(skipped) - 5} more" if len(skipped) > 5 else ""
        print(f"Skipped {len(skipped)} file(s) that are not readable images: {shown}{more}.")
    print(f"Classes: {', '.join(dataset.class_names)}")
    _print_counts(dataset)
    return dataset


def _start_or_resume(args, dataset, backup_dir):
    """Record the run's settings in its backup; return the epochs finished before (0: none)."""
    from pathlib import Path

    from .train import finetune, training

    settings = {
        "data_dir": str(Path(args.data_dir).resolve()), "input_shape": list(args.input_shape),
        "epochs": args.epochs, "batch_size": args.batch_size, "val_split": args.val_split,
        "seed": args.seed, "class_names": list(dataset.class_names),
        "images": len(dataset.arrays["train"].labels) + len(dataset.arrays["val"].labels),
    }
    total = args.epochs
    if args.weights:
        weights = args.weights if args.weights == "imagenet" else str(Path(args.weights).resolve())
        settings.update(weights=weights, head_epochs=args.head_epochs, unfreeze=args.unfreeze)
        total = args.head_epochs + args.epochs
    _prepare_backup(backup_dir, settings)
    done = (sum(finetune.finished_epochs(backup_dir)) if args.weights
            else training.finished_epochs(backup_dir))
    if done >= total:
        print(f"All {total} epochs finished before (backup in {backup_dir}); saving.")
    elif done:
        print(f"Resuming at epoch {done + 1} of {total}: epochs 1-{done} finished before "
              f"(backup in {backup_dir}).")
    else:
        print(f"Backing up after every epoch to {backup_dir}; if interrupted, run the same "
              "command again to resume.")
    return done


def _fit(args, dataset, backup_dir, done):
    """Train with the book's recipe, backed up after every epoch; print how it went."""
    import warnings

    from tensorflow import keras

    from .train import training

    class _SaySpeedChoice(keras.callbacks.Callback):  # train() decides it after building
        def on_train_begin(self, logs=None):
            print(f"Speed: {self.model.xla_choice}; precision "
                  f"{self.model.dtype_policy.name}.", flush=True)

    # fit's shuffle=True default is moot: the recipe's batches are shuffled already.
    warnings.filterwarnings("ignore", message="`shuffle=True` was passed")
    callbacks = [_SaySpeedChoice()]
    if args.logdir:
        callbacks.append(keras.callbacks.TensorBoard(log_dir=args.logdir))
    jit_compile = {"auto": "auto", "on": True, "off": False}[args.xla]
    if args.weights:
        from .train import finetune

        run = finetune.fine_tune_resnet50(
            dataset, args.weights, head_epochs=args.head_epochs, epochs=args.epochs,
            unfreeze=args.unfreeze, batch_size=args.batch_size, seed=args.seed,
            jit_compile=jit_compile, callbacks=callbacks, verbose=1, backup_dir=backup_dir,
        )
        total = args.head_epochs + args.epochs
    else:
        run = training.train_resnet50(
            dataset, epochs=args.epochs, batch_size=args.batch_size, seed=args.seed,
            jit_compile=jit_compile, callbacks=callbacks, verbose=1, backup_dir=backup_dir,
        )
        total = args.epochs
    _, accuracy = run.model.evaluate(_validation_batches(run.model, dataset, args.batch_size),
                                     verbose=0)
    print(f"Validation accuracy: {accuracy:.3f} on {len(dataset.arrays['val'].labels)} images "
          f"(the epoch with the lowest validation loss).")
    print(f"Time: {run.seconds:.1f} s for {total - done} epoch(s) in this run.")
    return run


def _validation_batches(model, dataset, batch_size):
    """The validation images in the preprocessing the model was trained with."""
    from .preprocessing import preprocessing_for
    from .train.data import pipeline

    return pipeline(*dataset.arrays["val"], image_size=dataset.input_shape[:2],
                    batch_size=batch_size, preprocessing=preprocessing_for(model))


def _save(args, model, dataset, backup_dir):
    """Save the model with its class names to --out, then remove the backup."""
    from .train import finetune, saving

    saving.save_model(model, args.out, class_names=dataset.class_names)
    finetune.remove_backup(backup_dir)  # the phases' folders too, for a fine-tuning run
    print(f"Saved the model to {args.out} (class names inside it, for predict).")


def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m resnet",
        description="ResNet from scratch in TensorFlow's Keras: build, inspect and train the "
        "networks, and classify images.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    summary = commands.add_parser(
        "summary",
        help="print a network's layers and its parameter count",
        description="Build a ResNet and print its Keras summary and its parameter count.",
    )
    summary.add_argument(
        "--input-shape", type=int, nargs=3, default=[64, 64, 3], metavar=("H", "W", "C"),
        help="input height, width and channels (default: 64 64 3; use C=1 for greyscale)",
    )
    summary.add_argument(
        "--classes", type=int, default=2, help="number of output classes (default: 2)"
    )
    summary.add_argument(
        "--depth", type=int, choices=(50, 101, 152), default=50,
        help="number of layers (default: 50)",
    )
    summary.set_defaults(run=_summary)

    predict = commands.add_parser(
        "predict",
        help="classify image files with a saved model",
        description="Classify image files with a saved .keras model; print one line per image: "
        "PATH: LABEL (PROBABILITY).",
    )
    predict.add_argument("images", nargs="+", metavar="IMAGE", help="image files to classify")
    predict.add_argument("--model", required=True, metavar="PATH",
                         help="a model saved with model.save('....keras')")
    predict.add_argument("--class-names", nargs="+", metavar="NAME",
                         help="one name per class, in label order (default: the names that "
                         "'train' stored in the model, else class indices)")
    predict.set_defaults(run=_predict)

    train = commands.add_parser(
        "train",
        help="train ResNet50 on a folder of your own images, from scratch or pretrained",
        description="Train ResNet50 with the book's recipe "
        "(resnet.train.training.train_resnet50) on "
        "DATA_DIR, a folder with one subfolder of images per class, split into training and "
        "validation images (stratified, fixed by --seed); with --weights, fine-tune a "
        "pretrained ResNet50 instead (resnet.train.finetune.fine_tune_resnet50): a new "
        "classifier trains alone on the frozen network for --head-epochs, then the whole "
        "network for --epochs at a tenth of the learning rate, in the preprocessing the "
        "weights expect (ImageNet's for --weights imagenet). Files that are not readable images "
        "are skipped and listed. The model is saved to --out without optimizer state, with the "
        "class names inside the .keras file (a zip archive, entry class_names.json), where "
        "'predict' finds them. After every epoch the run is backed up to --backup-dir; if it is"
        " interrupted, run the same command again: it resumes after the last finished epoch. "
        "The backup is removed once the model is saved.",
    )
    train.add_argument("data_dir", metavar="DATA_DIR",
                       help="a folder with one subfolder of images per class")
    train.add_argument("--out", required=True, metavar="MODEL.keras",
                       help="where to save the trained model (written atomically)")
    train.add_argument(
        "--input-shape", type=int, nargs=3, default=[64, 64, 3], metavar=("H", "W", "C"),
        help="the size images are resized to, and channels (default: 64 64 3; C=1: greyscale; "
        "H and W at least 32)",
    )
    train.add_argument("--weights", metavar="imagenet|FILE",
                       help="fine-tune from pretrained weights: 'imagenet' (keras.applications'"
                       " ImageNet weights, downloaded once, for RGB images: C=3), a ResNet50 "
                       "weights file (.h5, .weights.h5) or a trained .keras model (default: "
                       "train from scratch)")
    train.add_argument("--epochs", type=int, default=None, help="passes over the training "
                       f"images (default: {SCRATCH_EPOCHS}; with --weights, the epochs that "
                       f"train the whole network, default {FINE_TUNE_EPOCHS}, 0: the classifier"
                       " alone)")
    train.add_argument("--head-epochs", type=int, default=None,
                       help="with --weights: the first epochs, in which only the new "
                       f"classifier trains (default: {HEAD_EPOCHS})")
    train.add_argument("--unfreeze", choices=["all", "conv2", "conv3", "conv4", "conv5"],
                       help="with --weights: what trains after the classifier alone, the "
                       "whole network (default: all) or a stage and those above it (conv5: "
                       "the top stage only)")
    train.add_argument("--batch-size", type=int, default=32,
                       help="images per step (default: 32)")
    train.add_argument("--val-split", type=float, default=0.2,
                       help="share of each class held out for validation (default: 0.2)")
    train.add_argument("--seed", type=int, default=0,
                       help="fixes the split, the initial weights, the shuffling and the "
                       "augmentation (default: 0)")
    train.add_argument("--backup-dir", metavar="DIR",
                       help="a folder for the backup after every epoch, used only by this run "
                       "(default: MODEL.keras.backup beside --out); in Colab, one on Google "
                       "Drive survives a disconnected runtime")
    train.add_argument("--logdir", metavar="DIR",
                       help="write TensorBoard logs there (watch with: tensorboard --logdir DIR)")
    train.add_argument("--xla", choices=("auto", "on", "off"), default="auto",
                       help="compile with XLA; auto: on a GPU, and on a CPU if it measured faster "
                       "on this machine (measured once, about a minute; default: auto)")
    train.set_defaults(run=_train)
    return parser


def main(argv=None):
    """Run the command line with ``argv`` (default: sys.argv[1:]); return the exit status."""
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
