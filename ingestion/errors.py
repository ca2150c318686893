"""Errors a person sees: what was wrong, where, and what to do."""

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """Control characters (terminal escape sequences in a header, NUL) shown as \\xNN, never sent raw."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


# How much of a file's content a message may quote: a value, a header, a library's complaint.
EXCERPT_CHARS = 80
HEADERS_SHOWN = 30
_PROBLEM_CHARS = 2000  # backstop for a whole message


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


def excerpt(value: object, limit: int = EXCERPT_CHARS) -> str:
    """A value from a file as a message quotes it: in quotes, escaped, at most ``limit`` characters."""
    text = str(value)
    shown = printable(repr(text[:limit]))
    return shown if len(text) <= limit else f"{shown}... ({len(text):,} characters)"


def short(text: object, limit: int = 200) -> str:
    """Free text that may quote a file (a parser's or the server's complaint): one line, escaped, capped."""
    return printable(_cut(" ".join(str(text).split()), limit))


def headers_excerpt(headers: list[str]) -> str:
    """A file's headers as a message lists them: each capped, at most HEADERS_SHOWN of them."""
    shown = [printable(_cut(h, EXCERPT_CHARS)) for h in headers[:HEADERS_SHOWN]]
    more = len(headers) - HEADERS_SHOWN
    return ", ".join(shown) + (f", ... ({more} more)" if more > 0 else "")


class IngestionError(RuntimeError):
    """A file that cannot be ingested as a whole (wrong format, wrong channel)."""

    def __init__(self, source_file: str, problem: str, hint: str = ""):
        self.source_file = source_file
        self.problem = problem = printable(_cut(problem, _PROBLEM_CHARS))
        self.hint = hint = printable(hint)
        super().__init__(f"{source_file}: {problem}" + (f"\n  what to do: {hint}" if hint else ""))
