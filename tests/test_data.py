from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from resnet.preprocessing import preprocess
from resnet.train import data


@pytest.fixture(scope="module")
def digits():
    return data.digits()


def _batches(ds):
    images, labels = zip(*[(x.numpy(), y.numpy()) for x, y in ds], strict=True)
    return np.concatenate(images), np.concatenate(labels)


def test_digits_split_sizes_shapes_and_dtypes(digits):
    sizes = {name: len(split.labels) for name, split in digits.arrays.items()}
    assert sizes == {"train": 1077, "val": 360, "test": 360}
    assert digits.class_names == tuple("0123456789")
    assert digits.input_shape == (32, 32, 1)
    for split in digits.arrays.values():
        assert split.images.dtype == np.uint8 and split.images.shape[1:] == (8, 8, 1)
        assert split.labels.dtype == np.int32
    # 0..16 ink became 0..255 pixels.
    assert digits.arrays["train"].images.max() == 255
    images, labels = next(iter(digits.train))
    assert images.shape == (32, 32, 32, 1) and images.dtype.name == "float32"
    assert labels.shape == (32,) and labels.dtype.name == "int32"
    test_images, _ = _batches(digits.test)
    assert test_images.shape == (360, 32, 32, 1)
    assert 0 <= test_images.min() and test_images.max() <= 1


def test_digits_splits_partition_the_data_and_keep_the_class_balance(digits):
    from sklearn.datasets import load_digits

    all_labels = load_digits().target
    counts = np.bincount(all_labels)
    total = 0
    for split, share in (("train", 0.6), ("val", 0.2), ("test", 0.2)):
        split_counts = np.bincount(digits.arrays[split].labels, minlength=10)
        assert np.all(np.abs(split_counts - counts * share) <= 1.5), split
        total += split_counts
    np.testing.assert_array_equal(total, counts)
    train, val, test = data.split_indices(all_labels, seed=0)
    assert len(np.intersect1d(train, val)) == len(np.intersect1d(train, test)) == 0
    assert len(np.intersect1d(val, test)) == 0
    assert len(train) + len(val) + len(test) == len(all_labels)


def test_the_pipelines_use_the_shared_preprocessing(digits):
    images, labels = next(iter(digits.test))
    split = digits.arrays["test"]
    np.testing.assert_allclose(images.numpy(), np.asarray(preprocess(split.images[:32], 32)))
    np.testing.assert_array_equal(labels.numpy(), split.labels[:32])


def test_loading_is_deterministic_and_the_seed_matters(digits):
    once, again = data.digits(), data.digits()
    for name in ("train", "val", "test"):
        np.testing.assert_array_equal(again.arrays[name].images, digits.arrays[name].images)
        np.testing.assert_array_equal(again.arrays[name].labels, digits.arrays[name].labels)
    # Two fresh loads give the same shuffled order, epoch after epoch.
    first = [_batches(once.train)[1] for _ in range(2)]
    second = [_batches(again.train)[1] for _ in range(2)]
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    assert not np.array_equal(first[0], first[1])  # reshuffled every epoch
    np.testing.assert_array_equal(np.sort(first[0]), np.sort(digits.arrays["train"].labels))
    other = data.digits(seed=1)
    assert not np.array_equal(other.arrays["test"].labels, digits.arrays["test"].labels)


def test_digits_options():
    rgb = data.digits(image_size=(40, 36), batch_size=100, channels=3, val_fraction=0.1,
                      test_fraction=0.3)
    assert rgb.input_shape == (40, 36, 3)
    assert [len(s.labels) for s in rgb.arrays.values()] == [1077, 180, 540]
    images, _ = next(iter(rgb.val))
    assert images.shape == (100, 40, 36, 3)
    np.testing.assert_array_equal(images[..., 0], images[..., 2])  # grey, repeated


