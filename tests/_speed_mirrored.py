"""Child process of tests/test_speed.py: one epoch on one device and on two replicas.

TensorFlow fixes its devices when it first uses them, so the CPU is split
into two logical devices here, in a fresh process, before anything else.
Prints one JSON line: for each batch layout, the largest absolute difference
between the weights after single-device training and after MirroredStrategy
training from the same initial weights, on the same global batches.
"""

import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

_cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(_cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

from tensorflow import keras  # noqa: E402

from resnet.book.small import small_resnet  # noqa: E402
from resnet.preprocessing import scale_to_unit  # noqa: E402
from resnet.train import data, speed, training  # noqa: E402

SIZE, GLOBAL_BATCH, IMAGES = 16, 64, 256


def tiny_resnet():
    """A stem, a convolutional block and an identity block: (B, 16, 16, 1) -> (B, 10)."""
    return small_resnet(input_shape=(SIZE, SIZE, 1), width=8, bn_momentum=0.99)


def batches(images, labels, duplicated):
    """Global batches of 64; with ``duplicated``, each is 32 images twice.

    MirroredStrategy gives each replica one half of every global batch. When
    the halves are the same images, each replica's BatchNormalization sees the
    same mean and variance as the whole batch does on one device, so the two
    trainings compute the same function and may differ only by rounding.
    """
    if duplicated:
        half = GLOBAL_BATCH // 2
        images = images.reshape(-1, 1, half, SIZE, SIZE, 1).repeat(2, axis=1)
        labels = labels.reshape(-1, 1, half).repeat(2, axis=1)
    return tf.data.Dataset.from_tensor_slices(
        (images.reshape(-1, SIZE, SIZE, 1), labels.reshape(-1))
    ).batch(GLOBAL_BATCH)


def main():
    train = data.digits(image_size=SIZE).arrays["train"]
    images = tf.image.resize(scale_to_unit(train.images[:IMAGES]),
                             (SIZE, SIZE)).numpy()
    labels = train.labels[:IMAGES]
    # Strategies are made once: two MirroredStrategy objects in one process can
    # mix up their collective operations.
    one = tf.distribute.OneDeviceStrategy("/cpu:0")
    two = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    result = {"replicas": two.num_replicas_in_sync}
    for duplicated in (True, False):
        weights = []
        for strategy in (one, two):
            model, _ = training.train(
                tiny_resnet, batches(images, labels, duplicated), strategy=strategy,
                speed_choice=speed.SpeedChoice("float32", False, {}, "float32, XLA off"),
                optimizer=lambda: keras.optimizers.SGD(0.01),
            )
            weights.append(model.get_weights())
        result["duplicated" if duplicated else "distinct"] = max(
            float(np.max(np.abs(a - b))) for a, b in zip(*weights, strict=True)
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
