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
    return parser


def main(argv=None):
    """Run the command line with ``argv`` (default: sys.argv[1:]); return the exit status."""
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
