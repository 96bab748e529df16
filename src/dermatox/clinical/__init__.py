"""Pure clinical logic and reference data. No Django, no I/O beyond reading its own data files, no clock:
the date is always an argument. Nothing here imports other Dermatox packages."""
