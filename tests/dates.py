"""Dates relative to today, never fixed: a fixed future date is a bomb once the clock passes it (a lot
expiring 2027-12-31 once broke 46 tests). In the clock-ahead run (DERMATOX_TEST_CLOCK_AHEAD_DAYS, see
conftest) "today" is the moved day."""

import datetime as dt
import os

TODAY = dt.date.today() + dt.timedelta(days=int(os.environ.get("DERMATOX_TEST_CLOCK_AHEAD_DAYS", "0") or 0))
FAR_EXPIRY = TODAY + dt.timedelta(days=730)  # a lot's expiry, well ahead
NEXT_YEAR = TODAY + dt.timedelta(days=365)
