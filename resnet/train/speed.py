"""Devices, precision and distribution: where and in what dtype training computes.

    >>> from resnet.train import speed
    >>> speed.resolve_precision("auto") in speed.PRECISIONS
    True
    >>> speed.has_bfloat16() in (True, False)
    True
    >>> speed.cpu_description()  # doctest: +SKIP
    'AMD EPYC (family 26, model 2; AVX-512, AVX512-BF16; 2 cores)'

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
                     faster in it (``choose_speed``; ``benchmarks/benchmark.py``
                     measured 1.35x on an Intel Xeon with AMX, XLA off). Layers
                     compute in 16 bits and keep float32 weights; the classifier
                     computes and outputs float32, and Keras scales the loss so
                     that float16 gradients do not underflow.
    jit_compile      "auto": XLA on GPUs (Keras' own default); on a CPU,
                     measured (``choose_speed``): with
                     it ResNet50 trained at 32x32 2.3x as fast on an AVX2-only
                     EPYC, 0.17-0.27x as fast on an AVX-512 EPYC and 0.54x
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
# this much faster. A few timed steps misjudge a near tie: on an AMD EPYC, AVX2 only
# (family 23, model 1; 2 cores), ResNet50 at 64x64, batch 32, timed 8.8 images/s without
# XLA and 8.9 with it (+1%), yet trained at 8.5 and 7.8 in fit (-8%). XLA's gains where it
# pays, 2.3x, and bfloat16's on AMX, 1.35x, are far beyond the margin.
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
    vendor: "AuthenticAMD", "GenuineIntel", ... family, model: the numbers ``lscpu``
    prints as "CPU family" and "Model" (None where unknown): a virtual machine's model
    name often says only "AMD EPYC", and these tell its generations apart (AMD family
    23 is Zen 1 and 2, 25 Zen 3 and 4, 26 Zen 5).
    """

    name: str
    cores: int
    mhz: float | None
    flags: frozenset
    vendor: str = ""
    family: int | None = None
    model: int | None = None


def cpu_info(path="/proc/cpuinfo"):
    """The CPU's model name, usable cores, clock, flags, vendor, family and model; the one
    reader of ``/proc/cpuinfo``.

    Where the file is missing (not Linux), the name is Python's ``platform``'s
    and the rest is unknown.
    """
    name, mhz, flags = platform.processor() or platform.machine(), None, frozenset()
    vendor, family, model = "", None, None
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
                elif key == "vendor_id":
                    vendor = value
                elif key == "cpu family":
                    family = int(value)
                elif key == "model":
                    model = int(value)
    except (OSError, ValueError):
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return CpuInfo(name, cores, mhz, flags, vendor, family, model)


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
    """The CPU in one line: its model name, family and model, extensions, usable cores.

    The one description of a CPU in this book: every figure measured on a CPU names it
    so.

    Args:
        info: a ``CpuInfo`` (default: ``cpu_info()``, this machine's).

    >>> cpu_description(CpuInfo("AMD EPYC", 2, None, frozenset({"avx2", "fma"}), "", 23, 1))
    'AMD EPYC (family 23, model 1; AVX2; 2 cores)'
    """
    info = info if info is not None else cpu_info()
    family = "" if info.family is None else f"family {info.family}, model {info.model}; "
    cores = f"{info.cores} core{'s' if info.cores != 1 else ''}"
    return f"{info.name} ({family}{', '.join(cpu_features(info.flags))}; {cores})"


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
# Precision and XLA, decided together by measuring this machine
# ---------------------------------------------------------------------------


