import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from tensorflow import keras

import resnet
from resnet.book.small import small_resnet
from resnet.train import data, speed, training

ON_GPU = bool(speed.gpus())


def test_auto_switches_follow_the_device():
    # On a CPU the fast path keeps float32 (float16 was measured slower on both CPU kinds);
    # XLA "auto" is measured per machine: test_the_speed_decision_on_every_kind below decides
    # it from each CPU kind's figures, test_a_real_measurement_on_this_machine times it here.
    assert speed.resolve_precision("auto") == ("mixed_float16" if ON_GPU else "float32")
    assert speed.resolve_precision(True) == "mixed_float16"
    assert speed.resolve_precision(False) == speed.resolve_precision(None) == "float32"
    assert speed.resolve_precision("mixed_bfloat16") == "mixed_bfloat16"


@pytest.mark.parametrize(
    ("call", "match"),
    [(lambda: speed.resolve_precision("float16"), "`mixed_precision` must be"),
     (lambda: speed.resolve_precision(1), "`mixed_precision` must be"),
     (lambda: speed.choose_speed(jit_compile="yes"), "`jit_compile` must be"),
     (lambda: speed.choose_speed(mixed_precision="float16"), "`mixed_precision` must be"),
     (lambda: training.train(lambda: None, None, speed_choice="fast"), "`speed_choice`"),
     (lambda: training.train(keras.Sequential(), None), "`build_model`"),
     (lambda: training.train(lambda: None, None, optimizer="adam"), "`optimizer`")],
)
def test_bad_switches_name_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_the_cpu_is_described_by_its_name_family_model_extensions_and_cores(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(
        "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 143\n"
        "model name\t: Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz\n"
        "cpu MHz\t\t: 2699.998\nflags\t\t: fpu avx avx2 fma avx512f avx512_bf16 amx_bf16 "
        "amx_tile amx_int8\n\nprocessor\t: 1\nmodel name\t: another\n")
    info = speed.cpu_info(cpuinfo)
    assert info.name == "Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz"  # the first core's
    assert info.mhz == 2699.998 and {"avx512f", "amx_tile"} <= info.flags and info.cores >= 1
    assert (info.vendor, info.family, info.model) == ("GenuineIntel", 6, 143)
    assert speed.cpu_description(info._replace(cores=2)) == (
        "Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz (family 6, model 143; AVX-512, "
        "AVX512-BF16, AMX; 2 cores)")
    assert speed.cpu_description(info._replace(cores=1)).endswith("; 1 core)")
    missing = speed.cpu_info(tmp_path / "none")  # not Linux: the name from platform
    assert missing.mhz is None and missing.flags == frozenset()
    assert "no AVX2" in speed.cpu_description(missing)
    # Without a family and model (not recorded, or not Linux) the description leaves them out.
    assert speed.cpu_description(speed.CpuInfo("AMD EPYC", 2, None, frozenset({"avx2"}))) == (
        "AMD EPYC (AVX2; 2 cores)")


def test_mixed_precision_computes_in_float16_but_outputs_float32():
    with speed.precision_policy("mixed_float16") as name:
        model = resnet.ResNet50(input_shape=(32, 32, 3), classes=10)
    assert name == "mixed_float16"
    assert keras.mixed_precision.global_policy().name == "float32"  # restored
    assert model.get_layer("conv3_block1_2_conv").compute_dtype == "float16"
    assert model.get_layer("conv3_block1_2_conv").kernel.dtype == "float32"  # master weights
    assert model.get_layer("predictions").compute_dtype == "float32"
    assert model.output.dtype == "float32"
    # The weights are those of the float32 model: same list, same shapes.
    reference = resnet.ResNet50(input_shape=(32, 32, 3), classes=10)
    assert [w.shape for w in model.weights] == [w.shape for w in reference.weights]


def test_train_refuses_a_float16_output_under_mixed_precision():
    def float16_head():
        inputs = keras.Input((8, 8, 1))
        return keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(
            keras.layers.Flatten()(inputs)))

    with pytest.raises(ValueError, match="output must be float32"):
        training.train(float16_head, None, speed_choice=speed.SpeedChoice(
            "mixed_float16", False, {}, "mixed_float16, XLA off: given"))
    assert keras.mixed_precision.global_policy().name == "float32"


