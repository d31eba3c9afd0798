"""Shared command-line machinery: errors and exit codes, UTC times, output files,
the analyst log, and escaping of untrusted log text.

The database lives in casedb.py, log reading in logfiles.py, detections in
detections.py, markdown reports in reports.py and charts in charts.py.
"""
import contextlib
import datetime as dt
import errno
import math
import os
import re
import signal
import stat
import sys
from pathlib import Path

import orjson

EXIT_OK, EXIT_RUNTIME, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
EXIT_TERMINATED = 143          # 128 + SIGTERM, as a shell reports a process ended by `kill`
UTC = dt.timezone.utc


class UsageError(Exception):
    """Bad command-line arguments: the script prints its usage and exits 2."""


class ToolError(Exception):
    """A runtime problem the analyst can fix: one line on stderr, exit 1."""


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: unwinds like Ctrl-C (so every cleanup for an interrupt runs), exit 143."""


# The signal that stopped the run (SIGINT or SIGTERM), or None. Set by the handlers run_cli
# installs, so that an interrupt turned into another error on the way up (DuckDB reports a
# Ctrl-C inside a query as its own InterruptException) still ends as an interrupt.
received_signal = None


def _on_signal(number, frame):
    global received_signal
    if received_signal is not None:
        # A second Ctrl-C or SIGTERM while the first one is being cleaned up: stop now.
        # Everything committed is kept either way (DuckDB's write-ahead log).
        prog = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "tool"
        os.write(2, f"{prog}: stopped at once (second signal) - run the same command again to finish\n".encode())
        os._exit(EXIT_TERMINATED if number == signal.SIGTERM else EXIT_INTERRUPTED)
    received_signal = number
    raise Terminated() if number == signal.SIGTERM else KeyboardInterrupt()


def _stop_before_start(number, frame):
    prog = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "tool"
    what = "terminated (SIGTERM)" if number == signal.SIGTERM else "interrupted"
    os.write(2, f"{prog}: {what} before it started - nothing was done\n".encode())
    os._exit(EXIT_TERMINATED if number == signal.SIGTERM else EXIT_INTERRUPTED)


def stop_quietly_until_started():
    """For a script's first lines, before its libraries load (a second or two): Ctrl-C or
    SIGTERM then ends it with one line instead of a traceback from inside an import. run_cli
    replaces these handlers when the work starts."""
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, _stop_before_start)


def block_signals():
    """Holds Ctrl-C and SIGTERM back (until unblock_signals) while processes are forked: a child
    must not run the parent's handler between the fork and its own set-up."""
    return signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})


def unblock_signals(previous=None):
    signal.pthread_sigmask(signal.SIG_SETMASK, previous) if previous is not None else \
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})


def install_signal_handlers():
    """Ctrl-C (SIGINT) and SIGTERM both unwind the run as KeyboardInterrupt; run_cli turns
    them into one line and exit 130 or 143."""
    global received_signal
    received_signal = None
    previous = {}
    for number in (signal.SIGINT, signal.SIGTERM):
        try:
            previous[number] = signal.signal(number, _on_signal)
        except ValueError:
            pass        # not the main thread (a test calling main() from a thread): leave as is
    return previous


def restore_signal_handlers(previous):
    for number, handler in previous.items():
        signal.signal(number, handler)


def wants_help(argv):
    return any(argument in ("-h", "--help") for argument in argv[1:])


def run_cli(doc, argv, body):
    """Runs body(argv) and turns its errors into one stderr line and an exit code.

    doc is the script's module docstring, printed as the usage text. -h or --help prints it
    and exits 0 before anything else happens; the CLOUDTRAIL_* settings are checked before
    body runs (a bad one is a usage error naming it); Ctrl-C exits 130 and SIGTERM 143, each
    with one line, whatever the body was doing when it arrived.
    """
    global _depth
    prog = Path(argv[0]).name if argv else "tool"
    if wants_help(argv):
        print(doc.strip())
        return EXIT_OK
    if _depth:
        # A script run by another in the same process (the hunt runs each detector's main):
        # an interrupt goes on up to the outermost run_cli, which says it once.
        _depth += 1
        try:
            return _run_body(prog, doc, argv, body)
        finally:
            _depth -= 1
    previous = install_signal_handlers()
    _depth += 1
    try:
        return _run_body(prog, doc, argv, body)
    except KeyboardInterrupt:
        terminated = received_signal == signal.SIGTERM
        what = "terminated (SIGTERM)" if terminated else "interrupted"
        try:
            print(f"{prog}: {what} - nothing half-written was kept; run the same command again to finish",
                  file=sys.stderr)
        except OSError:
            pass
        return EXIT_TERMINATED if terminated else EXIT_INTERRUPTED
    finally:
        _depth -= 1
        restore_signal_handlers(previous)


