"""Reading CloudTrail logs: finding input files, parsing them, and turning their records into
the events table's columns.

read_group() and read_chunk() run in the parser processes. Each parses its files (orjson),
has its own in-memory DuckDB extract the columns (casedb.EXTRACT_SQL), and writes them as an
Arrow file into a folder shared with the parent, which maps the file without copying it and
only checks for duplicates and writes. The extraction is most of the per-record work, so it
runs in parallel next to the parent's writing instead of after it.
"""
import ctypes
import gc
import hashlib
import itertools
import json
import os
import re
import signal
import stat
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import msgspec
import numpy as np
import orjson
import pyarrow as pa
from isal import isal_zlib

import casedb

# File names an S3 sync of a trail bucket produces that hold events.
LOG_SUFFIXES = (".json.gz", ".json", ".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")
NDJSON_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")
MAX_PROBLEMS_KEPT = 5
MAX_DECOMPRESSED_MB = 512      # default of CLOUDTRAIL_MAX_FILE_MB
# The limit in force in this process, set by init_worker. Kept apart from the default: a program
# that ingests twice (a test run, a notebook) read its second default from the first run's limit.
_limit_mb = MAX_DECOMPRESSED_MB


@dataclass
class InputFile:
    path: str
    size: int = 0
    mtime_ns: int = 0
    # Set when discovery already knows the outcome (digest file, unreadable folder, ...).
    status: str = ""
    reason: str = ""


@dataclass
class FileResult:
    """What one input file (or one chunk of standard input) yielded."""
    path: str
    size: int = 0
    mtime_ns: int = 0
    sha256: str = ""
    status: str = "loaded"          # loaded, partial, skipped, failed
    reason: str = ""
    records: int = 0                # records in `texts`
    bad_records: int = 0
    problems: list = field(default_factory=list)
    texts: list = field(default_factory=list)          # each record's JSON text (emptied once extracted)


def display_path(path):
    """The path as stored and shown: a file name with bytes that are not UTF-8 (which Python
    carries as surrogate escapes) gets them written as \\xNN, so it can be stored, printed
    and compared like any other name; the file itself is still opened by its real name."""
    try:
        path.encode("utf-8")
        return path
    except UnicodeEncodeError:
        return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


class PartNotWritten(Exception):
    """The shared folder could not take a part (full disk or memory); ends the run cleanly."""


class FileProblem(Exception):
    """The whole file cannot be read; the message is the reason shown to the analyst."""


# ---------------------------------------------------------------- discovery

def classify_name(path):
    """Why a file found while walking a folder is skipped without reading, or '' to read it."""
    parts = Path(path).parts
    name = parts[-1]
    if "CloudTrail-Digest" in parts or "CloudTrail-Digest" in name:
        return "CloudTrail digest file (integrity hashes, no events)"
    if "ConfigWritabilityCheckFile" in name:
        return "AWS Config write check object (no events)"
    if not name.lower().endswith(LOG_SUFFIXES):
        return "not a log file name (expected .json, .json.gz, .jsonl or .ndjson)"
    return ""


_DELIVERY_TIME = re.compile(r"_(\d{8}T\d{4,6}Z)")


def delivery_order(item):
    """Sort key: files in the order CloudTrail delivered them (the time in the file name),
    then files without one by path. A batch then holds one slice of time across accounts and
    regions, so the duplicate check skips most stored data and the table is stored in time
    order batch by batch (which windowed queries benefit from too; within a batch the rows are
    sorted by service and action, casedb.INSERT_ALL_SQL). Only the order depends on the name."""
    match = _DELIVERY_TIME.search(os.path.basename(item.path))
    return (0, match.group(1), item.path) if match else (1, "", item.path)


