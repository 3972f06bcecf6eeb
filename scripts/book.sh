#!/usr/bin/env bash
# Render the book to HTML (_build/html/index.html) from the notebooks' stored outputs.
source "$(dirname "$0")/_env.sh"
jupyter-book build . "$@"
echo "Open _build/html/index.html in a browser."
