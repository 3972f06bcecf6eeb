"""Classical baselines on the raw pixels: what a network has to beat.

    >>> from resnet.book import baseline
    >>> from resnet.train import data
    >>> round(baseline.svm_accuracy(data.digits(image_size=8)), 3)   # doctest: +SKIP
    0.981

On tiny, clean, centred images a kernel method is hard to beat, and the training chapter
measures its ResNet50 against these two. Both fit the training split's pixels (scaled to
[0, 1], as they are stored: 8x8 for the digits) and score another split. scikit-learn
does the work (it ships the digits, so it is installed with the book).
"""


def _pixels(dataset, split):
    images, labels = dataset.arrays[split]
    return images.reshape(len(images), -1) / 255.0, labels


def svm_accuracy(dataset, split="test", *, C=10):
    """The accuracy on ``split`` of an SVM (RBF kernel, ``C``, gamma "scale") fitted on the
    training split's raw pixels of a ``resnet.train.data`` Dataset."""
    from sklearn.svm import SVC

    return float(SVC(C=C, gamma="scale").fit(*_pixels(dataset, "train")).score(
        *_pixels(dataset, split)))


def knn_accuracy(dataset, split="test", *, k=3):
    """The accuracy on ``split`` of ``k``-nearest neighbours on the training split's raw pixels."""
    from sklearn.neighbors import KNeighborsClassifier

    return float(KNeighborsClassifier(k).fit(*_pixels(dataset, "train")).score(
        *_pixels(dataset, split)))