def discover(arguments, on_problem):
    """Expands path arguments into InputFile entries (sorted within each folder).

    Folders are walked recursively, following links to folders but never the same folder
    twice. on_problem(InputFile) receives paths that cannot be read at all.
    """
    found = []
    for argument in arguments:
        try:
            info = os.stat(argument)
        except OSError as error:
            on_problem(InputFile(argument, status="failed", reason=f"cannot read: {error.strerror}"))
            continue
        if stat.S_ISDIR(info.st_mode):
            found.extend(_walk(argument, on_problem))
        elif stat.S_ISREG(info.st_mode):
            found.append(InputFile(argument, info.st_size, info.st_mtime_ns))
        else:
            # A pipe or device would block or never end; logs are regular files (use - for a pipe).
            on_problem(InputFile(argument, status="failed", reason="not a regular file (use - to read a pipe)"))
    return found


def _walk(top, on_problem):
    seen_dirs = set()
    pending = [top]
    while pending:
        folder = pending.pop()
        try:
            info = os.stat(folder)
        except OSError as error:
            on_problem(InputFile(folder, status="failed", reason=f"cannot read folder: {error.strerror}"))
            continue
        key = (info.st_dev, info.st_ino)
        if key in seen_dirs:
            on_problem(InputFile(folder, status="skipped", reason="folder already walked (a symbolic link loop or a second link)"))
            continue
        seen_dirs.add(key)
        try:
            with os.scandir(folder) as entries:
                entries = sorted(entries, key=lambda entry: entry.name)
        except OSError as error:
            on_problem(InputFile(folder, status="failed", reason=f"cannot read folder: {error.strerror}"))
            continue
        subfolders = []
        for entry in entries:
            try:
                if entry.is_dir():
                    subfolders.append(entry.path)
                    continue
                entry_stat = entry.stat()
            except OSError as error:
                on_problem(InputFile(entry.path, status="failed", reason=f"cannot read: {error.strerror}"))
                continue
            if not stat.S_ISREG(entry_stat.st_mode):
                continue
            skip_reason = classify_name(entry.path)
            yield InputFile(entry.path, entry_stat.st_size, entry_stat.st_mtime_ns,
                            status="skipped" if skip_reason else "", reason=skip_reason)
        # Reverse so that popping from the end walks folders in name order.
        pending.extend(reversed(subfolders))


# ---------------------------------------------------------------- reading one file

def init_worker(max_decompressed_mb=MAX_DECOMPRESSED_MB, in_pool=True, duckdb_memory="256MB"):
    """Sets up a parser process: the decompressed size limit, and no cyclic GC.

    Parsing allocates millions of dicts that live only briefly; the cyclic collector
    would rescan them again and again (it made parsing six times slower in measurements).
    """
    global _limit_mb, _extractor_memory
    _limit_mb = max_decompressed_mb
    _extractor_memory = duckdb_memory
    if in_pool:
        # Ctrl-C reaches the whole process group; the parent alone decides what to do. SIGTERM
        # (the parent ending its parsers) ends a parser at once, without a traceback.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
        _die_with_parent()
        # The parent's insert is the slowest step and the parsers work ahead of it: when both
        # want a core, the parent gets it.
        os.nice(10)
    gc.disable()


