"""Training a model: the data, the recipe and the per-machine speed choices.

``data`` gives fixed, stratified ``tf.data`` splits (the digits, the faces, a folder of
your own images, CIFAR-10); ``training`` is the book's recipe (augmentation, warm-up
and cosine decay, the best epoch's weights, saving); ``finetune`` starts
from pretrained weights instead (a new classifier on the frozen network, then all of
it); ``backup`` makes either resumable; ``folder`` trains on a folder of your own images in
one call (what ``python -m resnet train`` runs); ``speed`` chooses the device strategy, the
precision and XLA for the machine at hand.
"""
