"""Shared command-line machinery: errors and exit codes, UTC times, output files,
the analyst log, and escaping of untrusted log text.

The database lives in casedb.py, log reading in logfiles.py, detections in
detections.py, markdown reports in reports.py and charts in charts.py.
"""
import contextlib
import datetime as dt
import os
import re
import sys
from pathlib import Path

import orjson

EXIT_OK, EXIT_RUNTIME, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
UTC = dt.timezone.utc


class UsageError(Exception):
    """Bad command-line arguments: the script prints its usage and exits 2."""


class ToolError(Exception):
    """A runtime problem the analyst can fix: one line on stderr, exit 1."""


def run_cli(doc, argv, body):
    """Runs body(argv) and turns its errors into one stderr line and an exit code.

    doc is the script's module docstring, printed as the usage text.
    """
    prog = Path(argv[0]).name if argv else "tool"
    try:
        return body(argv)
    except UsageError as error:
        print(f"{prog}: {error}\n\n{doc.strip()}", file=sys.stderr)
        return EXIT_USAGE
    except ToolError as error:
        print(f"{prog}: {error}", file=sys.stderr)
        return EXIT_RUNTIME
    except KeyboardInterrupt:
        print(f"{prog}: interrupted - nothing half-written was kept; run the same command again to finish",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader of stdout went away (`| head`); the work itself is done and stored.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


def first_line(error, empty=None):
    """The first line of an error's message (DuckDB errors run to many lines): the one place
    that turns an exception into the text of a one-line message. empty: what to say when the
    message is blank (default: the exception's type name)."""
    text = str(error).strip()
    if text:
        return text.splitlines()[0]
    return type(error).__name__ if empty is None else empty


def database_error(db_path, error):
    """The ToolError for a DuckDB error while working on the case database."""
    return ToolError(f"{db_path}: database error: {first_line(error)}")


def env_text(name, default):
    value = os.environ.get(name, "").strip()
    return value or default


def env_number(name, default, kind=int):
    """A numeric setting from the environment; a bad value is a clear error, not a silent default."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ToolError(f"environment variable {name}={raw!r} is not a number") from None
    if value < 0:
        raise ToolError(f"environment variable {name}={raw!r} must not be negative")
    return value


# ---------------------------------------------------------------- times (UTC)

_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_utc_time(text):
    """Parses an ISO date or date-time given on the command line; no zone means UTC.

    >>> parse_utc_time("2026-11-03T12:00").isoformat()
    '2026-11-03T12:00:00+00:00'
    """
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(f"cannot read {text!r} as a UTC date or time (use e.g. 2026-11-01 or 2026-11-01T13:30)") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_window(since_text=None, until_text=None):
    """SINCE and UNTIL arguments as (since, until_exclusive) in UTC; None means open.

    UNTIL is inclusive: a date covers that whole day, a time includes that instant.
    """
    since = parse_utc_time(since_text) if since_text else None
    until = None
    if until_text:
        until = parse_utc_time(until_text)
        step = dt.timedelta(days=1) if _DATE_ONLY.match(until_text.strip()) else dt.timedelta(microseconds=1)
        until = until + step
    if since and until and until <= since:
        raise UsageError(f"UNTIL {until_text} is not after SINCE {since_text}")
    return since, until


def describe_window(since, until):
    if not since and not until:
        return "all events in the database"
    start = format_time(since) if since else "the first event"
    end = format_time(until - dt.timedelta(microseconds=1)) if until else "the last event"
    return f"{start} to {end}"


def format_time(value):
    """A timestamp as 'YYYY-MM-DD HH:MM:SS UTC' ('' for None)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%d %H:%M:%S UTC")


def now_utc():
    return dt.datetime.now(UTC)


# ---------------------------------------------------------------- output files

def stamp(moment=None):
    """The YY-MM-DD-HH-MM stamp (UTC) that every output file name carries."""
    return (moment or now_utc()).astimezone(UTC).strftime("%y-%m-%d-%H-%M")


def output_dir(db_path):
    """Reports, charts and analyst logs go to $CLOUDTRAIL_OUTPUT_DIR or reports/ beside the database."""
    configured = os.environ.get("CLOUDTRAIL_OUTPUT_DIR", "").strip()
    folder = Path(configured) if configured else Path(db_path).resolve().parent / "reports"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ToolError(f"cannot create output folder {folder}: {error.strerror} - set CLOUDTRAIL_OUTPUT_DIR to a writable folder") from None
    return folder


def new_output_path(folder, name, suffix, moment=None):
    """A path `<name>-<stamp><suffix>` that does not exist yet; outputs are never overwritten."""
    base = f"{name}-{stamp(moment)}"
    candidate = Path(folder) / f"{base}{suffix}"
    number = 2
    while candidate.exists():
        candidate = Path(folder) / f"{base}-{number}{suffix}"
        number += 1
    return candidate


def write_new_file(path, data):
    """Writes bytes or text to a file that must not exist yet. A write that fails (folder full or
    not writable) removes what it started and raises one ToolError line."""
    path = Path(path)
    created = False
    try:
        with open(path, "xb") as handle:
            created = True
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
    except OSError as error:
        if created:
            with contextlib.suppress(OSError):
                path.unlink()
        raise ToolError(f"cannot write {path}: {error.strerror or first_line(error)} - free space in the output "
                        "folder or set CLOUDTRAIL_OUTPUT_DIR to a writable folder, then run the same command "
                        "again") from None
    return path


class AnalystLog:
    """The time-stamped markdown log of what each run did: `analyst_log-YY-MM-DD-HH-MM.md`.

    Runs within the same minute append to the same file, so nothing is overwritten.
    """

    def __init__(self, db_path, moment=None):
        self.path = Path(output_dir(db_path)) / f"analyst_log-{stamp(moment)}.md"

    def write(self, title, lines):
        header = "" if self.path.exists() else "# Analyst log\n\nEvery run of the toolkit appends what it did. Times are UTC.\n"
        entry = [header, f"\n## {format_time(now_utc())} - {md_text(title)}\n", *[f"{line}\n" for line in lines]]
        try:
            with open(self.path, "a", encoding="utf-8") as handle:
                handle.write("".join(entry))
        except OSError as error:
            raise ToolError(f"cannot write analyst log {self.path}: {error.strerror}") from None
        return self.path


# ---------------------------------------------------------------- identities

_ARN = re.compile(r"^arn:aws[a-z-]*:(?:iam|sts)::(\d*):(.+)$")


def short_identity(actor, with_account=True):
    """An IAM or STS ARN as people read it: 'user/alice (111122223333)',
    'assumed-role/Admin/bob (111122223333)'; anything else unchanged."""
    if not actor:
        return "(none)"
    match = _ARN.match(actor)
    if not match:
        return actor
    account, rest = match.groups()
    return f"{rest} ({account})" if with_account and account else rest


# ---------------------------------------------------------------- untrusted text

# C0/C1 control characters (terminal escapes among them) except tab and newline.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Characters that start markup inside a line: emphasis, code, links and images, HTML,
# table cells, strikethrough. (Line-start markup cannot occur: values never start a line.)
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")
# GitHub turns bare URLs and www. names into links; such text is shown as code instead.
_LINK_LIKE = re.compile(r"(://|www\.|mailto:)", re.IGNORECASE)


def terminal_safe(text):
    """Log text made inert for a terminal: control characters and escapes shown as \\xNN."""
    if text is None:
        return ""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))


