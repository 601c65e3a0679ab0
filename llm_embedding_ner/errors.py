"""The one exception type that means "the user asked for something we cannot do"."""


class UserError(Exception):
    """A mistake in the user's input (text, file, model, options).

    The command line prints it as a single ``error: ...`` line and exits with code 2;
    anything else that escapes is a bug and keeps its traceback.
    """


def first_line(error: BaseException) -> str:
    """The first line of an exception's message (libraries' messages run to many lines)."""
    message = str(error).strip()
    return message.splitlines()[0] if message else type(error).__name__
