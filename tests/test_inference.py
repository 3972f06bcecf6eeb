import io

import numpy as np
import pytest
from conftest import save_image, tiny_model
from PIL import Image
from tensorflow import keras

import resnet
from resnet import evaluate, load_image


@pytest.fixture(scope="module")
def rgb_model():
    return tiny_model(3)


@pytest.fixture(scope="module")
def grey_model():
    return tiny_model(1)


def _probs(predictions):
    return np.stack([p.probabilities for p in predictions])


# Accepted input forms -------------------------------------------------------------------


# The inference tests use conftest's tiny_model (one 3x3 conv and a dense layer): float32
# rounding through it, whatever the kernel or CPU, stays near 1e-7 of a probability, so 1e-5
# is a hundredfold margin; a wrong preprocessing, channel order or batch mix-up moves
# probabilities by 1e-2 or more.


def test_every_input_form_gives_the_same_prediction(rgb_model, picture, tmp_path):
    path = save_image(Image.fromarray(picture), tmp_path / "picture.png")
    expected = _probs(evaluate(rgb_model, picture))
    for form in (
        str(path), path, [path], [str(path)], Image.fromarray(picture), [Image.fromarray(picture)],
        picture[None], picture.astype(np.float32), picture.astype(np.float64) / 255.0,
        picture.astype(np.uint16) * 257, [picture],
    ):
        np.testing.assert_allclose(_probs(evaluate(rgb_model, form)), expected, atol=1e-5)


def test_a_mixed_list_keeps_order_and_names_its_files(rgb_model, picture, tmp_path):
    other = 255 - picture
    path = save_image(Image.fromarray(other), tmp_path / "other.png")
    predictions = evaluate(rgb_model, [picture, path, Image.fromarray(picture)])
    assert [p.source for p in predictions] == ["image 0", str(path), "image 2"]
    np.testing.assert_allclose(predictions[0].probabilities, predictions[2].probabilities)
    np.testing.assert_allclose(
        predictions[1].probabilities, evaluate(rgb_model, other)[0].probabilities, atol=1e-5
    )


def test_a_prediction_holds_label_probability_and_all_probabilities(rgb_model, picture):
    (prediction,) = evaluate(rgb_model, picture, class_names=["a", "b", "c"])
    assert prediction.label == ["a", "b", "c"][prediction.index]
    assert prediction.probability == pytest.approx(prediction.probabilities.max())
    assert prediction.probabilities.shape == (3,)
    assert prediction.probabilities.sum() == pytest.approx(1, abs=1e-5)
    (unnamed,) = evaluate(rgb_model, picture)
    assert unnamed.label == unnamed.index


def test_batching_does_not_change_the_predictions(rgb_model, rng):
    images = rng.integers(0, 256, size=(7, 20, 12, 3)).astype(np.uint8)
    np.testing.assert_allclose(
        _probs(evaluate(rgb_model, images, batch_size=2)),
        _probs(evaluate(rgb_model, images, batch_size=32)), atol=1e-5,
    )  # other batch sizes, other oneDNN kernels: ~1e-7 apart; a mixed-up batch, ~0.1


def test_images_are_resized_and_preprocessed_like_training(rgb_model, rng):
    image = rng.integers(0, 256, size=(40, 24, 3)).astype(np.uint8)
    expected = rgb_model(np.asarray(resnet.preprocess(image[None], 16))).numpy()
    np.testing.assert_allclose(evaluate(rgb_model, image)[0].probabilities, expected[0],
                               atol=1e-5)


def test_a_model_marked_as_imagenets_gets_imagenet_preprocessing(picture):
    model = resnet.set_preprocessing(tiny_model(3), "imagenet_caffe")
    pixels = picture[None].astype(np.float32)
    expected = model(np.asarray(resnet.imagenet_caffe(pixels))).numpy()
    np.testing.assert_allclose(evaluate(model, picture)[0].probabilities, expected[0], atol=1e-5)
    unit = model(np.asarray(resnet.scale_to_unit(pixels))).numpy()
    assert np.abs(unit - expected).max() > 1e-2  # the two preprocessings tell apart
    # The preprocessing given wins over the model's.
    np.testing.assert_allclose(
        evaluate(model, picture, preprocessing=resnet.scale_to_unit)[0].probabilities, unit[0],
        atol=1e-5)
    # A name ending in "_imagenet" no longer picks it: only the mark does.
    named = tiny_model(3, name="resnet50_imagenet")
    np.testing.assert_allclose(evaluate(named, picture)[0].probabilities, unit[0], atol=1e-5)


def test_a_sigmoid_model_gives_two_class_probabilities(picture):
    inputs = keras.Input((16, 16, 3))
    outputs = keras.layers.Dense(1, activation="sigmoid")(keras.layers.Flatten()(inputs))
    (prediction,) = evaluate(keras.Model(inputs, outputs), picture, class_names=["no", "yes"])
    assert prediction.probabilities.shape == (2,)
    assert prediction.probabilities.sum() == pytest.approx(1)