_depth = 0      # run_cli calls in progress in this process


def _run_body(prog, doc, argv, body):
    """body(argv) with its errors turned into one line and an exit code; an interrupt (also
    one that arrived as some other error) is raised as KeyboardInterrupt."""
    try:
        check_settings()
        code = body(argv)
    except UsageError as error:
        if received_signal is not None:
            raise KeyboardInterrupt() from None
        print(f"{prog}: {error}\n\n{doc.strip()}", file=sys.stderr)
        return EXIT_USAGE
    except ToolError as error:
        if received_signal is not None:
            raise KeyboardInterrupt() from None
        print(f"{prog}: {error}", file=sys.stderr)
        return EXIT_RUNTIME
    except BrokenPipeError:
        # The reader of stdout went away (`| head`); the work itself is done and stored.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception:
        if received_signal is None:
            raise
        raise KeyboardInterrupt() from None
    if received_signal is not None:
        # The body caught the interrupt somewhere and carried on: still an interrupted run.
        raise KeyboardInterrupt()
    return code


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


def env_number(name, default, kind=int, low=0, high=None):
    """A numeric setting from the environment; a bad value is a usage error naming the
    variable, not a silent default (nan, inf and values outside [low, high] included)."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except (ValueError, OverflowError):
        raise UsageError(f"environment variable {name}={raw!r} is not {'a whole number' if kind is int else 'a number'}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise UsageError(f"environment variable {name}={raw!r} is not a finite number")
    if low is not None and value < low:
        raise UsageError(f"environment variable {name}={raw!r} must be at least {low}")
    if high is not None and value > high:
        raise UsageError(f"environment variable {name}={raw!r} must be at most {high}")
    return value


def max_workers():
    """The most parser processes or DuckDB threads a setting may ask for: four per core."""
    return 4 * (os.cpu_count() or 2)


_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)", re.IGNORECASE)
_SIZE_UNITS = {"b": 1, "kb": 1000, "mb": 1000 ** 2, "gb": 1000 ** 3, "tb": 1000 ** 4,
               "kib": 1024, "mib": 1024 ** 2, "gib": 1024 ** 3, "tib": 1024 ** 4}
MIN_MEMORY_LIMIT = 64 * 1000 ** 2
MAX_MEMORY_LIMIT = 64 * 1000 ** 4


def env_size(name, default):
    """A memory size setting like 2GB or 512MiB in bytes (KB, MB, GB are powers of 1000, as
    DuckDB reads them), between 64MB and 64TB; anything else is a usage error naming it."""
    raw = env_text(name, default)
    match = _SIZE.fullmatch(raw)
    if not match:
        raise UsageError(f"environment variable {name}={raw!r} is not a size like 2GB or 512MB")
    number, unit = match.groups()
    value = int(float(number) * _SIZE_UNITS[unit.lower()])
    if not MIN_MEMORY_LIMIT <= value <= MAX_MEMORY_LIMIT:
        raise UsageError(f"environment variable {name}={raw!r} must be between 64MB and 64TB")
    return value


def check_settings():
    """Checks every toolkit-wide CLOUDTRAIL_* setting once, before a run starts, so that a bad
    value stops the run with a usage error naming it instead of failing halfway through.
    (Detector thresholds are checked by the detector that reads them.)"""
    env_size("CLOUDTRAIL_MEMORY_LIMIT", "2GB")
    env_number("CLOUDTRAIL_WORKERS", 1, int, low=1, high=max_workers())
    env_number("CLOUDTRAIL_THREADS", 1, int, low=1, high=max_workers())
    env_number("CLOUDTRAIL_BATCH_MB", 1, float, low=1, high=16384)
    env_number("CLOUDTRAIL_MAX_FILE_MB", 1, int, low=1, high=1024 * 1024)
    env_number("CLOUDTRAIL_LOCK_WAIT", 0, float, low=0, high=7 * 24 * 3600)


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
    """Reports, charts and analyst logs go to $CLOUDTRAIL_OUTPUT_DIR as given, or else to
    reports/<database file stem>/ beside the database, so that two databases in one folder
    never share reports or an analyst log (demo/case.db -> demo/reports/case/)."""
    configured = os.environ.get("CLOUDTRAIL_OUTPUT_DIR", "").strip()
    folder = Path(configured) if configured else default_output_dir(db_path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ToolError(f"cannot create output folder {folder}: {error.strerror} - set CLOUDTRAIL_OUTPUT_DIR to a writable folder") from None
    return folder


def default_output_dir(db_path):
    """reports/<database file stem>/ beside the database: where outputs go without CLOUDTRAIL_OUTPUT_DIR."""
    path = Path(db_path).resolve()
    return path.parent / "reports" / (path.stem or path.name)


def new_output_path(folder, name, suffix, moment=None):
    """A path `<name>-<stamp><suffix>` that does not exist yet; outputs are never overwritten."""
    base = f"{name}-{stamp(moment)}"
    candidate = Path(folder) / f"{base}{suffix}"
    number = 2
    # lexists: a symbolic link, even a dangling one, is taken as existing, so a link planted
    # under the next name is never written through. Callers create the file with mode "x"
    # (O_CREAT | O_EXCL), which refuses a link put there in the meantime.
    while os.path.lexists(candidate):
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

    Runs within the same minute append to the same file, so nothing is overwritten. The log
    is opened without following a symbolic link (O_NOFOLLOW) and only when it is a regular
    file: a link or anything else planted under its name is left alone and the entry goes to
    `analyst_log-YY-MM-DD-HH-MM-2.md` (-3, ...) instead.
    """

    def __init__(self, db_path, moment=None):
        self.folder = Path(output_dir(db_path))
        self.base = f"analyst_log-{stamp(moment)}"
        self.path = self.folder / f"{self.base}.md"

    def _open(self):
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        for number in range(1, 100):
            path = self.folder / (f"{self.base}.md" if number == 1 else f"{self.base}-{number}.md")
            try:
                fd = os.open(path, flags, 0o644)
            except OSError as error:
                if error.errno in (errno.ELOOP, errno.EISDIR, errno.ENXIO, errno.EACCES) and os.path.lexists(path):
                    continue    # a link, folder or other file planted under the name: use the next
                raise
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode) or info.st_nlink > 1:
                os.close(fd)    # a fifo, device or hard link to some other file: use the next
                continue
            return path, fd, info.st_size == 0
        raise OSError(errno.EEXIST, "too many other files under the analyst log's name")

    def write(self, title, lines):
        try:
            self.path, fd, new = self._open()
            header = "# Analyst log\n\nEvery run of the toolkit appends what it did. Times are UTC.\n" if new else ""
            entry = [header, f"\n## {format_time(now_utc())} - {md_text(title)}\n",
                     *[f"{line}\n" for line in wrap_markdown(lines)]]
            with open(fd, "a", encoding="utf-8") as handle:
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

