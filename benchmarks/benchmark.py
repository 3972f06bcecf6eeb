"""Throughput and memory of resnet.ResNet50 against keras.applications.ResNet50.

    python benchmarks/benchmark.py                 # the book's table: 64x64x3, batch 32
    python benchmarks/benchmark.py --quick         # a smoke run (what the tests run)
    python benchmarks/benchmark.py --no-options    # only ours against the reference
    python benchmarks/benchmark.py --no-options --no-memory --tuned   # and tuned, alone

Both networks are built in one process with the same input shape, classes and
batch size, compiled alike (SGD with momentum, no XLA), warmed up, then timed
in turns: each repetition times both, the order alternating, so that a busy
machine slows both alike. The script prints Markdown tables ready to paste:

1. training and inference images/s (medians), the ratio ours / reference
   (the median of the per-repetition ratios), the achieved FLOP/s from the
   counted multiply-accumulates, and the peak memory of a fresh process that
   builds the model and runs its steps;
2. with ``--options`` (the default), the fast-path switches on our network:
   XLA, mixed_float16, mixed_bfloat16, and two input pipelines;
3. with ``--tuned`` (the default), keras.applications used as its documentation
   uses it (``compile`` with Keras' defaults, ``fit`` and ``predict``, float32)
   against ours with every choice this machine makes: the precision and XLA of
   ``resnet.train.speed.choose_speed`` for training, BN folded into the
   convolutions (``resnet.apply.fold.fold_batchnorm``) for inference. It prints
   the CPU, the choices and the ratios of the fastest repetitions.

FLOPs: one multiply-accumulate is 2 FLOPs; a training step costs about three
forward passes, so 6 x MACs per image, inference 2 x MACs. Only Conv2D and
Dense layers are counted (``resnet.book.cost.multiply_accumulates``). The CPU's peak is
estimated as cores x clock x FLOPs per cycle (32 fp32 FLOPs per cycle for two
256-bit FMA units with AVX2, and with AVX-512 on AMD's Zen 4, which runs it on 256-bit
units; 64 with AVX-512 on two 512-bit units, Intel's and Zen 5's); pass --peak-gflops to
override.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _parse(argv):
    from resnet.train.speed import XLA_CHOICES

    parser = argparse.ArgumentParser(
        prog="python benchmarks/benchmark.py",
        description="Measure resnet.ResNet50 against keras.applications.ResNet50.",
    )
    parser.add_argument("--input-shape", type=int, nargs=3, default=[64, 64, 3],
                        metavar=("H", "W", "C"), help="input shape (default: 64 64 3)")
    parser.add_argument("--classes", type=int, default=6, help="classes (default: 6)")
    parser.add_argument("--batch-size", type=int, default=32, help="batch size (default: 32)")
    parser.add_argument("--repeats", type=int, default=5,
                        help="timed repetitions of each model (default: 5)")
    parser.add_argument("--steps", type=int, default=10,
                        help="training steps per repetition; inference runs 3x as many "
                             "batches (default: 10)")
    parser.add_argument("--warmup", type=int, default=2,
                        help="untimed steps before timing (default: 2)")
    parser.add_argument("--options", action=argparse.BooleanOptionalAction, default=None,
                        help="also time the fast-path switches (default: on, off with --quick)")
    parser.add_argument("--memory", action=argparse.BooleanOptionalAction, default=None,
                        help="measure peak memory in fresh processes (default: on, off with "
                             "--quick)")
    parser.add_argument("--tuned", action=argparse.BooleanOptionalAction, default=None,
                        help="also time keras.applications as documented against ours with "
                             "this machine's choices (default: on, off with --quick)")
    parser.add_argument("--jit-compile", choices=XLA_CHOICES, default="auto",
                        help="XLA for the tuned run: measured (auto) or forced")
    parser.add_argument("--mixed-precision", choices=("auto", "float32", "mixed_bfloat16",
                                                      "mixed_float16"), default="auto",
                        help="the precision policy of the tuned run: measured (auto, "
                             "speed.choose_speed) or forced")
    parser.add_argument("--option-repeats", type=int, default=3,
                        help="timed repetitions of each fast-path switch (default: 3)")
    parser.add_argument("--peak-gflops", type=float, default=None,
                        help="the device's fp32 peak in GFLOP/s (default: estimated for CPUs)")
    parser.add_argument("--quick", action="store_true",
                        help="one small repetition at 32x32, batch 8 (a smoke test)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures to FILE")
    parser.add_argument("--_memory-child", choices=("ours", "reference"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.input_shape, args.batch_size = [32, 32, 3], 8
        args.repeats, args.steps, args.warmup = 1, 2, 1
    if args.options is None:
        args.options = not args.quick
    if args.memory is None:
        args.memory = not args.quick
    if args.tuned is None:
        args.tuned = not args.quick
    for name in ("classes", "batch_size", "repeats", "steps", "option_repeats"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    return args


# ---------------------------------------------------------------- the machine

def _fp32_flops_per_cycle(cpu):
    """fp32 FLOPs per cycle per core of a CPU (a ``speed.CpuInfo``): the peak's factor.

    Two FMA units a core, each lane 2 FLOPs a cycle: 512-bit units with AVX-512 (64),
    except on AMD's Zen 4 (family 25 with AVX-512), which runs AVX-512 on 256-bit units
    (32); 256-bit units with AVX2 and FMA (32). An AVX2-only EPYC of family 23 counts as
    Zen 2 (32): a virtual machine's generic "AMD EPYC" (model 1) hides a Zen 1's 128-bit
    units (16).
    """
    flags = cpu.flags
    if "avx512f" in flags:
        if cpu.vendor == "AuthenticAMD" and cpu.family == 25:
            return 32  # Zen 4: AVX-512 on two 256-bit FMA units, 2 x 8 lanes x 2 FLOPs
        return 64  # two 512-bit FMA units (Intel Xeon, Zen 5): 2 x 16 lanes x 2 FLOPs
    if "avx2" in flags and "fma" in flags:
        return 32  # two 256-bit FMA units: 2 x 8 lanes x 2 FLOPs
    if "avx" in flags:
        return 16
    return 8


def _cpu_peak(cpu):
    """A CPU's estimated fp32 peak in GFLOP/s and how it was estimated (None, None where
    its clock is unknown)."""
    if cpu.mhz is None:
        return None, None
    per_cycle = _fp32_flops_per_cycle(cpu)
    peak = cpu.cores * cpu.mhz / 1000 * per_cycle
    return peak, f"{cpu.cores} cores x {cpu.mhz / 1000:.2f} GHz x {per_cycle} fp32 FLOPs/cycle"


def _device(args, cpu=None):
    """A description of the device, its fp32 peak in GFLOP/s (None if unknown) and how the
    peak was found. ``cpu``: a ``speed.CpuInfo`` (default: this machine's)."""
    from resnet.train import speed

    if speed.gpus():
        given = "given" if args.peak_gflops else None
        return f"GPU: {speed.device_name()}", args.peak_gflops, given
    cpu = cpu if cpu is not None else speed.cpu_info()
    device = f"CPU: {speed.cpu_description(cpu)}"  # the name, AVX2/AVX-512/AMX, the cores
    if args.peak_gflops:
        return device, args.peak_gflops, "given"
    return (device, *_cpu_peak(cpu))


# ---------------------------------------------------------------- timing

def _build(which, args):
    from tensorflow import keras

    import resnet

    shape, classes = tuple(args.input_shape), args.classes
    if which == "ours":
        return resnet.ResNet50(input_shape=shape, classes=classes)
    return keras.applications.ResNet50(weights=None, input_shape=shape, classes=classes)


def _compile(model, jit_compile=False):
    from tensorflow import keras

    model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9),
                  loss="sparse_categorical_crossentropy", jit_compile=jit_compile)
    return model


