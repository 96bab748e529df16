"""Limits of API tokens, free of Django so the command line can check its options before setting up."""

# Tokens expire: 90 days unless told otherwise; never without an explicit "no expiry".
DEFAULT_LIFETIME_DAYS = 90
MAX_LIFETIME_DAYS = 3650
# After a rotation the old secret may keep working this long at most, while the other system switches.
MAX_GRACE_HOURS = 168
