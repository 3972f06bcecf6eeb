"""Re-execute notebooks in place, each top to bottom in one fresh kernel.

    python scripts/execute_notebooks.py                    # every notebook
    python scripts/execute_notebooks.py notebooks/02_*.ipynb

The kernel runs in this Python environment, in notebooks/, with TensorFlow's C++
logs silenced and with the training seeds the chapters' code shows
(RESNET_BOOK_SEED_OFFSET, which the tests set to re-run the training along another
path, is removed). Output written straight to file descriptor 2 by TensorFlow's C++
code is not captured (nbval does not capture it either), so the stored
notebooks hold exactly what nbval compares.
"""

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent


def execute(path):
    notebook = nbformat.read(path, as_version=4)
    notebook.metadata["kernelspec"] = {
        "name": "python3", "display_name": "Python 3", "language": "python"
    }
    client = NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=1200,
        resources={"metadata": {"path": str(Path(path).parent)}},
        extra_arguments=["--IPKernelApp.capture_fd_output=False"],
    )
    client.execute()
    nbformat.write(notebook, path)


def main(paths):
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    os.environ.pop("RESNET_BOOK_SEED_OFFSET", None)
    paths = paths or sorted(str(p) for p in (ROOT / "notebooks").glob("*.ipynb"))
    for path in paths:
        start = time.perf_counter()
        execute(path)
        print(f"{path}: executed in {time.perf_counter() - start:.0f} s", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