def _die_with_parent():
    """Linux: this parser gets SIGKILL when the parent process ends, however it ends (kill -9
    included), so no parser is left behind writing into a pipe nobody reads."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)          # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def too_large(size_bytes):
    """Reason for a file or line over CLOUDTRAIL_MAX_FILE_MB, naming the setting that admits it."""
    return (f"{size_bytes / 1024 / 1024:,.1f} MB, more than CLOUDTRAIL_MAX_FILE_MB={_limit_mb} "
            f"- set CLOUDTRAIL_MAX_FILE_MB={int(size_bytes / 1024 / 1024) + 1} (and CLOUDTRAIL_MEMORY_LIMIT "
            "to a few times that) to read it")


def read_file(item):
    """Reads one log file into a FileResult; never raises for bad content."""
    path, size, mtime_ns = item.path, item.size, item.mtime_ns
    result = FileResult(display_path(path), size, mtime_ns)
    limit = _limit_mb * 1024 * 1024
    if size > limit:
        return _failed(result, too_large(size))
    try:
        with open(path, "rb") as handle:
            # At most the size found while walking, plus one byte to notice a file that grew
            # since (read(limit) would allocate the whole limit for every file).
            raw = handle.read(size + 1)
            if len(raw) > size:
                raw += handle.read(limit + 1 - len(raw))
    except OSError as error:
        return _failed(result, f"cannot read: {error.strerror}")
    if len(raw) > limit:
        return _failed(result, too_large(os.path.getsize(path)))
    return read_bytes(result, raw, path)


def read_bytes(result, raw, path):
    """The rest of read_file once the file's bytes are read (analyze_spark.py reads them with
    Spark, from S3 or disk, and calls this, so both ingests read a file the same way)."""
    result.size = len(raw)
    result.sha256 = hashlib.sha256(raw).hexdigest()
    if not raw.strip():
        return _failed(result, "empty file")
    try:
        content = decompress(raw)
        ndjson = path.lower().endswith(NDJSON_SUFFIXES)
        raws = None if ndjson else raw_records(content)
        if raws is not None:
            texts = [bytes(raw) for raw in raws]
            # msgspec, like orjson, keeps only the last of repeated keys: a second "Records"
            # list would hide the first. The records' text covers all of a normal file but
            # its punctuation; when much more is left over, the file is counted exactly.
            if len(content) - sum(map(len, texts)) <= 24 + len(texts) or content.count(b'"Records"') < 2:
                return _fill_raw(result, texts)
        records, problems = parse_lines(content) if ndjson else parse_document(content)
    except FileProblem as problem:
        return _failed(result, str(problem))
    except MemoryError:
        return _failed(result, "too large to parse in memory")
    return _fill(result, records, problems)


# ---------------------------------------------------------------- the fast path

class _LogFile(msgspec.Struct):
    Records: list[msgspec.Raw]


_LOG_FILE = msgspec.json.Decoder(_LogFile)
_RECORD_KEY_TEXTS = (b'"eventSource"', b'"eventVersion"', b'"userIdentity"', b'"awsRegion"')


def raw_records(content):
    """The records of a {"Records": [...]} log file as their JSON text, as written, without
    building Python objects for them (msgspec checks the JSON and slices it; turning each
    record into objects and back was most of the parsing cost). None when the file needs the
    careful path: anything else, malformed JSON, or text that is not plain ASCII or valid
    UTF-8 (msgspec does not check the UTF-8 inside the slices)."""
    if not content.isascii():
        try:
            content.decode("utf-8")
        except UnicodeDecodeError:
            return None
    try:
        return _LOG_FILE.decode(content).Records
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        return None


def _fill_raw(result, raws):
    """Keeps the records' own text; only unusual records are parsed, to check them."""
    texts, problems = [], Problems()
    for index, text in enumerate(raws):
        if not text.startswith(b'{"eventVersion":'):
            # Not the usual first key: look closer (a JSON value that is not an object, or a
            # record whose keys were edited) before keeping it.
            if not text.startswith(b"{") or not any(key in text for key in _RECORD_KEY_TEXTS):
                value = orjson.loads(text)
                if not isinstance(value, dict):
                    problems.add(f"record {index}: a JSON {json_type(value)}, not an object")
                    continue
                if not _is_record(value):
                    problems.add(f"record {index}: no eventSource, eventVersion, userIdentity or awsRegion "
                                 "- not a CloudTrail record")
                    continue
        texts.append(text)
    result.texts, result.records = texts, len(texts)
    result.bad_records, result.problems = problems.count, problems.examples
    if problems.count and not texts:
        result.status, result.reason = "failed", problems.summary()
    elif problems.count:
        result.status, result.reason = "partial", problems.summary()
    return result


def read_group(task):
    """Parser task: (a group of small files, the shared folder) -> extract()."""
    items, folder = task
    return extract([read_file(item) for item in items], folder)


