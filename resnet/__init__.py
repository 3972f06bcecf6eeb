"""ResNet from scratch: the identity block, the convolutional block and ResNet50.

    >>> import resnet
    >>> model = resnet.ResNet50(input_shape=(64, 64, 3), classes=2)

The model code needs TensorFlow alone; helpers that draw or read image files
import matplotlib or Pillow inside the function that needs them.
"""

import sys as _sys

if _sys.argv[:1] == ["-m"]:  # `python -m resnet ...` is importing the package
    from ._quiet_start import import_tensorflow_quietly as _import_tensorflow_quietly

    _import_tensorflow_quietly()

# The layout: this folder is the model (blocks.py, model.py, validation.py; weights.py
# and preprocessing.py for published weights) and the command line (cli.py); apply/
# uses a trained model on images, train/ trains one, book/ holds what only the chapters
# need. The model is imported now, everything else on first use, so that a copy of just
# the model's files (README, "Copy into your coursework") still runs
# `import resnet; resnet.ResNet50()`.
from .blocks import convolutional_block, glorot_uniform, identity_block, random_uniform
from .model import ResNet50, ResNet101, ResNet152

_LAZY = {
    "Prediction": "apply.inference",
    "evaluate": "apply.inference",
    "plot_predictions": "apply.inference",
    "load_image": "apply.images",
    "grad_cam": "apply.gradcam",
    "plot_grad_cam": "apply.gradcam",
    "imagenet_caffe": "preprocessing",
    "preprocess": "preprocessing",
    "preprocessing_for": "preprocessing",
    "preprocessing_name": "preprocessing",
    "set_preprocessing": "preprocessing",
    "scale_to_unit": "preprocessing",
    "load_model": "train.saving",
    "save_model": "train.saving",
}


def __getattr__(name):
    from importlib import import_module

    if name in _LAZY:
        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
    elif not name.startswith("_"):  # a module or sub-package: resnet.model, resnet.train, ...
        try:
            value = import_module(f".{name}", __name__)
        except ModuleNotFoundError as error:
            if error.name != f"{__name__}.{name}":
                raise
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


__version__ = "0.1.0"

__all__ = [
    "ResNet50",
    "ResNet101",
    "ResNet152",
    "Prediction",
    "convolutional_block",
    "evaluate",
    "glorot_uniform",
    "grad_cam",
    "identity_block",
    "imagenet_caffe",
    "load_image",
    "plot_grad_cam",
    "plot_predictions",
    "preprocess",
    "preprocessing_for",
    "preprocessing_name",
    "random_uniform",
    "scale_to_unit",
    "set_preprocessing",
    "load_model",
    "save_model",
]
