"""python -m resnet: summary and predict (train: test_cli_train.py).

The tests of what a reader sees run ``python -m resnet`` in a fresh process (slow: each
imports TensorFlow); the tests of refused input call ``resnet.cli.main`` here, which
returns the exit status and prints the one-line error (an exception it does not turn
into one would fail the test).
"""

import re
from pathlib import Path

import pytest
from conftest import run_cli, save_image, tiny_model
from PIL import Image
from tensorflow import keras

import resnet
from resnet import cli, evaluate
from resnet.train import saving


def _refused(capsys, *args):
    """``python -m resnet ARGS`` in this process: exit status 2 and one line of error."""
    code = cli.main([str(a) for a in args])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1, (code, err)
    return err


@pytest.mark.slow
def test_summary_prints_the_layers_and_the_parameter_count():
    result = run_cli("summary", "--input-shape", "64", "64", "3", "--classes", "2")
    assert result.returncode == 0, result.stderr
    assert "conv5_block3_out" in result.stdout
    count = int(re.search(r"Total parameters: ([\d,]+)", result.stdout)[1].replace(",", ""))
    assert count == resnet.ResNet50(input_shape=(64, 64, 3), classes=2).count_params()


@pytest.mark.slow
def test_help_explains_every_command(capsys):
    result = run_cli("--help")
    assert result.returncode == 0
    assert all(command in result.stdout for command in ("summary", "predict", "train"))
    with pytest.raises(SystemExit) as exit_:
        cli.main(["summary", "--help"])
    assert exit_.value.code == 0
    sub = capsys.readouterr().out
    assert "--input-shape" in sub and "--classes" in sub


def test_bad_input_shape_is_a_clear_error_not_a_traceback(capsys):
    assert "at least 1x1" in _refused(capsys, "summary", "--input-shape", "0", "16", "3")


# predict ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory):
    """A tiny model saved as ``python -m resnet train`` saves, marked as wanting ImageNet's
    preprocessing."""
    path = tmp_path_factory.mktemp("model") / "tiny.keras"
    model = resnet.set_preprocessing(tiny_model(3), "imagenet_caffe")
    saving.save_model(model, path, class_names=["x", "y", "z"])
    return path


def _lines(predictions):
    return [f"{p.source}: {p.label} ({p.probability:.3f})" for p in predictions]


@pytest.mark.slow
def test_cli_predict_prints_one_line_per_image_in_the_models_preprocessing(
        saved_model, picture, tmp_path):
    first = save_image(Image.fromarray(picture), tmp_path / "first.png")
    second = save_image(Image.fromarray(255 - picture), tmp_path / "second.png")
    result = run_cli("predict", first, second, "--model", saved_model,
                     "--class-names", "a", "b", "c")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2
    names = ["a", "b", "c"]  # given: they replace the stored x, y, z
    expected = _lines(evaluate(saving.load_model(saved_model), [first, second],
                               class_names=names))
    assert lines == expected
    # In [0, 1] pixels (Keras' loader, which does not read the mark) the lines differ.
    assert _lines(evaluate(keras.models.load_model(saved_model), [first, second],
                           class_names=names)) != expected


@pytest.mark.parametrize(
    "args, message",
    [
        (["missing.png"], "missing.png"),
        (["{model}", "--class-names", "a", "b"], "class_names"),
    ],
)
def test_cli_predict_errors_are_one_line_not_a_traceback(saved_model, args, message,
                                                         capsys):
    args = [str(saved_model) if a == "{model}" else a for a in args]
    assert message in _refused(capsys, "predict", *args, "--model", saved_model)


def test_cli_predict_names_a_missing_or_unreadable_model(tmp_path, picture, capsys):
    image = save_image(Image.fromarray(picture), tmp_path / "p.png")
    err = _refused(capsys, "predict", image, "--model", tmp_path / "nope.keras")
    assert "--model" in err and "nope.keras" in err and "no such file" in err
    junk = tmp_path / "junk.keras"
    junk.write_text("not a model")
    err = _refused(capsys, "predict", image, "--model", junk)
    assert "junk.keras" in err and "not a loadable Keras model" in err


@pytest.mark.slow
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
