"""The book's one file of per-CPU measurements, and the functions that read it."""

import pytest

from resnet.book import measurements
from resnet.train import speed

FIELDS = {"section", "machine", "date", "versions", "conditions", "source", "what",
          "network", "setting", "value", "unit"}
UNITS = {"images/s", "ratio", "ms", "s", "GiB", "accuracy"}


@pytest.mark.parametrize("index", range(len(measurements.load()["measurements"])))
def test_every_record_is_complete_and_names_a_known_machine(index):
    record = measurements.load()["measurements"][index]
    assert FIELDS <= set(record) <= FIELDS | {"value_high"}, record
    assert record["machine"] in measurements.machines(), record
    assert record["unit"] in UNITS, record
    assert isinstance(record["value"], int | float) and record["value"] > 0, record
    if "value_high" in record:  # the highest of several runs: above the lowest
        assert record["value_high"] > record["value"], record
    assert record["date"].startswith("2026-"), record
    assert record["source"] and record["what"] and record["setting"], record


@pytest.mark.parametrize("name", sorted(measurements.machines()))
def test_every_machine_is_described_as_cpu_description_does(name):
    machine = measurements.machines()[name]
    flags = {"AVX2": {"avx2"}, "AVX-512": {"avx2", "avx512f"},
             "AVX512-BF16": {"avx512_bf16"}, "AMX": {"amx_bf16"}}
    info = speed.CpuInfo(
        machine["cpu"].split(" (")[0], machine["cores"], None,
        frozenset().union(*(flags[f] for f in machine["features"])), "",
        machine["family"], machine["model"])
    described = speed.cpu_description(info)
    if machine["family"] is not None and machine["model"] is not None:
        assert machine["cpu"] == described
    else:  # family or model not recorded: the rest as cpu_description says it
        assert machine["cpu"].endswith(described.split("; ", 1)[-1]), (machine["cpu"],
                                                                        described)
    assert machine["kind"] in measurements.kinds() if machine["kind"] else machine["label"]
    assert measurements.label(name) in (machine["kind"], machine.get("label"))
    assert any(r["machine"] == name for r in measurements.load()["measurements"])


def test_value_and_ratio_read_one_record():
    what = "training, 32x32x1, batch 32"
    off = measurements.value("xeon-amx", what, "float32, XLA off")
    on = measurements.value("xeon-amx", what, "float32, XLA on")
    assert measurements.ratio("xeon-amx", what, "float32, XLA on",
                              "float32, XLA off") == pytest.approx(on / off)


def test_a_missing_or_ambiguous_record_is_named():
    with pytest.raises(LookupError, match="machine='xeon-amx'.*expected one"):
        measurements.record("xeon-amx", "no such measurement", "float32, XLA off")
    with pytest.raises(LookupError, match="2 records"):  # two runs on two dates
        measurements.record("epyc-avx512", "training, 32x32x1, batch 32",
                            "float32, XLA off")


def test_find_names_an_unknown_field():
    with pytest.raises(ValueError, match="no field \\['colour'\\]"):
        measurements.find(colour="red")


def test_values_and_tables_print_as_the_book_shows_them():
    one = {"value": 0.9951, "unit": "ratio"}
    several = {"value": 60, "value_high": 100, "unit": "images/s"}
    assert measurements.format_value(one) == "0.995"
    assert measurements.format_value(several) == "60 to 100"
    table = measurements.table([several], {"runs": measurements.format_value,
                                           "unit": "unit"})
    assert table.splitlines() == ["| runs | unit |", "|---|---|", "| 60 to 100 | images/s |"]
