"""`python -m churn ...`: the command line (see `churn.cli`)."""
import sys

from churn.cli import main

sys.exit(main())