# Image modes ----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["RGBA", "P", "CMYK", "RGB"])
def test_colour_modes_become_the_same_rgb(mode, picture, tmp_path):
    image = Image.fromarray(picture)
    image = image.quantize(16) if mode == "P" else image.convert(mode)
    suffix = ".tiff" if mode == "CMYK" else ".png"
    path = save_image(image, tmp_path / f"picture{suffix}")
    np.testing.assert_array_equal(load_image(path), picture.astype(np.float32))
    np.testing.assert_array_equal(load_image(image), picture.astype(np.float32))


def test_transparent_pixels_are_shown_on_white(picture):
    rgba = np.dstack([picture, np.full(picture.shape[:2], 255, np.uint8)])
    rgba[0, 0, 3] = 0  # fully transparent
    rgba[0, 1, 3] = 128  # half transparent
    pixels = load_image(Image.fromarray(rgba, "RGBA"))
    np.testing.assert_array_equal(pixels[0, 0], [255, 255, 255])
    expected = picture[0, 1].astype(float) * 128 / 255 + 255 * 127 / 255
    np.testing.assert_allclose(pixels[0, 1], expected, atol=1)
    np.testing.assert_array_equal(pixels[1:], picture[1:])
    np.testing.assert_allclose(load_image(rgba), pixels, atol=1)  # as an array, the same


def test_greyscale_and_16_bit_images_give_grey_pixels(grey_model, rng, tmp_path):
    grey = rng.integers(0, 256, size=(16, 16)).astype(np.uint8)
    expected = grey[..., None].astype(np.float32)
    np.testing.assert_array_equal(load_image(Image.fromarray(grey), channels=1), expected)
    sixteen = save_image(Image.fromarray(grey.astype(np.uint16) * 257), tmp_path / "grey16.png")
    with Image.open(sixteen) as opened:
        assert opened.mode.startswith("I")  # Pillow reads it as a 16-bit mode
    np.testing.assert_allclose(load_image(sixteen, channels=1), expected, atol=1e-3)
    # Greyscale repeated for an RGB model; RGB converted with Pillow's luma for a grey model.
    np.testing.assert_array_equal(load_image(grey), np.repeat(expected, 3, axis=-1))
    rgb = np.repeat(grey[..., None], 3, axis=-1)
    np.testing.assert_allclose(load_image(Image.fromarray(rgb), channels=1), expected, atol=1)
    np.testing.assert_allclose(load_image(rgb, channels=1), expected, atol=1)
    one_bit = Image.fromarray(grey > 127).convert("1")
    np.testing.assert_array_equal(np.unique(load_image(one_bit, channels=1)), [0, 255])
    la = save_image(Image.fromarray(grey).convert("LA"), tmp_path / "la.png")
    np.testing.assert_array_equal(load_image(la, channels=1), expected)
    predictions = evaluate(grey_model, [sixteen, la, grey, rgb])
    np.testing.assert_allclose(_probs(predictions), _probs(predictions)[[0, 0, 0, 0]], atol=1e-3)


def test_exif_orientation_is_applied(picture, tmp_path):
    image = Image.fromarray(picture)
    exif = image.getexif()
    exif[0x0112] = 6  # "rotate 90 clockwise to display"
    path = save_image(image, tmp_path / "rotated.png", exif=exif)
    np.testing.assert_array_equal(load_image(path), np.rot90(picture, k=-1))


# Bad input ------------------------------------------------------------------------------


def test_a_missing_file_is_named(rgb_model, picture, tmp_path):
    missing = tmp_path / "no_such_photo.jpg"
    with pytest.raises(FileNotFoundError, match="no_such_photo.jpg"):
        evaluate(rgb_model, [picture, missing])


def test_a_file_that_is_not_an_image_is_named(rgb_model, tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("this is not a picture")
    with pytest.raises(ValueError, match=r"notes\.png.*not a readable image"):
        evaluate(rgb_model, path)


def test_a_truncated_or_corrupt_image_is_named(rgb_model, picture, tmp_path):
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, format="PNG")
    data = buffer.getvalue()
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"truncated\.png"):
        evaluate(rgb_model, truncated)
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(data[:40] + bytes(200) + data[240:])
    with pytest.raises(ValueError, match=r"corrupt\.png"):
        evaluate(rgb_model, corrupt)
    jpeg = io.BytesIO()
    Image.fromarray(picture).save(jpeg, format="JPEG")
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(jpeg.getvalue()[:300])
    with pytest.raises(ValueError, match=r"cut\.jpg"):
        evaluate(rgb_model, cut)


def test_a_folder_is_not_an_image(rgb_model, tmp_path):
    with pytest.raises(ValueError, match="not a file"):
        evaluate(rgb_model, tmp_path)


