"""Applying a trained model to images.

``images`` reads image files, PIL images and arrays into batches the model takes;
``inference`` is ``evaluate`` (class names and probabilities for your images) and its
plots; ``gradcam`` shows where the network looks; ``fold`` folds batch normalisation
into the convolutions for inference. Nothing here trains a model.
"""
