"""Where things live, and the business settings every page and command shares.

Paths default to ``data/`` beside the package; ``CHURN_DATA_DIR`` moves them all (tests point it
at a temporary folder so they never touch the user's data).
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Paths:
    """Every file location the core uses, below one data folder."""

    data_dir: Path

    @property
    def sample_dir(self) -> Path:
        return self.data_dir / "sample"

    @property
    def customers_csv(self) -> Path:
        return self.sample_dir / "customers.csv"

    @property
    def offer_history_csv(self) -> Path:
        return self.sample_dir / "offer_history.csv"

    @property
    def active_csv(self) -> Path:
        """The active base: customers still here, no ``Churn`` column (``churn.synth``)."""
        return self.sample_dir / "active.csv"

    @property
    def campaign_history_csv(self) -> Path:
        """Past randomised campaigns, one row per customer per campaign (``churn.history``)."""
        return self.sample_dir / "campaign_history.csv"

    @property
    def store(self) -> Path:
        return self.data_dir / "churn.duckdb"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def catalogue(self) -> Path:
        """The offer catalogue and rules (tracked in git, editable by users)."""
        own = self.data_dir / "offers.toml"
        return own if own.exists() else ROOT / "data" / "offers.toml"


def paths(data_dir: str | os.PathLike | None = None) -> Paths:
    """Paths below ``data_dir``, else ``$CHURN_DATA_DIR``, else ``<repo>/data``."""
    chosen = data_dir or os.environ.get("CHURN_DATA_DIR") or (ROOT / "data")
    return Paths(Path(chosen))


SAMPLE_ROWS = 7043
SAMPLE_SEED = 42


@dataclass(frozen=True)
class BusinessSettings:
    """Settings a finance or retention team sets once; the sidebar can change them.

    margin: share of MonthlyCharges that is profit (0..1), default 60%.
    annual_discount_rate: yearly rate used to discount future months (0..1), default 10%.
    horizon_months: how far ahead lifetime value is counted, default 36 months.
    high_risk / medium_risk: churn probability at or above which a customer is High / Medium risk.
    """

    margin: float = 0.60
    annual_discount_rate: float = 0.10
    horizon_months: int = 36
    high_risk: float = 0.50
    medium_risk: float = 0.25

    @property
    def monthly_discount_rate(self) -> float:
        return (1.0 + self.annual_discount_rate) ** (1.0 / 12.0) - 1.0

    def to_dict(self) -> dict:
        return asdict(self)


def risk_tier(prob, settings: BusinessSettings = BusinessSettings()):
    """"High" / "Medium" / "Low" for each churn probability (vectorised; returns a numpy array)."""
    import numpy as np

    p = np.asarray(prob, dtype=float)
    return np.where(p >= settings.high_risk, "High",
                    np.where(p >= settings.medium_risk, "Medium", "Low"))
