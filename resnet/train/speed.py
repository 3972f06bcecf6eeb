"""Devices, precision and distribution: where and in what dtype training computes.

    >>> from resnet.train import speed
    >>> speed.resolve_precision("auto") in speed.PRECISIONS
    True
    >>> speed.has_bfloat16() in (True, False)
    True
    >>> speed.cpu_description()  # doctest: +SKIP
    'AMD EPYC 9B14 (AVX-512, AVX512-BF16, 2 cores)'

``resnet.train.training.train`` builds and compiles a model inside a ``tf.distribute``
strategy's scope, under a precision policy, with or without XLA; this module
answers the questions behind its switches:

    strategy         None: what the machine offers (``default_strategy``):
                     ``MirroredStrategy`` over all local GPUs when there are
                     several, the one GPU, or the CPU. For several machines
                     use ``tf.distribute.MultiWorkerMirroredStrategy`` (every
                     worker runs the same script with its TF_CONFIG); on a
                     Colab TPU, ``tf.distribute.TPUStrategy``.
    mixed_precision  "auto": ``mixed_float16`` where a GPU is present; on a CPU
                     float32 (float16 was measured slower), or ``mixed_bfloat16``
                     where the CPU has AVX512-BF16 or AMX and training measured
                     faster in it (``choose_speed``, with XLA: 1.35x on an Intel
                     Xeon with AMX). Layers compute in 16 bits and keep float32
                     weights; the classifier computes and outputs float32, and
                     Keras scales the loss so that float16 gradients do not
                     underflow.
    jit_compile      "auto": XLA on GPUs (Keras' own default); on a CPU,
                     measured (``resnet.train.speed.choose_jit_compile``): with
                     it ResNet50 trained at 32x32 2.3x as fast on an AVX2-only
                     EPYC, 0.25-0.27x as fast on an AVX-512 EPYC and 0.54x
                     on an Intel Xeon with AMX.
    the CPU          ``cpu_description()`` names it and the vector extensions
                     that decide these figures (AVX2, AVX-512, AVX512-BF16,
                     AMX), for every figure measured on a CPU.

The input pipeline is the third part of the fast path: ``resnet.train.data``'s
pipelines cache the decoded images, map in parallel and prefetch, so the
accelerator never waits for the next batch. ``benchmarks/benchmark.py``
measures every switch on the machine it runs on.
"""

import contextlib
import json
import os
import platform
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np
import tensorflow as tf
from tensorflow import keras

from ..validation import InvalidParameterError

PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")
# A measured candidate replaces the default (float32, XLA off) only when it trains at least
# this much faster. A few timed steps misjudge a near tie: on an AMD EPYC (AVX2, 2 cores),
# ResNet50 at 64x64, batch 32, timed 8.8 images/s without XLA and 8.9 with it (+1%), yet
# trained at 8.5 and 7.8 in fit (-8%). XLA's gains where it pays, 2.3x, and bfloat16's on
# AMX, 1.35x, are far beyond the margin.
SWITCH_MARGIN = 0.10


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


class CpuInfo(NamedTuple):
    """What ``/proc/cpuinfo`` says about the CPU (``cpu_info``).

    name: the model name. cores: the logical cores this process may use. mhz:
    the first core's clock (None where unknown). flags: the CPU's feature flags
    as the kernel names them ("avx2", "avx512f", "avx512_bf16", "amx_tile", ...).
    """

    name: str
    cores: int
    mhz: float | None
    flags: frozenset


def cpu_info(path="/proc/cpuinfo"):
    """The CPU's model name, usable cores, clock and flags; the one reader of ``/proc/cpuinfo``.

    Where the file is missing (not Linux), the name is Python's ``platform``'s
    and the clock and flags are unknown.
    """
    name, mhz, flags = platform.processor() or platform.machine(), None, frozenset()
    try:
        with open(path) as f:
            for line in f:
                if not line.strip():
                    break  # the first processor's block is enough
                key, _, value = (part.strip() for part in line.partition(":"))
                if key == "model name":
                    name = value
                elif key == "cpu MHz":
                    mhz = float(value)
                elif key == "flags":
                    flags = frozenset(value.split())
    except (OSError, ValueError):
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return CpuInfo(name, cores, mhz, flags)