def read_chunk(task):
    """Parser task: ((label, bytes, first line number) of standard input, shared folder)."""
    chunk, folder = task
    if chunk[1] is None:
        # A line longer than CLOUDTRAIL_MAX_FILE_MB, skipped unread by the parent.
        label, _, line, size = chunk
        return [FileResult(label, size, records=0, bad_records=1,
                           problems=[f"line {line}: {too_large(size)}"])], None
    return extract([read_lines(*chunk)], folder)


_extractor = None
_extractor_memory = "256MB"
_part_numbers = itertools.count()


def _extraction_connection():
    """This process's own in-memory DuckDB, opened on first use (after the fork)."""
    global _extractor
    if _extractor is None:
        _extractor = duckdb.connect(config={"threads": 1, "memory_limit": _extractor_memory,
                                            **casedb.NO_EXTENSIONS})
        _extractor.execute("set TimeZone = 'UTC'")
        # JSON columns leave as Arrow's JSON type, so the parent's insert takes them as JSON
        # without parsing every value again to validate it.
        _extractor.execute("set arrow_lossless_conversion = true")
    return _extractor


def extract(results, folder):
    """The events-table columns of the results' records, written as an Arrow file in folder.

    Returns (results without their record texts, part) where part is (path, rows, bytes), or
    None when no result had records. If DuckDB cannot extract a group (a record too large for
    its memory, say), the files are extracted one by one and a file that still fails is
    marked failed with the reason; the others go on.
    """
    with_records = [result for result in results if result.records]
    tables = []
    try:
        if with_records:
            tables.append(_extract_columns(with_records))
    except duckdb.Error:
        for result in with_records:
            tables += _extract_alone(result)
    part = None
    if tables:
        columns = pa.concat_tables(tables)
        path = os.path.join(folder, f"{os.getpid()}-{next(_part_numbers)}.arrow")
        try:
            with pa.OSFile(path, "wb") as sink, pa.ipc.new_file(sink, columns.schema) as writer:
                writer.write_table(columns)
        except OSError as error:
            raise PartNotWritten(f"cannot write parsed records to {folder} ({error.strerror or error})") from None
        part = (path, columns.num_rows, os.path.getsize(path))
    for result in results:
        result.texts = []
    return results, part


MAX_SPLIT_FAILURES = 8      # records that fail on their own before the rest of a file is given up


def _extract_alone(result):
    """Extracts one file (or standard-input chunk) that failed within its group. If it fails
    on its own too, it is split in halves again and again, so that the records DuckDB cannot
    take (one far too large for the parser's memory, say) are counted and named as bad
    records and every other record is still stored."""
    failures = []

    def split(texts, start):
        if len(failures) >= MAX_SPLIT_FAILURES:
            failures.append((start, len(texts), "not tried after too many records failed"))
            return []
        try:
            return [_extract_columns([FileResult(result.path, records=len(texts), texts=texts)])]
        except duckdb.Error as error:
            if len(texts) == 1:
                failures.append((start, 1, _extraction_reason(error)))
                return []
            middle = len(texts) // 2
            return split(texts[:middle], start) + split(texts[middle:], start + middle)

    tables = split(result.texts, 0)
    if failures:
        lost = sum(count for _, count, _ in failures)
        result.records -= lost
        result.bad_records += lost
        for start, count, reason in failures:
            where = f"record {start + 1}" if count == 1 else f"records {start + 1} to {start + count}"
            if len(result.problems) < MAX_PROBLEMS_KEPT:
                result.problems.append(f"{where}: could not be turned into columns: {reason}")
        shown = "; ".join(result.problems)
        result.status = "partial" if result.records else "failed"
        result.reason = f"{result.bad_records} bad record(s): {shown}"
    return tables