def _batch(args, seed=0):
    import numpy as np
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    x = rng.uniform(size=(args.batch_size, *args.input_shape)).astype("float32")
    y = rng.integers(0, args.classes, size=args.batch_size)
    return tf.constant(x), tf.constant(y)


def _train_rate(model, x, y, steps):
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(x, y)  # returns the loss as a number: waits for the step
    return steps * int(x.shape[0]) / (time.perf_counter() - start)


def _infer_rate(model, x, steps):
    start = time.perf_counter()
    for _ in range(steps):
        model.predict_on_batch(x)
    return steps * int(x.shape[0]) / (time.perf_counter() - start)


def _steal_seconds():
    """CPU seconds the hypervisor ran something else while this virtual machine's cores
    wanted to run (the "steal" column of /proc/stat, all cores); 0 where unknown.

    A repetition that lost seconds to the host is slower for reasons outside the network:
    the logs say so, and the tables keep the fastest repetitions or the medians.
    """
    try:
        with open("/proc/stat") as f:
            return int(f.readline().split()[8]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _stolen(since):
    stolen = _steal_seconds() - since
    return f"; {stolen:.1f} s taken by the host (steal)" if stolen >= 0.05 else ""


def _compare(args, log):
    """Time ours and the reference in turns; return per-model lists of images/s."""
    x, y = _batch(args)
    models = {}
    for which in ("ours", "reference"):
        models[which] = _compile(_build(which, args))
        for _ in range(args.warmup):  # the first calls trace and compile the step
            models[which].train_on_batch(x, y)
            models[which].predict_on_batch(x)
    rates = {which: {"training": [], "inference": []} for which in models}
    for rep in range(args.repeats):
        order = ("ours", "reference") if rep % 2 == 0 else ("reference", "ours")
        steal = _steal_seconds()
        for which in order:
            rates[which]["training"].append(_train_rate(models[which], x, y, args.steps))
        for which in order:
            rates[which]["inference"].append(_infer_rate(models[which], x, 3 * args.steps))
        log(f"repetition {rep + 1}/{args.repeats}: " + ", ".join(
            f"{w} {rates[w]['training'][-1]:.1f}/{rates[w]['inference'][-1]:.1f} img/s"
            for w in order) + _stolen(steal))
    return rates, models["ours"]


def _options(args, log):
    """Training images/s of our network under each fast-path switch, timed in turns."""
    from resnet.train import speed

    x, y = _batch(args)
    variants = {
        "float32, no XLA (the baseline)": dict(precision="float32", jit=False),
        "XLA (jit_compile=True)": dict(precision="float32", jit=True),
        "mixed_float16": dict(precision="mixed_float16", jit=False),
        "mixed_bfloat16": dict(precision="mixed_bfloat16", jit=False),
    }
    models = {}
    for label, v in variants.items():
        start = time.perf_counter()
        with speed.precision_policy(v["precision"]):
            models[label] = _compile(_build("ours", args), jit_compile=v["jit"])
        for _ in range(max(1, args.warmup)):
            models[label].train_on_batch(x, y)
        log(f"built and warmed up {label} in {time.perf_counter() - start:.0f} s")
    repeats = args.option_repeats
    rates = {label: [] for label in variants}
    labels = list(variants)
    for rep in range(repeats):
        for label in labels[rep % len(labels):] + labels[:rep % len(labels)]:
            rates[label].append(_train_rate(models[label], x, y, max(2, args.steps // 2)))
        log(f"options repetition {rep + 1}/{repeats}: " + ", ".join(
            f"{label.split(' ')[0]} {rates[label][-1]:.1f}" for label in labels))
    return rates


def _tuned(args, log):
    """keras.applications as documented against ours with this machine's choices.

    Both train with ``fit`` on the same batches and infer with ``predict``, timed in
    turns, the order alternating. Returns (rates, choice): per-model lists of
    images/s for "training" and "inference", and the ``SpeedChoice``.
    """
    import tensorflow as tf
    from tensorflow import keras

    from resnet.apply.fold import fold_batchnorm
    from resnet.train import speed

    x, y = _batch(args)
    batches = tf.data.Dataset.from_tensors((x, y)).repeat(args.steps)
    images = tf.data.Dataset.from_tensors(x).repeat(3 * args.steps)
    jit = speed.parse_xla(args.jit_compile, "--jit-compile")
    choice = speed.choose_speed(lambda: _build("ours", args),
                                (args.batch_size, *args.input_shape), jit_compile=jit,
                                mixed_precision=args.mixed_precision)
    log(f"the choice: {choice}")
    reference = _build("reference", args)  # compile's defaults: XLA off on a CPU, float32
    reference.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9),
                      loss="sparse_categorical_crossentropy")
    with speed.precision_policy(choice.mixed_precision):
        ours = _compile(_build("ours", args), jit_compile=choice.jit_compile)
    folded = fold_batchnorm(_build("ours", args))  # inference in float32, BN folded
    trainers = {"ours": ours, "reference": reference}
    predictors = {"ours": folded, "reference": reference}
    for which in trainers:  # the first calls trace (and, with XLA, compile)
        trainers[which].fit(batches, epochs=1, verbose=0)
        predictors[which].predict(images, verbose=0)

    def timed(call, count):
        start = time.perf_counter()
        call()
        return count / (time.perf_counter() - start)

    rates = {which: {"training": [], "inference": []} for which in trainers}
    n = args.steps * args.batch_size
    for rep in range(args.repeats):
        order = ("ours", "reference") if rep % 2 == 0 else ("reference", "ours")
        steal = _steal_seconds()
        for which in order:
            rates[which]["training"].append(
                timed(lambda w=which: trainers[w].fit(batches, epochs=1, verbose=0), n))
        for which in order:
            rates[which]["inference"].append(
                timed(lambda w=which: predictors[w].predict(images, verbose=0), 3 * n))
        log(f"tuned repetition {rep + 1}/{args.repeats}: " + ", ".join(
            f"{w} {rates[w]['training'][-1]:.1f}/{rates[w]['inference'][-1]:.1f} img/s"
            for w in order) + _stolen(steal))
    return rates, choice


def _pipelines(args, model, log):
    """Images/s of model.fit over the same images fed by a plain and a fast tf.data pipeline."""
    import numpy as np
    import tensorflow as tf

    from resnet.preprocessing import scale_to_unit
    from resnet.train import data

    height, width, channels = args.input_shape
    n = args.batch_size * max(4, args.steps)
    rng = np.random.default_rng(1)
    # Small uint8 images resized on the fly: the work a real input pipeline does.
    images = rng.integers(0, 256, size=(n, height // 2, width // 2, channels), dtype=np.uint8)
    labels = rng.integers(0, args.classes, size=n).astype(np.int32)

    def plain():
        def prepare(image, label):
            return tf.image.resize(scale_to_unit(image), (height, width)), label

        return tf.data.Dataset.from_tensor_slices((images, labels)).map(prepare).batch(
            args.batch_size)

    def fast():
        return data.pipeline(images, labels, (height, width), args.batch_size)

    pipelines = {"plain: map per image, no cache, no prefetch": plain(),
                 "fast: cache, batch, parallel map, prefetch (resnet.train.data.pipeline)": fast()}
    for ds in pipelines.values():
        model.fit(ds, epochs=1, verbose=0)  # warm up; fills the cache
    rates = {label: [] for label in pipelines}
    for rep in range(args.option_repeats):
        for label, ds in (pipelines.items() if rep % 2 == 0 else reversed(pipelines.items())):
            start = time.perf_counter()
            model.fit(ds, epochs=1, verbose=0)
            rates[label].append(n / (time.perf_counter() - start))
    log("pipelines: " + ", ".join(f"{statistics.median(r):.1f}" for r in rates.values()))
    return rates


# ---------------------------------------------------------------- memory

def _rss_mib(field):
    """VmRSS (now) or VmHWM (the peak since the last reset) of this process, in MiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024  # kB
    return float("nan")


def _reset_peak_rss():
    # Writing 5 to clear_refs resets VmHWM, the peak resident size (Linux >= 4.0).
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def _memory_child(args):
    """In a fresh process: build one model, run inference, then training; print MiB.

    On a GPU: TensorFlow's peak allocation on the GPU in each phase. On a CPU:
    the process's resident memory once the model is built, and its peak during
    the inference and the training steps (the whole process: TensorFlow itself,
    the weights, the optimizer's state and the activations).
    """
    import tensorflow as tf

    from resnet.train import speed

    on_gpu = bool(speed.gpus())

    def reset():
        if on_gpu:
            tf.config.experimental.reset_memory_stats("GPU:0")
        else:
            _reset_peak_rss()

    def peak():
        if on_gpu:
            return tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**20
        return _rss_mib("VmHWM")

    x, y = _batch(args)
    model = _compile(_build(args._memory_child, args))
    model.predict_on_batch(x)  # trace the functions before measuring
    model.train_on_batch(x, y)
    built = _rss_mib("VmRSS") if not on_gpu else float("nan")
    figures = {"built": built}
    for phase, step in (("inference", lambda: model.predict_on_batch(x)),
                        ("training", lambda: model.train_on_batch(x, y))):
        reset()
        for _ in range(2):
            step()
        figures[phase] = peak()
    print(json.dumps(figures))
    return 0


def _memory(args, which):
    command = [sys.executable, os.path.abspath(__file__), "--_memory-child", which,
               "--input-shape", *map(str, args.input_shape), "--classes", str(args.classes),
               "--batch-size", str(args.batch_size)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=900)
    if result.returncode != 0:
        raise RuntimeError(f"memory measurement failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- the report

def _gflops(rate, flops_per_image):
    return rate * flops_per_image / 1e9


def _relative_table(title, versus, rates):
    """Markdown rows of median img/s per label, relative to the first label."""
    base = statistics.median(next(iter(rates.values())))
    lines = ["", f"| {title} | img/s | {versus} |", "|---|---:|---:|"]
    for label, r in rates.items():
        lines.append(f"| {label} | {statistics.median(r):.1f} | "
                     f"{statistics.median(r) / base:.2f}x |")
    return lines


def _medians_and_ratios(rates):
    """Median images/s per model and phase, and the median per-repetition ratio ours / ref."""
    med = {w: {k: statistics.median(v) for k, v in r.items()} for w, r in rates.items()}
    ratio = {k: statistics.median(o / r for o, r in zip(rates["ours"][k], rates["reference"][k],
                                                        strict=True))
             for k in ("training", "inference")}
    return med, ratio


def _tuned_table(device, rates, choice):
    """The tuned comparison: the fastest repetition of each, and their ratio.

    The fastest, not the median: a call that shared the cores is slower, never faster.
    (On an AMD EPYC, AVX2, 2 cores, whole ``fit`` and ``predict`` calls now and then took
    twice as long for either network, 46.9 inference images/s against 92 the repetition
    before, which moved the median of three by the size of the effect measured.)
    """
    best = {w: {k: max(v) for k, v in r.items()} for w, r in rates.items()}
    ratio = {k: best["ours"][k] / best["reference"][k] for k in ("training", "inference")}
    repeats = len(rates["ours"]["training"])
    lines = [
        "", f"Tuned for this machine ({device}): training {choice}; inference with BN folded "
        "into the convolutions (resnet.apply.fold.fold_batchnorm), float32. The fastest of "
        f"{repeats} repetitions each.", "",
        "| fit and predict | keras.applications.ResNet50 (compile's defaults, float32) | "
        "resnet.ResNet50, this machine's choices | ratio ours / reference |",
        "|---|---:|---:|---:|",
    ]
    for phase in ("training", "inference"):
        lines.append(f"| {phase} img/s | {best['reference'][phase]:.1f} | "
                     f"{best['ours'][phase]:.1f} | {ratio[phase]:.2f}x |")
    return lines, dict(fastest=best, ratio=ratio, rates=rates, choice=str(choice),
                       mixed_precision=choice.mixed_precision, jit_compile=choice.jit_compile)


def _report(args, *, device, peak, how, macs, rates, memory, options, pipelines, seconds,
            tuned=None, choice=None):
    import tensorflow as tf
    from tensorflow import keras

    med, ratio = _medians_and_ratios(rates)
    per_image = {"training": 6 * macs, "inference": 2 * macs}
    lines = [
        f"Device: {device}; TensorFlow {tf.__version__}, Keras {keras.__version__}, "
        f"Python {platform.python_version()}.",
        f"Input {tuple(args.input_shape)}, {args.classes} classes, batch {args.batch_size}; "
        f"{args.repeats} repetitions of {args.steps} training steps and {3 * args.steps} "
        f"inference batches after {args.warmup} warm-up steps; {seconds:.0f} s in all.",
        f"Counted work: {macs / 1e9:.3f} GMACs per image forward; training "
        f"{per_image['training'] / 1e9:.2f} GFLOPs per image, inference "
        f"{per_image['inference'] / 1e9:.2f}.",
        (f"Peak fp32 estimate: {peak:.0f} GFLOP/s ({how})." if peak else
         "Peak: unknown (pass --peak-gflops)."),
        "",
        "| network | training img/s | inference img/s | training GFLOP/s | "
        f"inference GFLOP/s | {'peak GPU memory' if device.startswith('GPU') else 'process memory'}"
        " MiB (built / inference peak / training peak) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for which, label in (("ours", "resnet.ResNet50"),
                         ("reference", "keras.applications.ResNet50")):
        t, i = med[which]["training"], med[which]["inference"]
        gt, gi = _gflops(t, per_image["training"]), _gflops(i, per_image["inference"])
        mem = (" / ".join(f"{memory[which][k]:.0f}" for k in ("built", "inference", "training"))
               if memory else "not measured")
        lines.append(f"| {label} | {t:.1f} | {i:.1f} | {gt:.0f} | {gi:.0f} | {mem} |")
    lines.append(f"| ratio ours / reference | {ratio['training']:.3f} | "
                 f"{ratio['inference']:.3f} | | | |")
    if peak:
        lines += ["", "Share of the peak: " + "; ".join(
            f"{w} training {100 * _gflops(med[w]['training'], per_image['training']) / peak:.0f}%, "
            f"inference {100 * _gflops(med[w]['inference'], per_image['inference']) / peak:.0f}%"
            for w in ("ours", "reference")) + "."]
    tuned_figures = None
    if tuned:
        tuned_lines, tuned_figures = _tuned_table(device, tuned, choice)
        lines += tuned_lines
    if options:
        lines += _relative_table("fast-path switch (resnet.ResNet50, training)", "vs baseline",
                                 options)
    if pipelines:
        lines += _relative_table("input pipeline (model.fit, one epoch)", "vs plain", pipelines)
    return "\n".join(lines), dict(median=med, ratio=ratio, macs=macs, peak_gflops=peak,
                                  device=device, memory=memory,
                                  options={k: statistics.median(v) for k, v in options.items()},
                                  pipelines={k: statistics.median(v)
                                             for k, v in pipelines.items()},
                                  tuned=tuned_figures)


def main(argv=None):
    args = _parse(argv)
    if args._memory_child:
        return _memory_child(args)
    start = time.perf_counter()

    def log(message):
        print(f"[{time.perf_counter() - start:5.0f} s] {message}", file=sys.stderr, flush=True)

    from resnet.book import cost

    device, peak, how = _device(args)
    machine = dict(device=device, peak=peak, how=how)
    log(f"running on {device}")
    rates, ours = _compare(args, log)
    macs = cost.multiply_accumulates(ours)
    memory = {}
    if args.memory:
        memory = {which: _memory(args, which) for which in ("ours", "reference")}
        log("memory measured")
    if args.options:  # print the comparison now: the switches can take long on a CPU
        table, _ = _report(args, **machine, macs=macs, rates=rates, memory=memory, options={},
                           pipelines={}, seconds=time.perf_counter() - start)
        log("the comparison (the full report follows):\n" + table)
    tuned, choice = _tuned(args, log) if args.tuned else ({}, None)
    if tuned:
        log("tuned for this machine:\n" + "\n".join(_tuned_table(device, tuned, choice)[0]))
    options = _options(args, log) if args.options else {}
    pipelines = _pipelines(args, ours, log) if args.options else {}
    table, figures = _report(args, **machine, macs=macs, rates=rates, memory=memory,
                             options=options, pipelines=pipelines,
                             seconds=time.perf_counter() - start, tuned=tuned, choice=choice)
    print(table)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    sys.exit(main())