@pytest.mark.parametrize("factor", [1.5, 3])  # Pillow warns below 2x its limit, fails above
def test_decompression_bombs_are_refused(rgb_model, picture, tmp_path, monkeypatch, factor):
    path = save_image(Image.fromarray(picture), tmp_path / "bomb.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", int(16 * 16 / factor))
    with pytest.raises(ValueError, match=r"bomb\.png.*decompression-bomb"):
        evaluate(rgb_model, path)
    with pytest.raises(ValueError, match="decompression-bomb"):
        evaluate(rgb_model, picture)
    with pytest.raises(ValueError, match="decompression-bomb"):
        evaluate(rgb_model, Image.fromarray(picture))


def test_empty_input_and_wrong_class_names_are_refused(rgb_model, picture):
    with pytest.raises(ValueError, match="empty"):
        evaluate(rgb_model, [])
    with pytest.raises(ValueError, match=r"class_names.*\(3\), got 2"):
        evaluate(rgb_model, picture, class_names=["cat", "dog"])


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.zeros((4, 4, 5), np.uint8), "shape"),
        (np.zeros((2, 2, 4, 4, 3), np.uint8), "shape"),
        (np.full((4, 4, 3), 300.0), r"\[0, 255\]"),
        (np.full((4, 4, 3), np.nan), "NaN"),
        (np.full((4, 4), -1), "0..255"),
        (np.zeros((4, 4), dtype=complex), "unsupported"),
        ("not a path, a number", "no such file"),
        (3.5, "expected a file path"),
    ],
)
def test_bad_arrays_and_objects_are_refused(rgb_model, bad, message):
    error = FileNotFoundError if isinstance(bad, str) else ValueError
    with pytest.raises(error, match=message):
        evaluate(rgb_model, [bad])


def test_a_model_with_an_unusable_input_is_refused(picture):
    inputs = keras.Input((16, 16, 2))
    model = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(inputs)))
    with pytest.raises(ValueError, match="model"):
        evaluate(model, picture)


def test_nothing_breaks_after_a_bad_input(rgb_model, picture, tmp_path):
    before = evaluate(rgb_model, picture)[0].probabilities
    with pytest.raises(FileNotFoundError):
        evaluate(rgb_model, [picture, tmp_path / "missing.png"])
    np.testing.assert_allclose(evaluate(rgb_model, picture)[0].probabilities, before)


# Plotting -------------------------------------------------------------------------------


def test_plot_predictions_draws_one_titled_panel_per_image(rgb_model, picture):
    import matplotlib

    matplotlib.use("Agg")
    images = [picture, 255 - picture, picture]
    predictions = evaluate(rgb_model, images, class_names=["a", "b", "c"])
    fig = resnet.plot_predictions(images, predictions, ncols=2)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert len(titles) == 3 and all("%" in t for t in titles)
    with pytest.raises(ValueError, match="one entry per image"):
        resnet.plot_predictions(images, predictions[:2])


# BN folded for inference -----------------------------------------------------------------


def test_evaluate_folds_bn_from_many_images_and_predicts_the_same(rng, monkeypatch):
    from conftest import PROBABILITY_ATOL

    from resnet.apply import fold, inference
    from resnet.book.checks import randomize_weights

    # Trained-looking BN statistics (a fresh model's BN is the identity, which would hide a
    # fold that forgot them).
    model = randomize_weights(resnet.ResNet50(input_shape=(32, 32, 3), classes=4), seed=0)
    images = rng.integers(0, 256, size=(6, 32, 32, 3), dtype=np.uint8)
    plain = _probs(evaluate(model, images, fold=False))
    folded = _probs(evaluate(model, images, fold=True))
    np.testing.assert_allclose(folded, plain, atol=PROBABILITY_ATOL)
    # "auto" folds only where the fold repays its cost: from FOLD_FROM_IMAGES images up.
    calls = []
    monkeypatch.setattr(fold, "fold_batchnorm", lambda m: calls.append(m) or m)
    evaluate(model, images)
    assert calls == []
    monkeypatch.setattr(inference, "FOLD_FROM_IMAGES", len(images))
    evaluate(model, images)
    assert calls == [model]
    with pytest.raises(ValueError, match="`fold` must be 'auto', True or False"):
        evaluate(model, images, fold="yes")


def test_auto_does_not_fold_a_model_without_conv_bn_pairs(rgb_model, picture, monkeypatch):
    from resnet.apply import inference

    monkeypatch.setattr(inference, "FOLD_FROM_IMAGES", 1)
    assert inference.inference_model(rgb_model, 10) is rgb_model  # no BN: nothing to fold
    expected = _probs(evaluate(rgb_model, picture, fold=False))
    np.testing.assert_array_equal(_probs(evaluate(rgb_model, picture)), expected)