def cpu_features(flags):
    """The vector and matrix extensions that decide this book's CPU figures, by name.

    >>> cpu_features({"avx2", "fma"})
    ['AVX2']
    >>> cpu_features({"avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile"})
    ['AVX-512', 'AVX512-BF16', 'AMX']
    """
    features = ["AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"]
    if "avx512_bf16" in flags:
        features.append("AVX512-BF16")
    if {"amx_bf16", "amx_tile"} & set(flags):
        features.append("AMX")
    return features


def cpu_description(info=None):
    """The CPU's model name, its extensions (``cpu_features``) and its usable cores.

    Args:
        info: a ``CpuInfo`` (default: ``cpu_info()``, this machine's).

    >>> cpu_description(CpuInfo("AMD EPYC", 2, None, frozenset({"avx2", "fma"})))
    'AMD EPYC (AVX2, 2 cores)'
    """
    info = info if info is not None else cpu_info()
    return f"{info.name} ({', '.join(cpu_features(info.flags))}, {info.cores} cores)"


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
        mixed_precision: "auto" (``mixed_float16`` on a GPU, else float32, the
            policy to start from: ``training.train`` times ``mixed_bfloat16``
            against it where the CPU has bfloat16 arithmetic, ``choose_speed``),
            True (``mixed_float16``), False or None (float32), or a policy name
            from PRECISIONS (``mixed_bfloat16`` suits TPUs, recent GPUs and CPUs
            with AMX).

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
    raise InvalidParameterError(
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


# ---------------------------------------------------------------------------
# Precision and XLA, decided by measuring this machine
# ---------------------------------------------------------------------------


class XlaChoice(NamedTuple):
    """The outcome of ``choose_jit_compile``.

    jit_compile: the decision. rates: training images/s measured without and
    with XLA ({"off": ..., "on": ...}; empty when nothing was measured).
    reason: one line that says what was decided and why.
    """

    jit_compile: bool
    rates: dict
    reason: str

    def __str__(self):
        return self.reason


class SpeedChoice(NamedTuple):
    """The outcome of ``choose_speed``: a precision and XLA, decided together.

    mixed_precision: the policy chosen, one of PRECISIONS. jit_compile: XLA on or
    off. rates: training images/s per policy, each {"off": ..., "on": ...} (only
    the XLA settings that were candidates; empty on a GPU). reason: one line that
    says what was decided and why.
    """

    mixed_precision: str
    jit_compile: bool
    rates: dict
    reason: str

    def __str__(self):
        return self.reason


def has_bfloat16(flags=None):
    """Whether the CPU computes in bfloat16 itself (AVX512-BF16 or AMX), from its flags.

    Elsewhere ``mixed_bfloat16`` converts to and from float32 around every layer and
    was measured slower (0.28x of float32 on an AVX2-only EPYC).

    >>> has_bfloat16({"avx2", "avx512f", "avx512_bf16"}), has_bfloat16({"avx2", "fma"})
    (True, False)
    """
    flags = cpu_info().flags if flags is None else flags
    return bool({"avx512_bf16", "amx_bf16"} & set(flags))


def _cache_path():
    root = os.environ.get("RESNET_CACHE_DIR") or Path.home() / ".cache" / "resnet-from-scratch"
    return Path(root) / "xla_choice.json"


def _time_steps(model, x, y, steps):
    """Images per second of the fastest of ``steps`` training steps.

    The fastest step, not the mean: a step that shared the cores with another
    process is slower, never faster, so the minimum is the least disturbed
    figure. (Measured on an AMD EPYC, AVX2, 2 cores: the mean of 3 steps, taken
    while other training runs shared the cores, gave 3.95 images/s without XLA
    and 3.66 with it and cached the wrong choice, XLA off; the same machine idle
    gave 10.9 and 33.5.)
    """
    model.train_on_batch(x, y)  # the first step traces (and, with XLA, compiles)
    model.train_on_batch(x, y)
    fastest = float("inf")
    for _ in range(steps):
        start = time.perf_counter()
        model.train_on_batch(x, y)
        fastest = min(fastest, time.perf_counter() - start)
    return len(x) / fastest


def _training_rates(build_model, batch_shape, labels, *, classes, steps, cache):
    """{label: images/s} of training under the global policy, for XLA "off" and/or "on".

    Returns:
        (rates, measured): the figures, and "measured now, ..." or "measured earlier
        on this machine" (every label found in the cache).
    """
    probe = build_model()
    classes = classes or int(probe.output_shape[-1])
    key = (f"{cpu_description()} | TF {tf.__version__} | {probe.name} {probe.count_params()} "
           f"params | batch {batch_shape} | {keras.mixed_precision.global_policy().name} | "
           "fastest step")  # the method too: an entry timed otherwise is not reused
    path = _cache_path()
    stored = {}
    if cache and path.exists():
        try:
            stored = json.loads(path.read_text())
        except (OSError, ValueError):
            stored = {}
    known = stored.get(key, {})
    if all(label in known for label in labels):
        return {label: known[label] for label in labels}, "measured earlier on this machine"
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, size=batch_shape).astype("float32")
    y = rng.integers(0, classes, size=batch_shape[0]).astype("int32")
    rates = {}
    for label in labels:
        model = probe if not rates else build_model()
        model.compile(optimizer=keras.optimizers.SGD(1e-3),
                      loss="sparse_categorical_crossentropy", jit_compile=label == "on")
        rates[label] = round(_time_steps(model, x, y, steps), 2)
    if cache:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({**stored, key: {**known, **rates}}, indent=1))
        except OSError:
            pass  # a read-only home: measure again next time
    return rates, f"measured now, {steps} steps each"