@pytest.mark.parametrize(("found", "name", "strategy"), [
    (0, "CPU", "the default"),
    (1, "NVIDIA H100 80GB HBM3", ("one device", "/gpu:0")),
    (2, "2 x NVIDIA H100 80GB HBM3", "mirrored"),
])
def test_the_device_and_strategy_follow_the_gpus_found(monkeypatch, found, name, strategy):
    # Any machine: the GPUs are faked, and the strategies' constructors record the call.
    monkeypatch.setattr(speed, "gpus", lambda: [f"GPU:{i}" for i in range(found)])
    monkeypatch.setattr(tf.config.experimental, "get_device_details",
                        lambda device: {"device_name": "NVIDIA H100 80GB HBM3"})
    monkeypatch.setattr(tf.distribute, "MirroredStrategy", lambda: "mirrored")
    monkeypatch.setattr(tf.distribute, "OneDeviceStrategy", lambda d: ("one device", d))
    assert speed.device_name() == name
    chosen = speed.default_strategy()
    if found == 0:
        assert chosen is tf.distribute.get_strategy() and chosen.num_replicas_in_sync == 1
    else:
        assert chosen == strategy


@pytest.mark.parametrize(("value", "expected"), [("auto", "auto"), ("on", True), ("off", False)])
def test_parse_xla_maps_the_command_line_values(value, expected):
    parsed = speed.parse_xla(value)
    assert parsed == expected and type(parsed) is type(expected)
    assert speed.XLA_CHOICES == ("auto", "on", "off")


def test_parse_xla_names_the_option_and_its_values():
    with pytest.raises(ValueError, match=r"^--jit-compile must be one of auto, on, off, got "
                                         r"'yes'\.$"):
        speed.parse_xla("yes", "--jit-compile")
    with pytest.raises(ValueError, match=r"^--xla must be one of"):
        speed.parse_xla(True)


@pytest.mark.slow
def test_mixed_precision_trains_with_a_scaled_loss():
    # The mechanism: under mixed_float16 Keras wraps the optimizer in a LossScaleOptimizer,
    # so float16 gradients do not underflow, and the weights stay float32. Whether it costs
    # accuracy is chapter 11's to show, over its whole training.
    digits = data.digits(image_size=8, batch_size=32, seed=0)
    keras.utils.set_random_seed(0)
    given = speed.SpeedChoice("mixed_float16", False, {}, "mixed_float16, XLA off: given")
    model, history = training.train(small_resnet, digits.train, epochs=3, speed_choice=given)
    assert isinstance(model.optimizer, keras.mixed_precision.LossScaleOptimizer)
    assert model.layers[1].compute_dtype == "float16" and model.layers[1].kernel.dtype == "float32"
    losses = history.history["loss"]
    assert np.all(np.isfinite(losses)) and losses[-1] < 0.5 * losses[0], losses


