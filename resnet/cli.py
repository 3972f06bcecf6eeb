"""The command line: ``python -m resnet COMMAND ...``.

Each command is a small function taking the parsed arguments; ``main`` builds
the parser, so ``python -m resnet --help`` lists them all.

``train`` honours ``RESNET_DETERMINISTIC=1`` in the environment (TensorFlow's
deterministic ops, for the test that a resumed run ends as an uninterrupted one).
"""

import argparse
import sys

from .train.recipe import FINE_TUNING, RECIPE
from .train.speed import XLA_CHOICES, parse_xla


def _summary(args):
    from .model import ResNet50, ResNet101, ResNet152

    build = {50: ResNet50, 101: ResNet101, 152: ResNet152}[args.depth]
    model = build(input_shape=tuple(args.input_shape), classes=args.classes)
    model.summary()
    print(f"Total parameters: {model.count_params():,}")
    return 0


def _predict(args):
    from .apply.inference import evaluate
    from .train.saving import load_model, saved_class_names

    model = load_model(args.model, name="--model")  # with the preprocessing it trained with
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


def _train(args):
    """``train``: check the flags (loading any pretrained weights once), then train."""
    import os

    from .train import backup, folder

    pretrained = _check_train_flags(args)
    if os.environ.get("RESNET_DETERMINISTIC") == "1":
        import tensorflow as tf

        # For the resume test: the same run twice gives the same weights, bit for bit.
        tf.config.experimental.enable_op_determinism()
        print("Deterministic ops on (RESNET_DETERMINISTIC=1).")
    callbacks = list(args.callbacks)
    if args.logdir:
        from tensorflow import keras

        callbacks.append(keras.callbacks.TensorBoard(log_dir=args.logdir))
    recipe = _recipe(args)
    dataset = folder.read_folder(args.data_dir, recipe, channels=args.input_shape[2],
                                 val_split=args.val_split)
    store = backup.Backup(args.backup_dir or f"{args.out}.backup", name="--backup-dir")
    folder.train_and_save(dataset, args.out, recipe, weights=pretrained, backup_dir=store,
                          callbacks=callbacks, build=args.build)
    return 0


def _recipe(args):
    """The recipe the flags ask for: ``RECIPE``, or ``FINE_TUNING`` with --weights, and
    each flag given in place of its default."""
    changes = {"image_size": tuple(args.input_shape[:2]), "seed": args.seed,
               "jit_compile": parse_xla(args.xla)}
    if args.epochs is not None:
        changes["epochs"] = args.epochs
    if args.batch_size is not None:
        changes["batch_size"] = args.batch_size
    if not args.weights:
        return RECIPE.replace(**changes)
    if args.head_epochs is not None:
        changes["head_epochs"] = args.head_epochs
    if args.unfreeze is not None:
        changes["unfreeze"] = args.unfreeze
    return FINE_TUNING.replace(**changes)


def _check_train_flags(args):
    """Refuse bad flags now, before any image is read or any epoch trained."""
    import importlib.util
    from pathlib import Path

    from .validation import check_channels, check_fraction, check_int

    check_channels(args.input_shape[2], "--input-shape C")
    if args.epochs is not None:
        check_int(args.epochs, "--epochs", 0 if args.weights else 1)
    if args.head_epochs is not None and not args.weights:
        raise ValueError("--head-epochs: only with --weights (the epochs that train the new "
                         "classifier alone on the pretrained network); without --weights "
                         "use --epochs.")
    if args.head_epochs is not None:
        check_int(args.head_epochs, "--head-epochs", 0)
    if args.unfreeze is not None and not args.weights:
        raise ValueError("--unfreeze: only with --weights (what trains after the new "
                         "classifier: all, or a stage and the stages above it).")
    if args.weights and args.head_epochs == 0 and args.epochs == 0:
        raise ValueError("--head-epochs and --epochs: both are 0, so nothing would train.")
    if args.batch_size is not None:
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
    return _load_weights(args.weights, args.input_shape[2], args.build) if args.weights else None


def _load_weights(weights, channels, build):
    """Load the pretrained weights, once (downloading ImageNet's), so that a file that does
    not fit or a failed download stops the run before any image is read."""
    from . import weights as weights_module
    from .train import finetune

    if weights == "imagenet" and channels != 3:
        raise ValueError(f"--weights imagenet: ImageNet's weights were trained on RGB images; "
                         f"give --input-shape H W 3, not C={channels}.")
    try:
        return finetune.pretrained_weights(weights, channels=channels, build=build)
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


