"""Devices, precision and distribution: where and in what dtype training computes.

    >>> from resnet import speed
    >>> speed.resolve_precision("auto") in speed.PRECISIONS
    True

``resnet.training.train`` builds and compiles a model inside a ``tf.distribute``
strategy's scope, under a precision policy, with or without XLA; this module
answers the questions behind its switches:

    strategy         None: what the machine offers (``default_strategy``):
                     ``MirroredStrategy`` over all local GPUs when there are
                     several, the one GPU, or the CPU. For several machines
                     use ``tf.distribute.MultiWorkerMirroredStrategy`` (every
                     worker runs the same script with its TF_CONFIG); on a
                     Colab TPU, ``tf.distribute.TPUStrategy``.
    mixed_precision  "auto": ``mixed_float16`` where a GPU is present, float32
                     on a CPU (where float16 was measured to be slower).
                     Layers compute in float16 and keep float32 weights; the
                     classifier computes and outputs float32, and Keras scales
                     the loss so that float16 gradients do not underflow.
    jit_compile      "auto": XLA on GPUs (Keras' own default); on a CPU,
                     measured (``resnet.training.choose_jit_compile``): it
                     made ResNet50 training at 32x32 2.3x faster on an
                     AVX2-only EPYC and 4 to 6 times slower on an AVX-512 EPYC.

The input pipeline is the third part of the fast path: ``resnet.data``'s
pipelines cache the decoded images, map in parallel and prefetch, so the
accelerator never waits for the next batch. ``benchmarks/benchmark.py``
measures every switch on the machine it runs on.
"""

import contextlib

import tensorflow as tf
from tensorflow import keras

PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")


def gpus():
    """The local GPUs TensorFlow sees (a list of PhysicalDevice; empty on a CPU)."""
    return tf.config.list_physical_devices("GPU")


def device_name():
    """A short description of where TensorFlow computes: the GPU's name or 'CPU'."""
    found = gpus()
    if not found:
        return "CPU"
    details = tf.config.experimental.get_device_details(found[0])
    name = details.get("device_name", "GPU")
    return f"{len(found)} x {name}" if len(found) > 1 else name


def default_strategy():
    """The distribution strategy for this machine.

    Returns:
        ``MirroredStrategy`` over every local GPU when there are several (one
        replica per GPU, gradients summed by all-reduce), ``OneDeviceStrategy``
        on the only GPU, and otherwise TensorFlow's default strategy (the CPU:
        its two or more cores are already used by every op, so one replica).
    """
    found = gpus()
    if len(found) > 1:
        return tf.distribute.MirroredStrategy()
    if found:
        return tf.distribute.OneDeviceStrategy("/gpu:0")
    return tf.distribute.get_strategy()


def resolve_precision(mixed_precision="auto"):
    """The Keras dtype policy name for the ``mixed_precision`` switch.

    Args:
        mixed_precision: "auto" (``mixed_float16`` on a GPU, else float32),
            True (``mixed_float16``), False or None (float32), or a policy name
            from PRECISIONS (``mixed_bfloat16`` suits TPUs and recent GPUs).

    Returns:
        One of PRECISIONS.
    """
    if mixed_precision == "auto":
        return "mixed_float16" if gpus() else "float32"
    if mixed_precision is True:
        return "mixed_float16"
    if mixed_precision is False or mixed_precision is None:
        return "float32"
    if mixed_precision in PRECISIONS:
        return mixed_precision
    raise ValueError(
        f"`mixed_precision` must be 'auto', True, False or one of {PRECISIONS}, "
        f"got {mixed_precision!r}."
    )


@contextlib.contextmanager
def precision_policy(mixed_precision):
    """Set Keras' global dtype policy inside a ``with`` block, and restore it after.

        with speed.precision_policy("mixed_float16"):
            model = resnet.ResNet50()   # layers compute in float16

    Models must be built inside the block: a layer takes the policy in force
    when it is created.

    Args:
        mixed_precision: see ``resolve_precision``.
    """
    name = resolve_precision(mixed_precision)
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(name)
    try:
        yield name
    finally:
        keras.mixed_precision.set_global_policy(previous)
