"""The command line: `python -m churn COMMAND ...` for batch work.

Each command parses its arguments here and calls one or two core functions. Exit status: 0 on
success, 1 when the input has problems the user can fix, 2 when a file cannot be read at all.
"""
from __future__ import annotations

import argparse
import json
import sys


def _not_ready(name: str) -> int:
    print(f"`{name}` is not available in this build.", file=sys.stderr)
    return 2


# --- synth -------------------------------------------------------------------------------------
def cmd_synth(args) -> int:
    return _not_ready("synth")


# --- validate ----------------------------------------------------------------------------------
def cmd_validate(args) -> int:
    return _not_ready("validate")


# --- train / models ----------------------------------------------------------------------------
def cmd_train(args) -> int:
    return _not_ready("train")


def cmd_models(args) -> int:
    return _not_ready("models")


# --- score -------------------------------------------------------------------------------------
def cmd_score(args) -> int:
    return _not_ready("score")


# --- campaign ----------------------------------------------------------------------------------
def cmd_campaign(args) -> int:
    return _not_ready("campaign")


# --- bench -------------------------------------------------------------------------------------
def cmd_bench(args) -> int:
    return _not_ready("bench")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m churn", description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", help="data folder (default: $CHURN_DATA_DIR or ./data)")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("synth", help="generate a sample in the Telco schema")
    s.add_argument("--rows", type=int, default=7043)
    s.add_argument("--seed", type=int, default=42)
    s.add_argument("--out", required=True, help="output folder")
    s.set_defaults(func=cmd_synth)

    s = sub.add_parser("validate", help="check a customer file and report every problem")
    s.add_argument("file")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_validate)

    s = sub.add_parser("train", help="train (or load from cache) and compare the model families")
    s.add_argument("--data", help="customer file with Churn (default: the sample)")
    s.add_argument("--models", default="lr,rf,xgb,cat")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_train)

    s = sub.add_parser("models", help="list model versions, or activate one")
    s.add_argument("--activate", metavar="ID")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_models)

    s = sub.add_parser("score", help="score a customer file of any size, in chunks")
    s.add_argument("file")
    s.add_argument("--out", required=True, help="output file (.csv or .parquet)")
    s.add_argument("--chunk-rows", type=int, default=100_000)
    s.set_defaults(func=cmd_score)

    s = sub.add_parser("campaign", help="build a budgeted retention campaign list")
    s.add_argument("--data", help="customer file (default: the sample)")
    s.add_argument("--budget", type=float, required=True, help="dollars")
    s.add_argument("--out", required=True, help="output file (.csv or .xlsx)")
    s.set_defaults(func=cmd_campaign)

    s = sub.add_parser("bench", help="run every benchmark and print figures against targets")
    s.add_argument("--quick", action="store_true")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_bench)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.data_dir:
        import os

        os.environ["CHURN_DATA_DIR"] = args.data_dir
    return int(args.func(args) or 0)