def _extraction_reason(error):
    message = str(error).strip().splitlines()[0][:200] if str(error).strip() else type(error).__name__
    if "out of memory" in message.lower():
        message += (f" - each parser may use {_extractor_memory}: raise CLOUDTRAIL_MEMORY_LIMIT "
                    "(a parser gets a quarter of it) to read this record")
    return message


def _extract_columns(results):
    con = _extraction_connection()
    con.register("records", records_table(results))
    try:
        columns = con.sql(casedb.EXTRACT_SQL).to_arrow_table()
    finally:
        con.unregister("records")
    return with_content_ids(columns)


def with_content_ids(columns):
    """Gives each row that EXTRACT_SQL found without an eventID (none in real logs) the hash of
    its record. Deciding from the extracted column rather than by searching each record's text
    costs nothing per record, and a nested "eventID" key cannot be mistaken for the record's."""
    if not columns["event_id"].null_count:
        return columns
    ids, records = columns["event_id"].to_pylist(), columns["record"]
    for index, event_id in enumerate(ids):
        if event_id is None:
            ids[index] = content_id(orjson.loads(records[index].as_py()))
    position = columns.schema.get_field_index("event_id")
    field_ = columns.schema.field(position)
    return columns.set_column(position, field_, pa.array(ids, field_.type))


def records_table(results):
    """record, source_file over the results' records: the texts are joined once
    into one buffer (DuckDB reads one large Arrow array far faster than many small ones)."""
    counts = np.array([result.records for result in results], dtype=np.int64)
    texts = [text for result in results for text in result.texts]
    total = len(texts)
    offsets = np.zeros(total + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, texts), dtype=np.int64, count=total), out=offsets[1:])
    text = pa.LargeStringArray.from_buffers(total, pa.py_buffer(offsets), pa.py_buffer(b"".join(texts)))
    # orjson wrote every record, so each is valid JSON: declared as JSON, DuckDB does not
    # validate it again (that check cost a fifth of the extraction).
    records = pa.ExtensionArray.from_storage(pa.json_(pa.large_string()), text)
    source = pa.array(np.repeat(np.array([result.path for result in results], dtype=object), counts), pa.string())
    return pa.table({"record": records, "source_file": source})


def read_lines(label, chunk, first_line):
    """Parses a chunk of NDJSON lines (from standard input) into a FileResult."""
    result = FileResult(label, len(chunk))
    records, problems = parse_lines(chunk, first_line)
    return _fill(result, records, problems)


def _failed(result, reason):
    result.status, result.reason = "failed", reason
    return result


def _fill(result, records, problems):
    """Serialises the records into one buffer and sets status and reason."""
    dumps = orjson.dumps
    texts = []
    for record in records:
        try:
            text = dumps(record)
        except orjson.JSONEncodeError as error:
            # orjson reads 1024 levels of nesting but writes only 255; no real record is
            # that deep, so such a record is named as bad rather than crashing the run.
            problems.add(f"a record could not be stored ({error})")
            continue
        texts.append(text)
    result.texts = texts
    result.records = len(texts)
    result.bad_records = problems.count
    result.problems = problems.examples
    if problems.skip_reason and not texts:
        result.status, result.reason = "skipped", problems.skip_reason
    elif problems.count and not texts:
        result.status, result.reason = "failed", problems.summary()
    elif problems.count:
        result.status, result.reason = "partial", problems.summary()
    elif problems.notes:
        result.reason = "; ".join(problems.notes)
    return result


def content_id(record):
    """Stable id for a record without eventID: a hash of its content with keys sorted."""
    return "sha256:" + hashlib.sha256(orjson.dumps(record, option=orjson.OPT_SORT_KEYS)).hexdigest()


class Problems:
    """Bad records of one file: a count and the first few reasons."""

    def __init__(self):
        self.count = 0
        self.examples = []
        self.notes = []
        self.skip_reason = ""

    def add(self, reason):
        self.count += 1
        if len(self.examples) < MAX_PROBLEMS_KEPT:
            self.examples.append(reason)

    def summary(self):
        more = f" (first {len(self.examples)} shown)" if self.count > len(self.examples) else ""
        return f"{self.count} bad record(s){more}: " + "; ".join(self.examples)