def md_text(text, limit=None):
    """Log text made inert in markdown: no markup, links, HTML, table breaks or escapes."""
    if text is None:
        return ""
    value = text if isinstance(text, str) else orjson.dumps(text).decode() if isinstance(text, (dict, list)) else str(text)
    if limit and len(value) > limit:
        value = value[:limit] + "..."
    if _LINK_LIKE.search(value):
        return md_code(value, limit=None)
    value = terminal_safe(value).replace("\r", " ").replace("\n", " ").replace("\t", " ")
    value = value.replace("&", "&amp;")
    return _MARKDOWN_SPECIAL.sub(r"\\\1", value)


def md_code(text, limit=200):
    """Untrusted text as an inline code span, shown exactly: the backtick fence is longer
    than any run of backticks inside, and | is written \\| (GitHub tables need that even
    inside code)."""
    if text is None or text == "":
        return ""
    value = str(text)
    if limit and len(value) > limit:
        value = value[:limit] + "..."
    value = terminal_safe(value).replace("\r", " ").replace("\n", " ").replace("|", "\\|")
    fence = "`" * (max((len(run) for run in re.findall(r"`+", value)), default=0) + 1)
    padding = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{fence}{padding}{value}{padding}{fence}"


def md_table(headers, rows):
    """A markdown table; every cell is escaped unless it is already a Markdown object."""
    out = ["| " + " | ".join(md_text(h) for h in headers) + " |",
           "|" + "|".join(" --- " for _ in headers) + "|"]
    for row in rows:
        out.append("| " + " | ".join(cell.text if isinstance(cell, Markdown) else md_text(cell, 300) for cell in row) + " |")
    return out


class Markdown:
    """Text the toolkit wrote itself (links, code spans) that a table must not escape again."""

    def __init__(self, text):
        self.text = text
