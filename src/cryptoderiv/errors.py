"""Typed failures shared across the library.

Every error a person can cause (bad input, a missing service, a broken file) is a subclass of
:class:`CryptoderivError`, so the CLI can print it as one line and the DAGs can fail loudly with it.
"""


class CryptoderivError(Exception):
    """Base class of the errors this library raises on purpose."""


class ConfigurationError(CryptoderivError):
    """A setting is missing or invalid."""


class DatabaseError(CryptoderivError):
    """The database cannot be started, reached or migrated."""


class ContractViolation(CryptoderivError):  # noqa: N818 - a violation, not a malfunction
    """A batch breaks a table's contract; nothing of it was written."""