@pytest.mark.slow
def test_mirrored_strategy_on_two_cpu_replicas_matches_one_device():
    child = Path(__file__).with_name("_speed_mirrored.py")
    result = subprocess.run([sys.executable, str(child)], capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    diffs = json.loads(result.stdout.strip().splitlines()[-1])
    print(f"largest weight difference after one epoch: {diffs}")
    assert diffs["replicas"] == 2
    # Duplicated halves: each replica's BN sees the global batch's statistics, so
    # only the summation order differs (measured 1.2e-7 after 8 steps of SGD 0.01).
    assert diffs["duplicated"] < 1e-5
    # Distinct halves: BN normalises each replica's 32 images with their own mean
    # and variance, a different function from one device's 64 (measured 2.1e-3 after 4 steps).
    # The weights stay close, but differ by far more than rounding.
    assert 1e-5 < diffs["distinct"] < 2e-2


# The speed decision, for every CPU kind this project has met ------------------------------
#
# Each kind is given by its flags and a timing function with figures measured on it
# (ResNet50 at 32x32, batch 32, images/s; Intel at 64x64), so that every branch of the
# rule runs on any machine, without that machine's hardware and without training.

def _cpu(name, vendor, family, model, *flags):
    return speed.CpuInfo(name, 2, None, frozenset({"sse4_2", "avx2", "fma", *flags}), vendor,
                         family, model)


AMD, INTEL = "AuthenticAMD", "GenuineIntel"
AVX2_EPYC = "AMD EPYC, AVX2 only (lscpu family 23, or family 25 without AVX-512)"


AVX512 = ("avx512f", "avx512dq", "avx512bw", "avx512vl")
KINDS = {  # kind: (cpu, gpu, measured rates {(policy, xla): images/s}, expected choice)
    AVX2_EPYC: (
        _cpu("AMD EPYC 7B12", AMD, 23, 49), None,
        {("float32", False): 18.7, ("float32", True): 43.9}, ("float32", True)),
    "AMD AVX-512 (Zen 4)": (
        _cpu("AMD EPYC 9B14", AMD, 25, 17, *AVX512), None,
        {("float32", False): 67.5, ("float32", True): 18.2}, ("float32", False)),
    "AMD AVX-512 with AVX512-BF16 (Zen 5)": (  # bfloat16 +6%: within the margin
        _cpu("AMD EPYC", AMD, 26, 2, *AVX512, "avx512_bf16", "avx_vnni"), None,
        {("float32", False): 266.0, ("float32", True): 73.0,
         ("mixed_bfloat16", False): 282.0, ("mixed_bfloat16", True): 70.0},
        ("float32", False)),
    "Intel Xeon with AVX512-BF16 and AMX": (
        _cpu("Intel(R) Xeon(R) Processor", INTEL, 6, 143, *AVX512, "avx512_bf16", "amx_bf16",
             "amx_tile"),
        None,
        {("float32", False): 49.6, ("float32", True): 27.0,
         ("mixed_bfloat16", False): 67.1, ("mixed_bfloat16", True): 30.0},
        ("mixed_bfloat16", False)),
    "a GPU": (_cpu("AMD EPYC", AMD, 25, 17, *AVX512), "NVIDIA H200", {},
              ("mixed_float16", True)),
}


def _tiny_model():
    inputs = keras.Input((16, 16, 1))
    x = keras.layers.Conv2D(8, 3, kernel_initializer=resnet.glorot_uniform(seed=0))(inputs)
    x = resnet.identity_block(x, 3, [4, 4, 8], seed=1)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(3, activation="softmax", dtype="float32",  # as ResNet50's
                                 kernel_initializer=resnet.glorot_uniform(seed=2))(x)
    return keras.Model(inputs, outputs, name="tiny")


def _timer(rates):
    timed = []

    def measure(policy, jit_compile):
        timed.append((policy, jit_compile))
        return rates[(policy, jit_compile)]

    return measure, timed


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("RESNET_CACHE_DIR", str(tmp_path))
    return tmp_path / "xla_choice.json"


@pytest.mark.parametrize("kind", KINDS)
def test_the_speed_decision_on_every_kind(kind, cache):
    cpu, gpu, rates, expected = KINDS[kind]
    measure, timed = _timer(rates)
    choice = speed.choose_speed(_tiny_model, (8, 16, 16, 1), cpu=cpu, gpu=gpu, measure=measure)
    assert (choice.mixed_precision, choice.jit_compile) == expected
    # One wording on every branch: "POLICY, XLA on|off: WHY".
    assert str(choice).startswith(f"{expected[0]}, XLA {'on' if expected[1] else 'off'}: ")
    if gpu:
        assert timed == [] and choice.rates == {} and gpu in str(choice)
        return
    # Every candidate timed once: bfloat16 only where the CPU computes in it.
    assert sorted(timed) == sorted(rates)
    assert ("mixed_bfloat16" in choice.rates) == speed.has_bfloat16(cpu.flags)
    assert speed.cpu_description(cpu) in str(choice) and "measured now" in str(choice)
    for (policy, jit), rate in rates.items():
        assert f"{rate:.1f} images/s in {policy} with XLA {'on' if jit else 'off'}" in str(choice)
    best = max(rates, key=rates.get)
    if best != expected:  # the fastest lost only to the margin, and the line says so
        gain = rates[best] / rates[("float32", False)] - 1
        assert gain < speed.SWITCH_MARGIN and f"{gain:+.0%} is within the 10%" in str(choice)
    # A measure of the caller's is never cached: asked again, it times every candidate again.
    again = speed.choose_speed(_tiny_model, (8, 16, 16, 1), cpu=cpu, gpu=gpu, measure=measure)
    assert again[:3] == choice[:3] and len(timed) == 2 * len(rates)
    assert "measured now" in str(again) and not cache.exists()


@pytest.mark.parametrize("kind", KINDS)
def test_fixed_switches_are_facts_not_candidates(kind, cache):
    cpu, gpu, rates, _ = KINDS[kind]
    measure, timed = _timer(rates)
    # The recipes keep float32 (try_bfloat16=False): with XLA fixed, nothing is left to time.
    fixed = speed.choose_speed(_tiny_model, (8, 16, 16, 1), jit_compile=False,
                               try_bfloat16=False, cpu=cpu, gpu=gpu, measure=measure)
    assert timed == [] and fixed.rates == {}
    assert (fixed.mixed_precision, fixed.jit_compile) == (
        ("mixed_float16", False) if gpu else ("float32", False))
    assert str(fixed).startswith(f"{fixed.mixed_precision}, XLA off: ")
    if gpu:
        return
    assert "jit_compile=False" in str(fixed) and "not measured" in str(fixed)
    # XLA alone left to decide: only float32's two settings are timed.
    xla = speed.choose_speed(_tiny_model, (8, 16, 16, 1), try_bfloat16=False, cpu=cpu,
                             gpu=gpu, measure=measure)
    assert sorted(timed) == [("float32", False), ("float32", True)]
    assert xla.jit_compile == (kind == AVX2_EPYC)  # XLA 2.3x as fast there, slower elsewhere
    # Without a batch shape nothing can be timed: the default, said so.
    blind = speed.choose_speed(cpu=cpu, gpu=gpu, measure=measure)
    assert (blind.mixed_precision, blind.jit_compile) == ("float32", False)
    assert "not measured" in str(blind) and len(timed) == 2


def test_the_margin_keeps_a_near_tie_and_says_so(cache):
    cpu = KINDS[AVX2_EPYC][0]
    # Measured on the AVX2 EPYC at 64x64: XLA +1% in three steps, -8% in fit.
    measure, _ = _timer({("float32", False): 8.8, ("float32", True): 8.9})
    tie = speed.choose_speed(_tiny_model, (8, 16, 16, 1), cpu=cpu, gpu=None, measure=measure)
    assert (tie.mixed_precision, tie.jit_compile) == ("float32", False)
    assert str(tie).endswith("; +1% is within the 10% that a change needs")


# Fake figures, each with the choice written out by hand: near the margin, over it, a policy
# that wins only with XLA. (float32 without XLA is the default that a change must beat by 10%.)
CHOICES = [
    ({("float32", "off"): 10.0, ("float32", "on"): 10.9}, ("float32", False), "; +9% is within"),
    ({("float32", "off"): 10.0, ("float32", "on"): 11.2}, ("float32", True), ""),
    ({("float32", "off"): 10.0, ("float32", "on"): 4.0}, ("float32", False), ""),
    ({("float32", "off"): 10.0, ("float32", "on"): 9.0, ("mixed_bfloat16", "off"): 10.5,
      ("mixed_bfloat16", "on"): 12.0}, ("mixed_bfloat16", True), ""),
    ({("float32", "off"): 20.0, ("float32", "on"): 21.0, ("mixed_bfloat16", "off"): 21.6,
      ("mixed_bfloat16", "on"): 8.0}, ("float32", False), "; +8% is within"),
]


@pytest.mark.parametrize(("rates", "expected", "margin"), CHOICES)
def test_the_default_measure_is_cached_and_decides_by_hand_checked_figures(
        rates, expected, margin, cache, monkeypatch):
    timed = []

    def fake_rate(build_model, batch_shape, policy, jit_compile):
        timed.append((policy, jit_compile))
        return rates[(policy, "on" if jit_compile else "off")]

    monkeypatch.setattr(speed, "training_rate", fake_rate)
    bf16 = ("mixed_bfloat16", "off") in rates
    cpu = KINDS["Intel Xeon with AVX512-BF16 and AMX" if bf16 else AVX2_EPYC][0]
    choice = speed.choose_speed(_tiny_model, (8, 16, 16, 1), cpu=cpu, gpu=None)
    assert (choice.mixed_precision, choice.jit_compile) == expected
    assert len(timed) == len(rates) and "measured now" in str(choice)
    assert (margin in str(choice)) if margin else "within" not in str(choice)
    # Stored per policy under the CPU, TensorFlow, the model and the batch shape.
    stored = json.loads(cache.read_text())
    assert sorted(stored) == sorted(
        f"{speed.cpu_description(cpu)} | TF {tf.__version__} | tiny 395 params | "
        f"batch (8, 16, 16, 1) | fastest step | {policy}" for policy in {p for p, _ in rates})
    # Asked again: the cache answers, nothing is timed; another batch is another question.
    again = speed.choose_speed(_tiny_model, (8, 16, 16, 1), cpu=cpu, gpu=None)
    assert again[:3] == choice[:3] and len(timed) == len(rates)
    assert "measured earlier on this machine" in str(again)
    speed.choose_speed(_tiny_model, (4, 16, 16, 1), cpu=cpu, gpu=None)
    assert len(timed) == 2 * len(rates)


def test_a_real_measurement_on_this_machine(cache):
    """Real steps of each candidate on the machine at hand: only what holds on any."""
    choice = speed.choose_speed(_tiny_model, (8, 16, 16, 1))
    assert keras.mixed_precision.global_policy().name == "float32"  # restored after timing
    if ON_GPU:
        assert choice.rates == {}
        return
    expected = {"float32", "mixed_bfloat16"} if speed.has_bfloat16() else {"float32"}
    assert set(choice.rates) == expected
    rates = {(p, lab): r for p, by in choice.rates.items() for lab, r in by.items()}
    assert len(rates) == 2 * len(expected) and min(rates.values()) > 0
    # The line gives every figure as stored, and the cache holds the same figures.
    for (policy, label), rate in rates.items():
        assert f"{rate:.1f} images/s in {policy} with XLA {label}" in str(choice)
    assert speed.cpu_description() in str(choice)
    stored = json.loads(cache.read_text())
    assert {key.rsplit(" | ", 1)[1]: figures for key, figures in stored.items()} == choice.rates


def test_train_takes_the_decision_it_is_given():
    x = np.random.default_rng(0).uniform(size=(16, 16, 16, 1)).astype("float32")
    batches = tf.data.Dataset.from_tensor_slices((x, np.arange(16) % 3)).batch(
        8, drop_remainder=True)
    given = speed.SpeedChoice("mixed_bfloat16", False, {}, "mixed_bfloat16, XLA off: given")
    model, history = training.train(_tiny_model, batches, speed_choice=given)
    assert model.dtype_policy.name == "mixed_bfloat16" and model.jit_compile is False
    assert keras.mixed_precision.global_policy().name == "float32"
    assert len(history.history["loss"]) == 1
    # Without one it asks choose_speed with the recipes' switches: bfloat16 is not tried.
    model, _ = training.train(_tiny_model, batches)
    assert model.dtype_policy.name == ("mixed_float16" if ON_GPU else "float32")