def choose_speed(build_model, batch_shape, *, precisions=None, jit_compile="auto",
                 classes=None, steps=3, cache=True):
    """Decide the precision and XLA together, by timing training on this machine.

    On a GPU: ``mixed_float16`` (the first of ``precisions`` when it is given) and
    XLA, Keras' own default there. On a CPU no fixed answer is right (see
    ``choose_jit_compile`` for XLA; ``mixed_bfloat16`` trained ResNet50 1.35x as fast
    as float32 on an Intel Xeon with AMX and 0.28x as fast on an AVX2-only EPYC), so
    this times every candidate, each policy with and without XLA (the two interact:
    XLA compiles the bfloat16 casts into its own code), and keeps the fastest if it is
    ``SWITCH_MARGIN`` (10%) faster than the first policy without XLA, else that one.

    Args:
        build_model: a function of no arguments returning an uncompiled model
            (called under each policy, once per XLA setting; the models are
            thrown away).
        batch_shape: (batch, height, width, channels) of a training batch.
        precisions: the candidate policies from PRECISIONS (default: float32, and
            ``mixed_bfloat16`` too where the CPU has AVX512-BF16 or AMX,
            ``has_bfloat16``).
        jit_compile: "auto" (time XLA on and off) or a bool (only that).
        classes, steps, cache: as for ``choose_jit_compile``; each policy is a
            cache entry of its own.

    Returns:
        A ``SpeedChoice``; print it to say what was chosen and why.
    """
    if precisions is None:
        precisions = ("float32", "mixed_bfloat16") if has_bfloat16() else ("float32",)
    precisions = tuple(precisions)
    if not precisions or any(p not in PRECISIONS for p in precisions):
        raise InvalidParameterError(
            f"`precisions` must be one or more of {PRECISIONS}, got {precisions!r}.")
    if jit_compile not in ("auto", True, False):
        raise InvalidParameterError(
            f"`jit_compile` must be 'auto', True or False, got {jit_compile!r}.")
    if gpus():
        policy = "mixed_float16" if "mixed_float16" in precisions else precisions[0]
        jit = jit_compile is not False
        return SpeedChoice(policy, jit, {}, f"{policy}, XLA {'on' if jit else 'off'}: a GPU "
                                            f"({device_name()}), not measured")
    labels = ("off", "on") if jit_compile == "auto" else ("on" if jit_compile else "off",)
    batch_shape = tuple(int(n) for n in batch_shape)
    rates, measured = {}, set()
    for policy in precisions:
        with precision_policy(policy):
            rates[policy], how = _training_rates(build_model, batch_shape, labels,
                                                 classes=classes, steps=steps, cache=cache)
        measured.add(how)
    default = (precisions[0], labels[0])  # the first policy, XLA off where that is a candidate
    policy, label = max(((p, label) for p in precisions for label in labels),
                        key=lambda pl: rates[pl[0]][pl[1]])
    rate, base = rates[policy][label], rates[default[0]][default[1]]
    kept = (policy, label) != default and rate < base * (1 + SWITCH_MARGIN)
    if kept:
        policy, label = default
    margin = (f"; {rate / base - 1:+.0%} is within the {SWITCH_MARGIN:.0%} that a change needs"
              if kept else "")
    cpu = f"on this CPU ({cpu_description()}; {'; '.join(sorted(measured))}{margin})"
    if len(precisions) == 1 and labels == ("off", "on"):  # XLA alone: choose_jit_compile's line
        reason = (f"XLA {label}: training ran at {rates[policy]['off']:.1f} images/s without "
                  f"XLA and {rates[policy]['on']:.1f} with it {cpu}")
    else:
        figures = ", ".join(f"{rates[p][lab]:.1f} images/s in {p} with XLA {lab}"
                            for p in precisions for lab in labels)
        reason = f"{policy}, XLA {label}: training ran at {figures} {cpu}"
    return SpeedChoice(policy, label == "on", rates, reason)


