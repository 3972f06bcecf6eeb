"""Training fast and on more than one device: mixed precision, XLA and tf.distribute.

    >>> from resnet import data, speed
    >>> digits = data.digits(image_size=32, channels=3)
    >>> model, history = speed.train(
    ...     lambda: resnet.ResNet50(digits.input_shape, classes=10, bn_momentum=0.9),
    ...     digits.train, validation_data=digits.val, epochs=8)

``train`` builds and compiles the model inside a ``tf.distribute`` strategy's
scope, under the chosen precision policy, then fits it. Its switches:

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
    jit_compile      "auto": XLA on GPUs (Keras' own default), never on a CPU,
                     where it made ResNet50 training about 8 times slower.

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


def resolve_jit_compile(jit_compile="auto"):
    """Whether to compile with XLA: "auto" means on a GPU, never on a CPU."""
    if jit_compile == "auto":
        return bool(gpus())
    if isinstance(jit_compile, bool):
        return jit_compile
    raise ValueError(f"`jit_compile` must be 'auto', True or False, got {jit_compile!r}.")


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


def train(
    build_model,
    train_data,
    *,
    epochs=1,
    validation_data=None,
    strategy=None,
    mixed_precision="auto",
    jit_compile="auto",
    optimizer=None,
    loss="sparse_categorical_crossentropy",
    callbacks=None,
    verbose=0,
):
    """Build, compile and fit a model with the fast-path and distribution switches.

    Args:
        build_model: a function of no arguments that returns an uncompiled
            Keras model (e.g. ``lambda: resnet.ResNet50((32, 32, 3), 10)``);
            it is called inside the strategy's scope and the precision policy,
            which is why ``train`` takes a builder rather than a model.
        train_data: a ``tf.data.Dataset`` of (images, labels) batches; each
            batch is the global batch, split evenly between the replicas.
        epochs: passes over ``train_data``.
        validation_data: an optional dataset evaluated after each epoch.
        strategy: a ``tf.distribute.Strategy``; None means ``default_strategy()``.
        mixed_precision: see ``resolve_precision``.
        jit_compile: see ``resolve_jit_compile``.
        optimizer: a function of no arguments returning a Keras optimizer
            (created inside the strategy's scope); None means Adam(1e-3).
        loss: the loss (the labels are integer classes by default).
        callbacks: Keras callbacks for ``fit``.
        verbose: ``fit``'s verbosity.

    Returns:
        (model, history): the trained model and ``fit``'s History.
    """
    if isinstance(build_model, keras.layers.Layer) or not callable(build_model):
        raise ValueError(
            "`build_model` must be a function that returns a new model (e.g. "
            f"`lambda: resnet.ResNet50()`), got {type(build_model).__name__}."
        )
    if optimizer is not None and not callable(optimizer):
        raise ValueError(
            "`optimizer` must be a function that returns a new optimizer (e.g. "
            f"`lambda: keras.optimizers.SGD(0.1)`), got {type(optimizer).__name__}."
        )
    strategy = strategy if strategy is not None else default_strategy()
    policy = resolve_precision(mixed_precision)
    with precision_policy(policy), strategy.scope():
        model = build_model()
        if policy != "float32" and model.output.dtype != "float32":
            raise ValueError(
                f"Under `mixed_precision` {policy!r} the model's output must be float32 "
                f"(a float16 softmax loses precision), got {model.output.dtype}: give the "
                "last layer dtype='float32'."
            )
        model.compile(
            optimizer=optimizer() if optimizer else keras.optimizers.Adam(1e-3),
            loss=loss,
            metrics=["accuracy"],
            jit_compile=resolve_jit_compile(jit_compile),
        )
    history = model.fit(train_data, epochs=epochs, validation_data=validation_data,
                        callbacks=callbacks, verbose=verbose)
    return model, history
