"""The project error type: a user mistake, printed by front ends as one line."""


class PyvirtError(Exception):
    """A problem with what the user asked for (bad option, missing file...).

    Front ends print ``str(err)`` as a single line on stderr and exit 1.
    Guest misbehaviour is never a PyvirtError: the guest gets the
    architectural fault instead.
    """
