"""The ingest's task pipeline (issue 13): large files split across the parser processes, and
DuckDB given every core once the parsers are done. Behaviour only; no timings."""
import analyze_ingest
import pytest
from conftest import event, ingest, stored, write_log_file


@pytest.fixture
def tiny_tasks(monkeypatch):
    """Parser processes even for a small input, and tasks of 1 KB of gzip: a file of a few KB is split."""
    monkeypatch.setattr(analyze_ingest, "INLINE_BYTES", 0)
    monkeypatch.setenv("CLOUDTRAIL_WORKERS", "2")
    original = analyze_ingest.ParserPool.__init__

    def init(self, batch_bytes):
        original(self, batch_bytes)
        self.task_bytes = 1024

    monkeypatch.setattr(analyze_ingest.ParserPool, "__init__", init)
    merged = []
    original_merge = analyze_ingest.merge_pieces

    def merge(pieces):
        merged.append(len(pieces))
        return original_merge(pieces)

    monkeypatch.setattr(analyze_ingest, "merge_pieces", merge)
    return merged


def varied(count, start=0):
    # Distinct user agents keep gzip from shrinking the file below a few tasks' worth.
    return [event(time=f"2026-11-02T10:{(start + n) // 60 % 60:02d}:{(start + n) % 60:02d}Z",
                  userAgent=f"agent-{n * 7919 % 100003}-{n}") for n in range(count)]


def test_a_large_file_is_split_across_parsers_and_stored_once_with_one_row(tmp_path, tiny_tasks):
    logs = tmp_path / "logs"
    big = varied(600)
    big_path = write_log_file(logs, big, "111122223333_CloudTrail_us-east-1_20261102T1000Z_big.json.gz")
    assert big_path.stat().st_size > 2 * 1024
    small = varied(3, start=700)
    write_log_file(logs, small, "111122223333_CloudTrail_us-east-1_20261102T1100Z_small.json.gz")
    pieces = list(analyze_ingest.group_files([analyze_ingest.logfiles.InputFile(str(big_path), big_path.stat().st_size)],
                                             1024, 2))
    assert [piece.index for piece in pieces] == [0, 1]
    db = tmp_path / "case.db"
    assert ingest(db, logs) == 0
    assert tiny_tasks == [2], "the large file was read in two pieces, merged once"
    assert stored(db, "select count(*), count(distinct event_id) from events") == [(603, 603)]
    rows = stored(db, "select records_read, new_events, duplicate_events, bad_records, status "
                      "from ingested_files order by path")
    assert rows == [(600, 600, 0, 0, "loaded"), (3, 3, 0, 0, "loaded")]
    # The same ids as one parser reading the whole file.
    ids = {event_id for (event_id,) in stored(db, "select event_id from events")}
    assert ids == {record["eventID"] for record in big + small}


def test_a_split_file_with_a_bad_record_is_partial_with_its_count(tmp_path, tiny_tasks):
    logs = tmp_path / "logs"
    records = varied(500)
    records.insert(250, {"not": "a CloudTrail record"})
    write_log_file(logs, records, "111122223333_CloudTrail_us-east-1_20261102T1000Z_big.json.gz")
    db = tmp_path / "case.db"
    assert ingest(db, logs) == 1
    assert tiny_tasks == [2]
    assert stored(db, "select records_read, new_events, bad_records, status from ingested_files") == \
        [(500, 500, 1, "partial")]


def test_a_split_file_read_again_adds_nothing(tmp_path, tiny_tasks):
    logs = tmp_path / "logs"
    records = varied(400)
    write_log_file(logs, records, "111122223333_CloudTrail_us-east-1_20261102T1000Z_big.json.gz")
    write_log_file(tmp_path / "again", records[::-1], "111122223333_CloudTrail_us-east-1_20261102T1000Z_rev.json.gz")
    db = tmp_path / "case.db"
    assert ingest(db, logs) == 0
    assert ingest(db, tmp_path / "again") == 0
    assert tiny_tasks == [2, 2]
    assert stored(db, "select records_read, new_events, duplicate_events from ingested_files "
                      "where path like '%rev%'") == [(400, 0, 400)]
    assert stored(db, "select count(*) from events") == [(400,)]


def test_a_corrupt_large_file_fails_once(tmp_path, tiny_tasks):
    logs = tmp_path / "logs"
    path = write_log_file(logs, varied(400), "111122223333_CloudTrail_us-east-1_20261102T1000Z_big.json.gz")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    db = tmp_path / "case.db"
    assert ingest(db, logs) == 1
    rows = stored(db, "select status, reason from ingested_files")
    assert len(rows) == 1 and rows[0][0] == "failed" and "truncated" in rows[0][1], rows
