"""Training a model: the data, the recipe and the per-machine speed choices.

``data`` gives fixed, stratified ``tf.data`` splits (the digits, the faces, a folder of
your own images, CIFAR-10); ``training`` is the book's recipe (augmentation, warm-up
and cosine decay, the best epoch's weights, resumable runs, saving); ``finetune`` starts
from pretrained weights instead (a new classifier on the frozen network, then all of
it); ``speed`` chooses the device strategy, the precision and XLA for the machine at hand.
"""
