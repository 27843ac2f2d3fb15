"""The exceptions of rns_analyzer: the CLI's one-line message and exit code."""


class RnsError(Exception):
    """A recording could not be analysed. ``exit_code`` is the code ``rns``
    exits with for the same failure (1 internal or write error, 2 usage,
    3 unreadable input, 4 nothing to analyse); ``message`` its one-line
    message, naming the file."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code

    def __reduce__(self):
        # Pickled across processes (Dask workers) with both fields.
        return (self.__class__, (self.message, self.exit_code))


class UsageError(RnsError, ValueError):
    """A setting or a sidecar/criteria file is invalid (exit code 2)."""


class InputError(RnsError, OSError):
    """The recording cannot be read: missing, unsupported, malformed, over a limit (exit code 3)."""

    def __init__(self, message: str, exit_code: int = 3):
        RnsError.__init__(self, message, exit_code)


class NothingToAnalyseError(RnsError):
    """The recording holds no response to measure (exit code 4)."""
