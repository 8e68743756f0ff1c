"""Errors a user can fix (bad input, config, environment): reported without a traceback."""


class InsightError(Exception):
    """Base class: the message names the bad input and what to do."""


class ConfigError(InsightError, ValueError):
    """A config file, env name or override is invalid; the message names it."""


class LandingError(InsightError):
    """The landing zone is missing, empty or unreadable."""


class DataQualityError(InsightError):
    """Rows about to be written break an output rule; nothing was written."""


class InvariantError(RuntimeError):
    """Counts do not reconcile (rows in != written + quarantined + duplicates): a bug."""


class ConflictError(InsightError):
    """Concurrent writers kept conflicting on one Delta table; this commit never happened."""

    exit_code = 3  # not bad input: running the job again is the fix


class MappingError(InsightError):
    """An import mapping (conf/imports/*.yaml) or the export it maps is not usable; the
    message names the file, the key or the column."""
