"""ResNet from scratch: the identity block, the convolutional block and ResNet50.

    >>> import resnet
    >>> model = resnet.ResNet50(input_shape=(64, 64, 3), classes=2)

The model code needs TensorFlow alone; helpers that draw or read image files
import matplotlib or Pillow inside the function that needs them.
"""

from .blocks import convolutional_block, glorot_uniform, identity_block, random_uniform
from .model import ResNet50, ResNet101, ResNet152

__version__ = "0.1.0"

__all__ = [
    "ResNet50",
    "ResNet101",
    "ResNet152",
    "convolutional_block",
    "glorot_uniform",
    "identity_block",
    "random_uniform",
]