def decompress(raw):
    """gzip (one or more members) to bytes, refusing anything that expands past the limit.

    isal (Intel's ISA-L) inflates the same streams as zlib about 40% faster; decompression
    is a third of the parsing cost of a small CloudTrail file.
    """
    if raw[:2] != b"\x1f\x8b":
        return raw
    limit = _limit_mb * 1024 * 1024
    pieces, total, data = [], 0, raw
    while data:
        inflater = isal_zlib.decompressobj(31)
        try:
            piece = inflater.decompress(data, limit - total + 1)
        except isal_zlib.error as error:
            raise FileProblem(f"corrupt gzip data ({error})") from None
        total += len(piece)
        pieces.append(piece)
        if total > limit or inflater.unconsumed_tail:
            raise FileProblem(f"expands to more than {_limit_mb} MB when decompressed "
                              "(possible gzip bomb); raise CLOUDTRAIL_MAX_FILE_MB to read it")
        if not inflater.eof:
            raise FileProblem("truncated gzip file (the download may be incomplete)")
        data = inflater.unused_data
        if data[:2] != b"\x1f\x8b":
            if data.strip(b"\x00"):
                raise FileProblem("unexpected bytes after the end of the gzip data")
            break
    return b"".join(pieces)


# \uD800-\uDFFF escapes that are not part of a high+low pair: valid JSON text, invalid Unicode.
# (A low half counts as paired only when the six characters before it are a high-half escape;
# four hex-like letters before it, as in "cafe\\udc00", do not make a pair.)
_LONE_SURROGATE = re.compile(rb"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
                             rb"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}")


def _loads(content):
    """orjson.loads, repairing what would otherwise lose a whole file; returns (value, note).

    Invalid UTF-8 bytes and lone surrogate escapes become U+FFFD (noted), so one bad
    character in an attacker-chosen user agent does not cost the file's other records.
    """
    try:
        return orjson.loads(content), ""
    except orjson.JSONDecodeError as error:
        message = str(error).lower()
        if "utf-8" not in message and "surrogate" not in message:
            raise
    notes = []
    repaired = content.decode("utf-8", "replace").encode("utf-8")
    if repaired != content:
        notes.append("invalid UTF-8 bytes replaced with U+FFFD")
    unpaired = _LONE_SURROGATE.sub(rb"\\ufffd", repaired)
    if unpaired != repaired:
        notes.append("lone surrogate escapes replaced with U+FFFD")
    return orjson.loads(unpaired), "; ".join(notes)


def json_type(value):
    """The JSON name of a parsed value's type, for messages."""
    return {dict: "object", list: "array", str: "string", int: "number", float: "number",
            bool: "boolean", type(None): "null"}.get(type(value), type(value).__name__)


def parse_document(content):
    """A whole-file JSON document to its list of records (or NDJSON read line by line)."""
    problems = Problems()
    stripped = content.rstrip(b"\x00")
    if len(stripped) != len(content):
        # A file cut short by a crash is often padded with zero bytes; the JSON before them is intact.
        problems.notes.append(f"{len(content) - len(stripped)} trailing zero bytes ignored")
        content = stripped
    try:
        document, note = _loads(content)
    except orjson.JSONDecodeError as error:
        if _looks_like_ndjson(content):
            return parse_lines(content)
        raise FileProblem(f"not valid JSON ({_short_json_error(error)})") from None
    if note:
        problems.notes.append(note)
    if isinstance(document, dict):
        lists = _all_records_lists(content) if "Records" in document and content.count(b'"Records"') > 1 else None
        if lists is not None and len(lists) > 1:
            if not all(isinstance(value, list) for value in lists):
                raise FileProblem(f"'Records' appears {len(lists)} times and not every one is a list")
            problems.notes.append(f"'Records' appears {len(lists)} times; the records of every list were read")
            records = [record for value in lists for record in value]
        elif "Records" in document:
            records = document["Records"]
            if not isinstance(records, list):
                raise FileProblem(f"'Records' is a JSON {json_type(records)}, not a list")
        elif "digestStartTime" in document or "digestS3Bucket" in document:
            problems.skip_reason = "CloudTrail digest file (integrity hashes, no events)"
            return [], problems
        elif "configurationItems" in document or "configSnapshotId" in document:
            problems.skip_reason = "AWS Config file (no CloudTrail events)"
            return [], problems
        elif _is_record(document):
            records = [document]
        else:
            keys = ", ".join(sorted(map(str, document))[:5]) or "none"
            raise FileProblem(f"JSON without a 'Records' list - not a CloudTrail log (top-level keys: {keys})")
    elif isinstance(document, list):
        records = document
    else:
        raise FileProblem(f"a JSON {json_type(document)} at top level - not a CloudTrail log")
    return _keep_records(records, problems, "record"), problems


