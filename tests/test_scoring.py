"""The first start's training configuration (`churn.scoring.first_start_config`)."""
from __future__ import annotations

import pytest

from churn import models, scoring


@pytest.fixture
def no_test_config(monkeypatch):
    monkeypatch.setattr(scoring, "TRAIN_CONFIG", None)  # the suite's autouse small config
    monkeypatch.delenv(scoring.GRID_ENV, raising=False)
    return monkeypatch


def test_default_is_every_family_on_the_full_grid(no_test_config):
    assert scoring.first_start_config() == models.TrainConfig()
    assert scoring.first_start_config().grid == "full"
    assert scoring.first_start_config().families == tuple(models.FAMILIES)


@pytest.mark.parametrize("value, grid", [("small", "small"), (" Small ", "small"),
                                         ("full", "full"), ("", "full")])
def test_the_environment_chooses_the_grid(no_test_config, value, grid):
    no_test_config.setenv(scoring.GRID_ENV, value)
    config = scoring.first_start_config()
    assert config.grid == grid and config.families == tuple(models.FAMILIES)


def test_a_bad_grid_is_named(no_test_config):
    no_test_config.setenv(scoring.GRID_ENV, "tiny")
    with pytest.raises(ValueError) as err:
        scoring.first_start_config()
    assert str(err.value) == ("CHURN_TRAIN_GRID='tiny' must be 'full' or 'small' (the first "
                              "start's training grid; unset means 'full').")


def test_a_configuration_set_in_code_wins(no_test_config):
    mine = models.TrainConfig(families=("lr",), folds=2)
    no_test_config.setattr(scoring, "TRAIN_CONFIG", mine)
    no_test_config.setenv(scoring.GRID_ENV, "tiny")
    assert scoring.first_start_config() is mine