# C0/C1 control characters (terminal escapes among them) except tab and newline, and the
# bidirectional-text controls (U+061C, U+200E-F, U+202A-E, U+2066-9), which reorder what a
# terminal or a rendered report shows (a name can be made to read as another).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Characters that start markup inside a line: emphasis, code, links and images, HTML,
# table cells, strikethrough. (Line-start markup cannot occur: values never start a line.)
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")
# GitHub turns bare URLs and www. names into links; such text is shown as code instead.
_LINK_LIKE = re.compile(r"(://|www\.|mailto:)", re.IGNORECASE)


def terminal_safe(text):
    """Log text made inert for a terminal: control characters and escapes shown as \\xNN."""
    if text is None:
        return ""
    return _CONTROL.sub(_escaped, str(text))


def _escaped(match):
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xff else f"\\u{code:04x}"


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


CELL_CHARS = 150   # a table cell holds at most a line of text; longer log text is cut ("...")
PROSE_CHARS = 100  # prose lines of a report are wrapped at about this width

# A word that markdown would read, at the start of a line, as a heading, list item, quote,
# rule or setext underline: a wrapped line never starts with one.
_BLOCK_MARKER = re.compile(r"#{1,6}|[-+*>=_]+|\d{1,9}[.)]")


_LIST_ITEM = re.compile(r"([-*+]|\d{1,9}[.)]) ")