def choose_jit_compile(build_model, batch_shape, *, classes=None, steps=3, cache=True):
    """Decide whether XLA (``jit_compile=True``) makes training faster on this machine.

    On a GPU the answer is yes (Keras' own default there). On a CPU no fixed
    answer is right: on an AVX2-only EPYC, XLA made ResNet50 training at 32x32
    2.3 times faster (TensorFlow's own ``Conv2DBackpropInput`` kernel is 15-100x
    slow there on the 1x1 maps of the last stage), while on an AVX-512 EPYC it
    made the same training run at 0.25-0.27x the speed (about four times slower),
    and at 0.54x on an Intel Xeon with AMX. So this times ``steps`` training
    steps of the model with and without XLA, on random data of the batch's
    shape, under the precision policy in force, and turns XLA on if its fastest
    step is ``SWITCH_MARGIN`` (10%) faster (``choose_speed`` with that one policy).

    Args:
        build_model: a function of no arguments returning an uncompiled model
            (called twice; the models are thrown away).
        batch_shape: (batch, height, width, channels) of a training batch.
        classes: the number of classes (default: the model's output width).
        steps: timed steps of each; two more, untimed, trace and compile first.
        cache: reuse a decision measured earlier on this CPU with the same
            model, batch, policy and TensorFlow version (stored in
            ``~/.cache/resnet-from-scratch/xla_choice.json``, or under
            ``$RESNET_CACHE_DIR``). Measuring takes about a minute on two cores.

    Returns:
        An ``XlaChoice``; print it to say what was chosen and why.
    """
    if gpus():
        return XlaChoice(True, {}, f"XLA on: a GPU ({device_name()}), where Keras "
                                   "compiles with XLA by default")
    policy = keras.mixed_precision.global_policy().name
    choice = choose_speed(build_model, batch_shape, precisions=(policy,), classes=classes,
                          steps=steps, cache=cache)
    return XlaChoice(choice.jit_compile, choice.rates[policy], choice.reason)


def resolve_jit_compile(jit_compile, build_model=None, batch_shape=None):
    """``jit_compile`` as a bool: "auto" measures (``choose_jit_compile``), a bool stays.

    Returns:
        (jit_compile, reason): the decision and a line that says why.
    """
    if isinstance(jit_compile, bool):
        return jit_compile, f"XLA {'on' if jit_compile else 'off'}: as asked (jit_compile=" \
                            f"{jit_compile})"
    if jit_compile != "auto":
        raise InvalidParameterError(
            f"`jit_compile` must be 'auto', True or False, got {jit_compile!r}.")
    if build_model is None or batch_shape is None:
        on = bool(gpus())
        return on, f"XLA {'on' if on else 'off'}: {'a GPU' if on else 'a CPU, not measured'}"
    choice = choose_jit_compile(build_model, batch_shape)
    return choice.jit_compile, choice.reason