def test_lfw_faces_is_a_balanced_binary_task():
    faces = data.lfw_faces()
    assert faces.class_names == ("non-face", "face")
    assert faces.input_shape == (32, 32, 1)
    for name, size in (("train", 120), ("val", 40), ("test", 40)):
        split = faces.arrays[name]
        assert split.images.shape == (size, 25, 25, 1)
        np.testing.assert_array_equal(np.bincount(split.labels), [size // 2, size // 2])
    images, labels = _batches(faces.test)
    assert images.shape == (40, 32, 32, 1) and set(labels) == {0, 1}


def test_augment_keeps_shapes_and_labels_and_changes_images(digits):
    images, labels = next(iter(digits.val))
    augmented, same_labels = next(iter(data.augment(digits.val, seed=3)))
    assert augmented.shape == images.shape
    np.testing.assert_array_equal(same_labels, labels)
    assert not np.allclose(augmented, images)
    assert 0 <= float(np.min(augmented)) and float(np.max(augmented)) <= 1 + 1e-6


@pytest.fixture
def folder(tmp_path, rng):
    """Two classes of small images in assorted modes and sizes."""
    for name, colour in (("cats", 200), ("dogs", 50)):
        (tmp_path / name).mkdir()
        for i in range(5):
            pixels = np.clip(colour + rng.normal(0, 10, size=(20 + i, 30, 3)), 0, 255)
            image = Image.fromarray(pixels.astype(np.uint8))
            image = image.convert(["RGB", "L", "RGBA", "P", "RGB"][i])
            image.save(tmp_path / name / f"{i}.png")
    (tmp_path / "cats" / "notes.txt").write_text("not an image, and ignored: not an image suffix")
    return tmp_path


def test_image_folder_reads_one_class_per_subfolder(folder):
    ds = data.image_folder(folder, image_size=16, batch_size=4, val_fraction=0.2,
                           test_fraction=0.2)
    assert ds.class_names == ("cats", "dogs")
    assert ds.input_shape == (16, 16, 3)
    assert [len(s.labels) for s in ds.arrays.values()] == [6, 2, 2]
    images, labels = _batches(ds.train)
    assert images.shape == (6, 16, 16, 3)
    # Brighter cats than dogs survive the trip through every mode.
    assert images[labels == 0].mean() > 0.6 > 0.3 > images[labels == 1].mean()
    grey = data.image_folder(folder, image_size=(8, 12), channels=1)
    assert grey.input_shape == (8, 12, 1)


def test_image_folder_errors_name_the_problem(folder, tmp_path):
    with pytest.raises(FileNotFoundError, match="missing"):
        data.image_folder(tmp_path / "missing")
    with pytest.raises(ValueError, match="at least two"):
        data.image_folder(folder / "cats")
    (folder / "birds").mkdir()
    with pytest.raises(ValueError, match="birds.*no images"):
        data.image_folder(folder)
    (folder / "birds" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    with pytest.raises(ValueError, match=r"broken\.png"):
        data.image_folder(folder)


def test_image_folder_with_skipped_lists_what_it_could_not_read(folder):
    (folder / "dogs" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    (folder / "dogs" / ".DS_Store").write_bytes(b"\0")  # hidden: ignored, not listed
    ds, skipped = data.image_folder_with_skipped(folder, image_size=16, test_fraction=0)
    assert [Path(path).name for path, _ in skipped] == ["notes.txt", "broken.png"]
    assert all("not a readable image" in reason for _, reason in skipped)
    assert ds.class_names == ("cats", "dogs")
    assert [len(s.labels) for s in ds.arrays.values()] == [8, 2, 0]
    for name in ("dogs", "cats"):
        for f in (folder / name).glob("*.png"):
            if name == "cats" or f.name != "broken.png":
                f.unlink()
    with pytest.raises(ValueError, match="cats.*no readable images"):
        data.image_folder_with_skipped(folder)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(val_fraction=0), "val_fraction"),
        (dict(test_fraction=1.0), "test_fraction"),
        (dict(val_fraction=0.5, test_fraction=0.5), "below 1"),
        (dict(batch_size=0), "batch_size"),
        (dict(channels=2), "channels"),
        (dict(image_size=(8,)), "image_size"),
    ],
)
def test_bad_loader_arguments_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        data.digits(**kwargs)


def test_subset_keeps_the_named_classes_relabelled_in_their_order(digits):
    few = data.subset(digits, ["9", "5", "7"], per_class=4, val_per_class=3, seed=1,
                      batch_size=8)
    assert few.class_names == ("9", "5", "7") and few.input_shape == digits.input_shape
    np.testing.assert_array_equal(np.bincount(few.arrays["train"].labels), [4, 4, 4])
    np.testing.assert_array_equal(np.bincount(few.arrays["val"].labels), [3, 3, 3])
    test = digits.arrays["test"]
    np.testing.assert_array_equal(np.bincount(few.arrays["test"].labels),
                                  [np.sum(test.labels == d) for d in (9, 5, 7)])
    # Every kept image is one of the original's, under its new label.
    for split, kept in few.arrays.items():
        original = digits.arrays[split]
        for image, label in zip(kept.images, kept.labels, strict=True):
            same = np.flatnonzero(np.all(original.images == image, axis=(1, 2, 3)))
            assert int(few.class_names[label]) in original.labels[same], split
    images, labels = _batches(few.train)
    assert images.shape == (12, 32, 32, 1) and sorted(labels) == sorted(few.arrays["train"]
                                                                       .labels)
    # The seed draws the training images; the same seed draws the same ones.
    again = data.subset(digits, ["9", "5", "7"], per_class=4, val_per_class=3, seed=1)
    other = data.subset(digits, ["9", "5", "7"], per_class=4, val_per_class=3, seed=2)
    np.testing.assert_array_equal(again.arrays["train"].images, few.arrays["train"].images)
    assert not np.array_equal(other.arrays["train"].images, few.arrays["train"].images)
    whole = data.subset(digits, [str(d) for d in range(5)])
    assert len(whole.arrays["train"].labels) == np.sum(digits.arrays["train"].labels < 5)


@pytest.mark.parametrize("kwargs, message", [
    (dict(classes=["5", "x"]), "`classes` must name two or more different classes"),
    (dict(classes=["5", "5"]), "`classes` must name two or more different classes"),
    (dict(classes=["5"]), "`classes` must name two or more different classes"),
    (dict(classes=["5", "6"], per_class=1000), "`per_class` (1000) exceeds the 10"),
    (dict(classes=["5", "6"], per_class=0), "`per_class` must be a positive int"),
    (dict(classes=["5", "6"], val_per_class=2.5), "`val_per_class` must be a non-negative int"),
    (dict(classes=["5", "6"], val_per_class=-1), "`val_per_class` must be a non-negative int"),
])
def test_subset_refuses_bad_arguments_naming_them(digits, kwargs, message):
    with pytest.raises(ValueError) as error:
        data.subset(digits, **kwargs)
    assert message in str(error.value)
