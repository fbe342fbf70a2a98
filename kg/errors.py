"""The errors the pipeline raises on purpose; the CLI turns each into a message and an exit code."""


class KgError(Exception):
    """Base of the project's expected errors: a message for a person, never a traceback; `hint`, what the command
    line offers instead (an option), which kg serve's clients have no use for."""

    exit_code = 1

    def __init__(self, message: str = "", hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


class InputError(KgError):
    """An input file is missing or malformed (the message names the file, the line and the cause)."""

    exit_code = 2


class InconsistencyError(KgError):
    """The OWL 2 RL closure is inconsistent (a member of owl:Nothing, disjoint classes sharing a node, ...)."""

    exit_code = 1


class UsageError(KgError):
    """The user asked for something that does not exist or is ambiguous (query name, parameter, entity)."""

    exit_code = 2


class QueryError(KgError):
    """A SPARQL query cannot be run: it does not parse (the message gives the parser's position and reason), it
    is refused (SERVICE, an outside FROM, an update), or it failed while running (a function's type error)."""

    exit_code = 2


class OutputError(KgError):
    """An output file cannot be written (the message names the path and the cause); nothing is half-written."""

    exit_code = 2


class EndpointError(KgError):
    """A SPARQL endpoint could not answer (timeout, HTTP error, unreadable answer); the message names the endpoint
    and the cause, and the enrichment cache is left as it was."""

    exit_code = 2


class StoreError(KgError):
    """A store cannot be opened or reached, or holds no build (or a stale one) of the current inputs."""

    exit_code = 2
