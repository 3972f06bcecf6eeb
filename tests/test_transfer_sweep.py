"""The fine-tuning chapter's sweep: the results that ship are the experiment it describes.

``benchmarks/transfer_digits.py`` writes ``resnet/book/results/transfer_digits.json``,
and chapter 7 draws its table and Figure 7.1 from it. Running the sweep takes most of an
hour on 2 CPU cores, so the tests check the shipped file against the script's defaults
(every k, seed and method; the same budget for each). The chapter itself runs the
same recipes (``data.subset``, ``fine_tune_resnet50``, ``train_resnet50``) under nbval.
"""

import json
import sys
from importlib.resources import files
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "transfer_digits.py"
sys.path.insert(0, str(SCRIPT.parent))
import transfer_digits  # noqa: E402


@pytest.fixture(scope="module")
def sweep():
    return json.loads(files("resnet.book").joinpath("results/transfer_digits.json").read_text())


def test_the_shipped_sweep_has_every_k_seed_and_method_of_the_default_run(sweep):
    defaults = transfer_digits.parser().parse_args([])
    assert (sweep["head_steps"], sweep["steps"]) == (defaults.head_steps, defaults.steps)
    assert sweep["pretrain"]["epochs"] == defaults.pretrain_epochs
    runs = {(run["k"], run["seed"], run["method"]): run for run in sweep["runs"]}
    assert len(runs) == len(sweep["runs"]), "a run is in the file twice"
    expected = {(k, seed, method) for k in defaults.ks for seed in defaults.seeds
                for method in transfer_digits.METHODS}
    assert set(runs) == expected
    for run in runs.values():
        assert run["steps"] >= defaults.head_steps + defaults.steps  # the same budget
        assert 0 <= run["test_accuracy"] <= 1
    assert "AMD" in sweep["machine"] or "Intel" in sweep["machine"] or "GPU" in sweep["machine"]
