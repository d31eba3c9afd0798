"""Generates the broken and hostile inputs a trail bucket sync can leave on disk, each with
what the ingest must make of it: (status in ingested_files, words its reason must contain,
records stored from it)."""
import gzip

import orjson

from conftest import event

GOOD = orjson.dumps({"Records": [event()]})


def _deep(levels):
    return b'{"Records": [{"eventSource": "x.amazonaws.com", "eventID": "deep", "requestParameters": ' + \
        b'{"a":' * levels + b"1" + b"}" * levels + b"}]}"


def cases():
    """name -> (file bytes, expected status, reason words, records stored)."""
    no_time, no_id, no_identity = event(), event(), event()
    del no_time["eventTime"], no_id["eventID"], no_identity["userIdentity"]
    return {
        "zero_bytes.json.gz": (b"", "failed", "empty file", 0),
        "corrupt.json.gz": (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03not deflate", "failed", "corrupt gzip", 0),
        "truncated.json.gz": (gzip.compress(GOOD)[:-15], "failed", "truncated gzip", 0),
        "gzip_of_text.json.gz": (gzip.compress(b"hello, this is not JSON"), "failed", "not valid JSON", 0),
        "truncated.json": (GOOD[:-30], "failed", "not valid JSON", 0),
        "no_records.json": (orjson.dumps({"hello": "world"}), "failed", "without a 'Records' list", 0),
        "records_not_a_list.json": (orjson.dumps({"Records": "abc"}), "failed", "not a list", 0),
        "records_not_objects.json": (orjson.dumps({"Records": [1, "two", None, [], event()]}), "partial",
                                     "a JSON null, not an object", 1),
        "missing_fields.json": (orjson.dumps({"Records": [no_time, no_id, no_identity]}), "loaded", "", 3),
        "bad_times.json": (orjson.dumps({"Records": [event(time="yesterday"), event(time=1700000000),
                                                     event(time="2026-02-30T10:00:00Z"),
                                                     event(time="99999-01-01T00:00:00Z")]}), "loaded", "", 4),
        "duplicate_keys.json": (b'{"Records": [{"eventSource": "a.amazonaws.com", "eventName": "First", '
                                b'"eventName": "Second", "eventID": "dup", "eventTime": "2026-11-02T10:00:00Z"}]}',
                                "loaded", "", 1),
        "nested_200.json": (_deep(200), "loaded", "", 1),
        "nested_300.json": (_deep(300), "loaded", "", 1),
        "nested_5000.json": (_deep(5000), "failed", "depth limit", 0),
        "huge_record.json.gz": (gzip.compress(orjson.dumps({"Records": [event(
            requestParameters={"blob": "x" * 20_000_000})]})), "loaded", "", 1),
        "invalid_utf8.json": (GOOD.replace(b"aws-cli", b"aws\xff\xfecli"), "loaded", "invalid UTF-8", 1),
        "lone_surrogate.json": (GOOD.replace(b'"aws-cli', b'"\\ud800aws-cli'), "loaded", "lone surrogate", 1),
        "records_twice.json": (b'{"Records": [' + orjson.dumps(event()) + b"," + orjson.dumps(event())
                               + b'], "Records": [' + orjson.dumps(event()) + b"]}", "loaded", "appears 2 times", 3),
        "lone_low_surrogate.json": (GOOD.replace(b'"aws-cli', b'"cafe\\udc00aws-cli'), "loaded", "lone surrogate", 1),
        "nul_in_strings.json": (orjson.dumps({"Records": [event(userAgent="a\x00b")]}), "loaded", "", 1),
        "nul_padding.json": (GOOD + b"\x00" * 64, "loaded", "zero bytes ignored", 1),
        "nul_inside.json": (GOOD[:20] + b"\x00" + GOOD[20:], "failed", "not valid JSON", 0),
        "gzip_bomb.json.gz": (gzip.compress(b'{"Records": [' + b" " * (80 * 1024 * 1024) + b"]}", 9),
                              "failed", "gzip bomb", 0),
        "bad_lines.jsonl": (orjson.dumps(event()) + b"\n{oops\n" + orjson.dumps([1]) + b"\n" + orjson.dumps(event()),
                            "partial", "line 2: not valid JSON", 2),
    }
