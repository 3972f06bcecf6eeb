"""The command line: ``python -m resnet COMMAND ...``.

Each command is a small function taking the parsed arguments; ``main`` builds
the parser, so ``python -m resnet --help`` lists them all.
"""

import argparse
import sys


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

    from .inference import evaluate

    if not Path(args.model).is_file():
        raise FileNotFoundError(f"--model {args.model!r}: no such file (a saved .keras model).")
    try:
        model = keras.models.load_model(args.model)  # safe_mode stays on: no arbitrary code
    except Exception as error:  # Keras raises many types for a file it cannot read
        raise ValueError(f"--model {args.model!r}: not a loadable Keras model ({error}).") from None
    for prediction in evaluate(model, args.images, class_names=args.class_names):
        print(f"{prediction.source}: {prediction.label} ({prediction.probability:.3f})")
    return 0


def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m resnet",
        description="ResNet from scratch in TensorFlow's Keras: build and inspect the networks.",
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
                         help="one name per class, in label order (default: class indices)")
    predict.set_defaults(run=_predict)
    return parser


def main(argv=None):
    """Run the command line with ``argv`` (default: sys.argv[1:]); return the exit status."""
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
