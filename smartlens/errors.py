"""The errors SmartLens shows to people: one base class, so every front end catches one thing.

Anything raised as a :class:`UserError` is a problem a curator or a visitor can act on (a bad
file, a bad name, a broken guide); the CLI prints it and the apps show it, never as a traceback.
"""

from __future__ import annotations


class UserError(ValueError):
    """A problem a person can act on, with a message that says what and where."""


class UnsafeNameError(UserError):
    """A name or path that could escape its folder or break a file system."""


class ImageError(UserError):
    """An image that cannot be used, with the reason."""


class MediaError(UserError):
    """An audio, video or captions file that is not what it must be, with the reason."""


class NotAvailableError(UserError):
    """A method or feature that is not built, or not available with the current set-up."""


class GuideBusyError(UserError):
    """Another process is saving the same guide and did not finish in time."""


class StaleEditError(UserError):
    """An edit made on an older copy of the guide that someone else has changed since."""


class GuideError(UserError):
    """A guide that breaks a rule; ``problems`` lists every bad field as 'where: what'."""

    def __init__(self, problems: list[str], source: str = "guide"):
        self.problems = problems
        lines = "\n  - ".join(problems)
        plural = "s" * (len(problems) > 1)
        super().__init__(f"{source} is not valid ({len(problems)} problem{plural}):\n  - {lines}")


#: What the CLI and the apps report as a message: user errors and missing or existing files.
USER_ERRORS: tuple[type[Exception], ...] = (UserError, FileNotFoundError, FileExistsError)
