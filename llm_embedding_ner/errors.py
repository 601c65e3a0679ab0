"""The one exception type that means "the user asked for something we cannot do"."""


class UserError(Exception):
    """A mistake in the user's input (text, file, model, options).

    The command line prints it as a single ``error: ...`` line and exits with code 2;
    anything else that escapes is a bug and keeps its traceback.
    """
