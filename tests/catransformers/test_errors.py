"""One error root: every package's errors are CATransformersError and their matching builtin."""

import numpy as np
import pytest

import carbon_data
import hw_models
from catransformers.evaluate import evaluate
from catransformers.errors import CATransformersError, ConfigError, OutputError
from catransformers_errors import CATransformersError as Root


def test_one_root_for_all_three_packages():
    assert CATransformersError is Root
    for cls, builtin in [(hw_models.HardwareError, ValueError), (carbon_data.CarbonDataError, ValueError),
                         (carbon_data.UnknownNameError, KeyError), (ConfigError, ValueError), (OutputError, OSError)]:
        assert issubclass(cls, Root) and issubclass(cls, builtin), cls


def test_hardware_error_through_evaluate_is_caught_by_the_root():
    from catransformers.workloads import get_model

    with pytest.raises(CATransformersError, match="hardware.clusters"):
        evaluate(get_model("vit-b-16"), hw_models.HardwareConfig.from_mapping({"clusters": "3"}))


def test_carbon_lookup_error_is_caught_by_the_root():
    with pytest.raises(CATransformersError, match="nowhere"):
        carbon_data.grid_intensity("nowhere")


def test_hardware_batch_is_read_only():
    hw = hw_models.reference_grid()
    with pytest.raises(ValueError):
        hw.pe_width[0] = 48
    # the caller's array is copied, not frozen in place
    mine = np.array([1, 2, 4])
    batch = hw_models.HardwareBatch.from_arrays(clusters=mine)
    mine[0] = 3
    assert batch.clusters[0] == 1 and mine.flags.writeable


@pytest.mark.parametrize("key, value", [("clusters", True), ("clusters", "nan"), ("dram_gb", 1e308), ("frequency_mhz", float("inf")),
                                        ("pe_width", "1e308"), ("clusters", [2]), ("l2_bw", 2.5), ("dram_gb", -1)])
def test_hardware_values_rejected_with_the_field_named(key, value):
    with pytest.raises(hw_models.HardwareError, match=f"hardware.{key}"):
        hw_models.HardwareConfig.from_mapping({key: value})


def test_hardware_batch_rejects_booleans_and_fractions():
    with pytest.raises(hw_models.HardwareError, match="hardware.clusters"):
        hw_models.HardwareBatch.from_arrays(clusters=np.array([True, False]))
    with pytest.raises(hw_models.HardwareError, match="whole number"):
        hw_models.HardwareBatch.from_arrays(l2_bw=np.array([2.5]))
