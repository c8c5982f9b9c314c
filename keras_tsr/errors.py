"""What a user can cause, as one error type, and the command line's exit codes.

Every module raises `KerasTsrError` (or a subclass) for bad input, bad artifacts, bad arguments and outputs that
cannot be written, with a message that names the file, says what is wrong and what to do. The command line turns
exactly these (and a full disk) into one line and exit code 2; anything else is a bug in keras-tsr and keeps its
traceback, with exit code 3. The subclasses also derive from the built-in type a library user would expect
(`ValueError`, `FileExistsError`, ...), so `except ValueError` around a call keeps working.

    exit code   meaning
    0           done
    1           some inputs failed (each named on stderr); the others were done
    2           refused: a user error (bad argument, input, model or output), a missing extra, a full disk;
                nothing was done, or the work stopped with what was written before kept whole
    3           internal error: a bug in keras-tsr (the traceback is printed); please report it
    130         interrupted (Ctrl-C); a rerun resumes where the command supports it
"""

EXIT_DONE = 0
EXIT_SOME_FAILED = 1
EXIT_REFUSED = 2
EXIT_INTERNAL = 3
EXIT_INTERRUPTED = 130


class KerasTsrError(Exception):
    """Something the user can cause and fix; the message says what, which file, and what to do."""


class ArgumentError(KerasTsrError, ValueError):
    """An argument or setting keras-tsr cannot honour: an unknown name, a value out of range, a combination that
    does not go together."""


class OutputError(KerasTsrError, OSError):
    """An output that cannot be written where it was asked for (a file in the way of a folder, a folder where a
    file is meant, a read-only place, an existing result without --overwrite)."""


class OutputExistsError(OutputError, FileExistsError):
    """An existing output that would be replaced without --overwrite."""


class DamagedFileError(KerasTsrError, ValueError):
    """A file that is cut off, corrupted or not what its name says (a truncated download, a disk that filled)."""


class NotFoundError(KerasTsrError, FileNotFoundError):
    """An input that does not exist (a file, a dataset, a finished run)."""