class SpeedChoice(NamedTuple):
    """The outcome of ``choose_speed``: a precision policy and XLA, decided together.

    mixed_precision: the policy chosen, one of PRECISIONS. jit_compile: XLA on or
    off. rates: training images/s per policy timed, each {"off": ..., "on": ...}
    (only the XLA settings that were candidates; empty when nothing was timed).
    reason: one line, "POLICY, XLA on|off: WHY", worded alike on every branch.
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


def training_rate(build_model, batch_shape, mixed_precision, jit_compile, *, classes=None,
                  steps=3):
    """Training images/s of a new model from ``build_model`` on random data of ``batch_shape``,
    under ``mixed_precision``, with XLA or without: the fastest of ``steps`` timed steps (two
    more, untimed, trace and compile first). What ``choose_speed`` measures by default."""
    with precision_policy(mixed_precision):
        model = build_model()
    classes = classes or int(model.output_shape[-1])
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, size=batch_shape).astype("float32")
    y = rng.integers(0, classes, size=batch_shape[0]).astype("int32")
    model.compile(optimizer=keras.optimizers.SGD(1e-3), loss="sparse_categorical_crossentropy",
                  jit_compile=jit_compile)
    return _time_steps(model, x, y, steps)


XLA_CHOICES = ("auto", "on", "off")


def parse_xla(value, name="--xla"):
    """The ``jit_compile`` switch for a command line's XLA option: "auto" -> "auto",
    "on" -> True, "off" -> False (``XLA_CHOICES``, for argparse's ``choices=``).

    >>> parse_xla("on"), parse_xla("off"), parse_xla("auto")
    (True, False, 'auto')

    Raises:
        ValueError: another value; the message names ``name`` and the allowed values.
    """
    choices = {"auto": "auto", "on": True, "off": False}
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(XLA_CHOICES)}, got {value!r}.")
    return choices[value]


def _read_cache(path):
    """The figures stored at ``path``, or {} where it is missing or unreadable."""
    try:
        return json.loads(path.read_text()) if path.exists() else {}
    except (OSError, ValueError):
        return {}


def _cached_rates(key, candidates, measure):
    """{(policy, "off"|"on"): images/s} for every candidate, from the cache or ``measure``,
    which stores what it measures under ``key``.

    Returns:
        (rates, how): the figures, and "measured now" or "measured earlier on this
        machine" (every candidate found in the cache).
    """
    path = _cache_path()
    stored = _read_cache(path)
    known = {(policy, label): stored.get(f"{key} | {policy}", {}).get(label)
             for policy, label in candidates}
    if all(rate is not None for rate in known.values()):
        return known, "measured earlier on this machine"
    rates = _measured_rates(candidates, measure)
    for (policy, label), rate in rates.items():
        stored.setdefault(f"{key} | {policy}", {})[label] = rate
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(stored, indent=1))
    except OSError:
        pass  # a read-only home: measure again next time
    return rates, "measured now"


def _measured_rates(candidates, measure):
    """{(policy, "off"|"on"): images/s} for every candidate, from ``measure`` now."""
    return {(policy, label): round(float(measure(policy, label == "on")), 2)
            for policy, label in candidates}


def _rates(build_model, batch_shape, candidates, cpu, measure):
    """The candidates' images/s and how they were found: a caller's ``measure`` runs now,
    every time; the default (``training_rate``) is cached, keyed by the CPU, TensorFlow,
    the model's name and size and the batch shape."""
    if measure is not None:
        return _measured_rates(candidates, measure), "measured now"
    batch_shape = tuple(int(n) for n in batch_shape)
    probe = build_model()
    key = (f"{cpu_description(cpu)} | TF {tf.__version__} | {probe.name} "
           f"{probe.count_params()} params | batch {batch_shape} | fastest step")
    del probe

    def default_measure(policy, jit):
        return training_rate(build_model, batch_shape, policy, jit)

    return _cached_rates(key, candidates, default_measure)


def _check_jit_compile(jit_compile):
    if jit_compile not in ("auto", True, False) or not isinstance(jit_compile, (str, bool)):
        raise InvalidParameterError(
            f"`jit_compile` must be 'auto', True or False, got {jit_compile!r}.")


def _on_gpu(fixed, jit_compile, gpu):
    """The choice on a GPU: ``mixed_float16`` (or the policy asked for) and XLA unless
    switched off, not measured."""
    policy, jit = fixed or "mixed_float16", jit_compile is not False
    return SpeedChoice(policy, jit, {}, f"{policy}, XLA {'on' if jit else 'off'}: a GPU "
                                        f"({gpu}), where these are Keras' fast defaults; "
                                        "not measured")


def _candidates(fixed, jit_compile, bfloat16):
    """The (policy, "off"|"on") pairs to time on a CPU, float32 (or ``fixed``) without
    XLA first where it is one: ``bfloat16`` says whether ``mixed_bfloat16`` may be tried."""
    if fixed:
        precisions = (fixed,)
    elif bfloat16:
        precisions = ("float32", "mixed_bfloat16")
    else:
        precisions = ("float32",)
    labels = ("off", "on") if jit_compile == "auto" else ("on" if jit_compile else "off",)
    return [(policy, label) for policy in precisions for label in labels]


def _unmeasured(default, why):
    """The choice of ``default`` (float32, or the policy asked for; XLA off where a
    candidate), not timed, and why."""
    return SpeedChoice(default[0], default[1] == "on", {},
                       f"{default[0]}, XLA {default[1]}: {why}")


def _only_candidate(default, mixed_precision, jit_compile, where):
    asked = ", ".join(
        [f"mixed_precision={mixed_precision!r}"] * (mixed_precision != "auto")
        + [f"jit_compile={jit_compile!r}"] * (jit_compile != "auto"))
    return _unmeasured(default, f"the only candidate {where} ({asked or 'no bfloat16'}); "
                                "not measured")


def _measured(best, candidates, found, reason):
    """The ``SpeedChoice`` of ``best``, its rates by policy and its reason line: every
    candidate's figure, then ``reason`` (where, how measured, the margin)."""
    figures = ", ".join(f"{found[(p, lab)]:.1f} images/s in {p} with XLA {lab}"
                        for p, lab in candidates)
    rates = {}
    for (policy, label), value in found.items():
        rates.setdefault(policy, {})[label] = value
    return SpeedChoice(best[0], best[1] == "on", rates,
                       f"{best[0]}, XLA {best[1]}: training ran at {figures}, {reason}")


def choose_speed(build_model=None, batch_shape=None, *, mixed_precision="auto",
                 jit_compile="auto", try_bfloat16=True, cpu=None, gpu="auto", measure=None):
    """Decide the precision policy and XLA for training a model, on this machine.

    The one place where training's speed switches are decided; ``training.train``,
    the recipes, ``python -m resnet train`` and the benchmark all take its answer.

    - On a GPU: ``mixed_float16`` and XLA (Keras' own default there), not measured.
    - On a CPU no fixed answer is right: XLA made ResNet50's training at 32x32 2.3x as
      fast on an AVX2-only EPYC and 0.17-0.27x as fast on an AVX-512 EPYC; ``mixed_bfloat16``
      1.35x on an Intel Xeon with AMX and 0.28x on the AVX2 EPYC, which converts every
      layer. So every candidate is timed: float32, and ``mixed_bfloat16`` where the CPU
      computes in bfloat16 (``has_bfloat16``), each with and without XLA (the two
      interact). The fastest wins if it is ``SWITCH_MARGIN`` (10%) faster than float32
      without XLA; otherwise that stays.
    - A switch given as a value (``jit_compile=False``, ``mixed_precision="float32"``)
      is not a candidate but a fact; with one candidate left nothing is timed.

    Args:
        build_model: a function of no arguments returning an uncompiled model.
        batch_shape: (batch, height, width, channels) of a training batch. Without it,
            or without ``build_model``, nothing can be timed: float32, XLA off.
        mixed_precision: "auto", or a fixed policy (see ``resolve_precision``).
        jit_compile: "auto", True or False (``parse_xla`` reads a command line's).
        try_bfloat16: whether "auto" may choose ``mixed_bfloat16`` on a CPU.
        cpu: the CPU's ``CpuInfo`` (default: ``cpu_info()``, this machine's).
        gpu: "auto" (this machine's, ``device_name()``), None (no GPU) or a GPU's name.
        measure: a function (policy, jit_compile) -> images/s, called for every
            candidate and never cached. Default: ``training_rate`` on a new model from
            ``build_model`` (its classes read from the model), cached in
            ``$RESNET_CACHE_DIR`` or ``~/.cache/resnet-from-scratch/xla_choice.json``
            per CPU, TensorFlow, model and batch shape (ResNet50 takes about a minute).

    Returns:
        A ``SpeedChoice``; print it to say what was chosen and why.
    """
    _check_jit_compile(jit_compile)
    fixed = None if mixed_precision == "auto" else resolve_precision(mixed_precision)
    gpu = (device_name() if gpus() else None) if gpu == "auto" else gpu
    if gpu:
        return _on_gpu(fixed, jit_compile, gpu)
    cpu = cpu if cpu is not None else cpu_info()
    candidates = _candidates(fixed, jit_compile, try_bfloat16 and has_bfloat16(cpu.flags))
    default, where = candidates[0], f"on this CPU ({cpu_description(cpu)})"
    if len(candidates) == 1:
        return _only_candidate(default, mixed_precision, jit_compile, where)
    if build_model is None or batch_shape is None:
        return _unmeasured(default, f"not measured {where} (no model or batch shape to "
                                    "time)")
    found, how = _rates(build_model, batch_shape, candidates, cpu, measure)
    best = max(candidates, key=lambda candidate: found[candidate])
    rate, base = found[best], found[default]
    margin = ""
    if best != default and rate < base * (1 + SWITCH_MARGIN):
        margin = f"; {rate / base - 1:+.0%} is within the {SWITCH_MARGIN:.0%} that a change needs"
        best = default
    return _measured(best, candidates, found, f"{where}; {how}{margin}")
