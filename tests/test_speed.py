import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from tensorflow import keras

import resnet
from resnet.book.small import small_resnet
from resnet.train import data, speed, training

ON_GPU = bool(speed.gpus())


def test_auto_switches_follow_the_device():
    # On a CPU the fast path keeps float32 (float16 was measured slower on both CPU kinds);
    # XLA "auto" is measured per machine (tests/test_training.py).
    assert speed.resolve_precision("auto") == ("mixed_float16" if ON_GPU else "float32")
    assert speed.resolve_precision(True) == "mixed_float16"
    assert speed.resolve_precision(False) == speed.resolve_precision(None) == "float32"
    assert speed.resolve_precision("mixed_bfloat16") == "mixed_bfloat16"
    assert speed.resolve_jit_compile(True)[0] is True
    assert speed.resolve_jit_compile(False)[0] is False


@pytest.mark.parametrize(
    ("call", "match"),
    [(lambda: speed.resolve_precision("float16"), "`mixed_precision` must be"),
     (lambda: speed.resolve_precision(1), "`mixed_precision` must be"),
     (lambda: speed.resolve_jit_compile("yes"), "`jit_compile` must be"),
     (lambda: training.train(keras.Sequential(), None), "`build_model`"),
     (lambda: training.train(lambda: None, None, optimizer="adam"), "`optimizer`")],
)
def test_bad_switches_name_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_the_cpu_is_described_by_its_name_extensions_and_cores(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(
        "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz\n"
        "cpu MHz\t\t: 2699.998\nflags\t\t: fpu avx avx2 fma avx512f avx512_bf16 amx_bf16 "
        "amx_tile amx_int8\n\nprocessor\t: 1\nmodel name\t: another\n")
    info = speed.cpu_info(cpuinfo)
    assert info.name == "Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz"  # the first core's
    assert info.mhz == 2699.998 and {"avx512f", "amx_tile"} <= info.flags and info.cores >= 1
    assert speed.cpu_description(info) == (
        f"Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz (AVX-512, AVX512-BF16, AMX, "
        f"{info.cores} cores)")
    missing = speed.cpu_info(tmp_path / "none")  # not Linux: the name from platform
    assert missing.mhz is None and missing.flags == frozenset()
    assert "no AVX2" in speed.cpu_description(missing)
    assert speed.cpu_description().startswith(speed.cpu_info().name)  # this machine


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
        training.train(float16_head, None, mixed_precision="mixed_float16")
    assert keras.mixed_precision.global_policy().name == "float32"


def test_default_strategy_on_this_machine():
    strategy = speed.default_strategy()
    assert strategy.num_replicas_in_sync == max(1, len(speed.gpus()))
    assert (speed.device_name() == "CPU") is not ON_GPU


@pytest.mark.slow
def test_mixed_precision_accuracy_matches_float32_on_digits():
    # Mixed precision is forced here: "auto" keeps float32 on a CPU. float16 on a
    # CPU is slow but computes the same rounding as on a GPU, which is what matters.
    # One run's accuracy on 360 test images varies by about a point with the seed
    # alone (4 images), so each precision is trained from three seeds and judged
    # on the validation and test splits together (720 images).
    digits = data.digits(image_size=8, batch_size=32, seed=0)
    held_out = digits.val.concatenate(digits.test)
    epochs, steps = 12, 34  # 1,077 training images in batches of 32
    accuracy = {"float32": [], "mixed_float16": []}
    for seed in (0, 1, 2):
        for precision in accuracy:
            keras.utils.set_random_seed(seed)
            model, history = training.train(
                small_resnet, digits.train, epochs=epochs, mixed_precision=precision,
                jit_compile=False,
                optimizer=lambda: keras.optimizers.Adam(
                    keras.optimizers.schedules.CosineDecay(2e-3, epochs * steps)),
            )
            accuracy[precision].append(model.evaluate(held_out, verbose=0)[1])
            # Converged, so that the comparison means something.
            assert history.history["accuracy"][-1] > 0.98
    mean = {precision: float(np.mean(values)) for precision, values in accuracy.items()}
    print(f"held-out accuracy per seed: {accuracy}, mean: {mean}")
    assert mean["float32"] > 0.95
    assert abs(mean["mixed_float16"] - mean["float32"]) <= 0.01


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