def wrap_markdown(lines, width=PROSE_CHARS):
    """The lines of a markdown document with every long paragraph and list item wrapped (see
    md_paragraph; a list item's next lines are indented under its text). Tables, headings,
    images, quotes and code blocks are left as they are: a table row must stay on one line."""
    out, fenced = [], False
    for line in (part for text in lines for part in text.split("\n")):
        if line.startswith("```"):
            fenced = not fenced
        item = _LIST_ITEM.match(line)
        if fenced or len(line) <= width or line.startswith(("|", "#", "![", ">", "    ", "\t")):
            out.append(line)
        elif item:
            indent = " " * len(item.group())
            wrapped = md_paragraph(line[len(indent):], width - len(indent))
            out += [item.group() + wrapped[0]] + [indent + rest for rest in wrapped[1:]]
        else:
            out += md_paragraph(line, width)
    return out


def write_markdown(path, lines):
    """A report: its lines wrapped (wrap_markdown) and written to a new file (write_new_file)."""
    return write_new_file(path, "\n".join(wrap_markdown(lines)))


# A code span (a command to copy, a value from the logs) is one word: never broken inside.
_CODE_SPAN = re.compile(r"(`+).+?(?<!`)\1(?!`)")


def _words(text):
    """The words of a line between single spaces, a code span with its neighbours counted as one."""
    spans = [(m.start(), m.end()) for m in _CODE_SPAN.finditer(text)]
    words, start = [], 0
    for index, char in enumerate(text):
        if char == " " and not any(a < index < b for a, b in spans):
            words.append(text[start:index])
            start = index + 1
    words.append(text[start:])
    return words


def md_paragraph(text, width=PROSE_CHARS):
    """A markdown paragraph (already escaped) wrapped at spaces into lines of at most width
    characters where the words allow: one line of 2,000 characters is hard to read in a terminal,
    an editor or a diff, and markdown joins the lines back into one paragraph. Returns the lines."""
    lines = []
    for word in _words(text):
        fits = lines and len(lines[-1]) + 1 + len(word) <= width
        if lines and (fits or not word or _BLOCK_MARKER.fullmatch(word)):
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def md_table(headers, rows):
    """A markdown table; every cell is escaped unless it is already a Markdown object. Text
    cells longer than CELL_CHARS are cut at a word: the whole value stays in the database and
    in analyze_export.py's CSV and JSON Lines; lists go through reports.summarise_list."""
    out = ["| " + " | ".join(md_text(h) for h in headers) + " |",
           "|" + "|".join(" --- " for _ in headers) + "|"]
    for row in rows:
        out.append("| " + " | ".join(cell.text if isinstance(cell, Markdown) else md_text(_one_line(cell))
                                     for cell in row) + " |")
    return out


def _one_line(value):
    """A cell's value cut at the last space before CELL_CHARS characters (at CELL_CHARS when
    there is none), with "..." to show the cut."""
    if isinstance(value, (dict, list)):
        value = orjson.dumps(value).decode()
    if not isinstance(value, str) or len(value) <= CELL_CHARS:
        return value
    cut = value[:CELL_CHARS - 3]
    space = cut.rfind(" ")
    return (cut[:space] if space > CELL_CHARS // 2 else cut).rstrip(" ,;:") + "..."


class Markdown:
    """Text the toolkit wrote itself (links, code spans) that a table must not escape again."""

    def __init__(self, text):
        self.text = text
