"""python -m resnet: summary and predict (train: test_cli_train.py)."""

import re
from pathlib import Path

import pytest
from conftest import run_cli, save_image, tiny_model
from PIL import Image
from tensorflow import keras

import resnet
from resnet import evaluate

pytestmark = pytest.mark.slow  # every test starts `python -m resnet` in a fresh process


def test_summary_prints_the_layers_and_the_parameter_count():
    result = run_cli("summary", "--input-shape", "64", "64", "3", "--classes", "2")
    assert result.returncode == 0, result.stderr
    assert "conv5_block3_out" in result.stdout
    count = int(re.search(r"Total parameters: ([\d,]+)", result.stdout)[1].replace(",", ""))
    assert count == resnet.ResNet50(input_shape=(64, 64, 3), classes=2).count_params()


def test_help_explains_every_command():
    result = run_cli("--help")
    assert result.returncode == 0
    assert "summary" in result.stdout
    sub = run_cli("summary", "--help")
    assert "--input-shape" in sub.stdout and "--classes" in sub.stdout


def test_bad_input_shape_is_a_clear_error_not_a_traceback():
    result = run_cli("summary", "--input-shape", "0", "16", "3")
    assert result.returncode == 2
    assert "at least 1x1" in result.stderr and "Traceback" not in result.stderr


# predict ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "tiny.keras"
    tiny_model(3).save(path)
    return path


def test_cli_predict_prints_one_line_per_image(saved_model, picture, tmp_path):
    first = save_image(Image.fromarray(picture), tmp_path / "first.png")
    second = save_image(Image.fromarray(255 - picture), tmp_path / "second.png")
    result = run_cli("predict", first, second, "--model", saved_model,
                     "--class-names", "a", "b", "c")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2
    expected = evaluate(keras.models.load_model(saved_model), [first, second],
                        class_names=["a", "b", "c"])
    for line, prediction in zip(lines, expected, strict=True):
        assert line == f"{prediction.source}: {prediction.label} ({prediction.probability:.3f})"


@pytest.mark.parametrize(
    "args, message",
    [
        (["missing.png"], "missing.png"),
        (["{model}", "--class-names", "a", "b"], "class_names"),
    ],
)
def test_cli_predict_errors_are_one_line_not_a_traceback(saved_model, args, message):
    args = [str(saved_model) if a == "{model}" else a for a in args]
    result = run_cli("predict", *args, "--model", saved_model)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_cli_predict_names_a_missing_or_unreadable_model(tmp_path, picture):
    image = save_image(Image.fromarray(picture), tmp_path / "p.png")
    result = run_cli("predict", image, "--model", tmp_path / "nope.keras")
    assert result.returncode == 2 and "nope.keras" in result.stderr
    junk = tmp_path / "junk.keras"
    junk.write_text("not a model")
    result = run_cli("predict", image, "--model", junk)
    assert result.returncode == 2 and "junk.keras" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_loading_keeps_safe_mode(tmp_path, picture):
    # A Lambda layer holds Python bytecode: safe mode must refuse to run it.
    inputs = keras.Input((16, 16, 3))
    x = keras.layers.Lambda(lambda t: t * 2.0)(inputs)
    outputs = keras.layers.Dense(2, activation="softmax")(keras.layers.Flatten()(x))
    path = Path(tmp_path / "lambda.keras")
    keras.Model(inputs, outputs).save(path)
    image = save_image(Image.fromarray(picture), tmp_path / "p.png")
    result = run_cli("predict", image, "--model", path)
    assert result.returncode == 2
    assert "safe" in result.stderr.lower() and "Traceback" not in result.stderr
