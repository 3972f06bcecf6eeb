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

from .blocks import convolutional_block, glorot_uniform, identity_block, random_uniform
from .gradcam import grad_cam, plot_grad_cam
from .inference import Prediction, evaluate, load_image, plot_predictions
from .model import ResNet50, ResNet101, ResNet152
from .preprocessing import imagenet_caffe, preprocess, preprocessing_for, scale_to_unit

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
    "random_uniform",
    "scale_to_unit",
]