def _all_records_lists(content):
    """The value of every top-level "Records" key, in file order (orjson keeps only the last
    of repeated keys, and has no hook to see them all; Python's json module has one). Only for
    the rare file where the key appears more than once; None if the text cannot be read."""
    top = []

    def pairs_hook(pairs):
        top[:] = [pairs]          # the outermost object is the last one closed
        return dict(pairs)

    text = _LONE_SURROGATE.sub(rb"\\ufffd", content.decode("utf-8", "replace").encode("utf-8"))
    try:
        document = json.loads(text, object_pairs_hook=pairs_hook)
    except (ValueError, RecursionError):
        return None
    if not isinstance(document, dict) or not top:
        return None
    return [value for key, value in top[0] if key == "Records"]


def parse_lines(content, first_line=1):
    """NDJSON: one record (or one {"Records": [...]} document) per line; bad lines are counted."""
    problems = Problems()
    records = []
    for number, line in enumerate(content.split(b"\n"), first_line):
        if not line.strip():
            continue
        try:
            value, note = _loads(line)
        except orjson.JSONDecodeError as error:
            problems.add(f"line {number}: not valid JSON ({_short_json_error(error)})")
            continue
        if note and note not in problems.notes:
            problems.notes.append(note)
        if isinstance(value, dict) and isinstance(value.get("Records"), list):
            records.extend(_keep_records(value["Records"], problems, f"line {number} record"))
        elif isinstance(value, dict) and _is_record(value):
            records.append(value)
        else:
            problems.add(f"line {number}: not a CloudTrail record (no eventSource, eventVersion, userIdentity or awsRegion)")
    return records, problems


def _keep_records(records, problems, label):
    kept = [record for record in records if isinstance(record, dict) and _is_record(record)]
    if len(kept) != len(records):
        for index, record in enumerate(records):
            if not isinstance(record, dict):
                problems.add(f"{label} {index}: a JSON {json_type(record)}, not an object")
            elif not _is_record(record):
                problems.add(f"{label} {index}: no eventSource, eventVersion, userIdentity or awsRegion - not a CloudTrail record")
    return kept


# Keys that every CloudTrail record has one of and that label or metadata files
# (which also carry eventID and eventName) lack.
_RECORD_KEYS = ("eventSource", "eventVersion", "userIdentity", "awsRegion")
_RECORD_KEYS_LOWER = frozenset(key.lower() for key in _RECORD_KEYS)


def _is_record(value):
    if "eventSource" in value or "eventVersion" in value or "userIdentity" in value or "awsRegion" in value:
        return True
    # Hand-edited records sometimes have lower-cased keys; rare, so checked second.
    return any(isinstance(key, str) and key.lower() in _RECORD_KEYS_LOWER for key in value)


def _looks_like_ndjson(content):
    head = content[:4096].lstrip()
    return head.startswith(b"{") and b"\n" in content.strip()


def _short_json_error(error):
    return str(error).split(":")[0][:120]