def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m resnet",
        description="ResNet from scratch in TensorFlow's Keras: build, inspect and train the "
        "networks, and classify images.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    _add_summary(commands)
    _add_predict(commands)
    _add_train(commands)
    return parser


def _add_summary(commands):
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


def _add_predict(commands):
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


_TRAIN_DESCRIPTION = (
    "Train ResNet50 with the book's recipe (resnet.train.recipe.RECIPE, through "
    "resnet.train.training.train_resnet50) on DATA_DIR, a folder with one subfolder of "
    "images per class, split into training and validation images (stratified, fixed by "
    "--seed); with --weights, fine-tune a pretrained ResNet50 instead "
    "(resnet.train.recipe.FINE_TUNING, through resnet.train.finetune.fine_tune_resnet50): a "
    "new classifier trains alone on the frozen network for --head-epochs, then the whole "
    "network for --epochs at a tenth of the learning rate, in the preprocessing the weights "
    "expect (ImageNet's for --weights imagenet). Files that are not readable images are "
    "skipped and listed. The model is saved to --out without optimizer state, with the class "
    "names and the preprocessing inside the .keras file (a zip archive, entries "
    "class_names.json and preprocessing.json), where 'predict' finds them. After every epoch "
    "the run is backed up to --backup-dir; if it is interrupted, run the same command again: "
    "it resumes after the last finished epoch, and a folder holding another run's backup is "
    "refused, naming the settings that differ. The backup is removed once the model is saved.")


def _add_train(commands):
    train = commands.add_parser(
        "train",
        help="train ResNet50 on a folder of your own images, from scratch or pretrained",
        description=_TRAIN_DESCRIPTION,
    )
    train.add_argument("data_dir", metavar="DATA_DIR",
                       help="a folder with one subfolder of images per class")
    train.add_argument("--out", required=True, metavar="MODEL.keras",
                       help="where to save the trained model (written atomically)")
    train.add_argument(
        "--input-shape", type=int, nargs=3, default=[64, 64, 3], metavar=("H", "W", "C"),
        help="the size images are resized to, and channels (default: 64 64 3; C=1: greyscale; "
        "the book trains its digits at 16 16 1)",
    )
    train.add_argument("--weights", metavar="imagenet|FILE",
                       help="fine-tune from pretrained weights: 'imagenet' (keras.applications'"
                       " ImageNet weights, downloaded once, for RGB images: C=3), a ResNet50 "
                       "weights file (.h5, .weights.h5) or a trained .keras model (default: "
                       "train from scratch)")
    train.add_argument("--epochs", type=int, default=None, help="passes over the training "
                       f"images (default: {RECIPE.epochs}; with --weights, the epochs that "
                       f"train the whole network, default {FINE_TUNING.epochs}, 0: the "
                       "classifier"
                       " alone)")
    train.add_argument("--head-epochs", type=int, default=None,
                       help="with --weights: the first epochs, in which only the new "
                       f"classifier trains (default: {FINE_TUNING.head_epochs})")
    train.add_argument("--unfreeze", choices=["all", "conv2", "conv3", "conv4", "conv5"],
                       help="with --weights: what trains after the classifier alone, the "
                       "whole network (default: all) or a stage and those above it (conv5: "
                       "the top stage only)")
    train.add_argument("--batch-size", type=int, default=None,
                       help=f"images per step (default: {RECIPE.batch_size}; with --weights, "
                       f"{FINE_TUNING.batch_size})")
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
    train.add_argument("--xla", choices=XLA_CHOICES, default="auto",
                       help="compile with XLA; auto: on a GPU, and on a CPU if it measured faster "
                       "on this machine (measured once, about a minute; default: auto)")
    train.set_defaults(run=_train)


def main(argv=None, *, build=None, callbacks=()):
    """Run the command line with ``argv`` (default: sys.argv[1:]); return the exit status.

    ``build`` (default ``resnet.ResNet50``) and ``callbacks`` (Keras callbacks for every
    epoch, after the backup's) reach ``train``: tests pass a smaller network and a pause.
    """
    args = _parser().parse_args(argv)
    if build is None:
        from .model import ResNet50 as build
    args.build, args.callbacks = build, tuple(callbacks)
    try:
        return args.run(args)
    except (ValueError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
