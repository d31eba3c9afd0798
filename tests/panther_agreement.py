"""Agreement with Panther's labelled rule tests in ../shared/data/panther/labelled_events.jsonl.

Where one of the toolkit's detections claims the same thing as a Panther rule, each of the
rule's labelled records goes through the real ingest, and the detection must fire on the
records Panther expects to match and stay quiet on the others. The few records where the
toolkit deliberately differs are listed in DIFFERENCES with the reason.

Panther rules that apply a threshold (brute force, spraying) match single events and count
them elsewhere; they are compared with the toolkit's per-event detection.

    python tests/panther_agreement.py     # prints the agreement table for README.md
"""
import contextlib
import importlib
import io
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import conftest  # noqa: E402

def _collect():
    """Merges MAPPING and DIFFERENCES from every tests/panther_map_<area>.py.

    Each file holds MAPPING {Panther rule id: (detector module, detection id)} and
    DIFFERENCES {(rule id, Panther test name): why the toolkit answers differently, on purpose}.
    """
    mapping, differences = {}, {}
    for path in sorted(Path(__file__).resolve().parent.glob("panther_map_*.py")):
        module = importlib.import_module(path.stem)
        overlap = set(mapping) & set(module.MAPPING)
        if overlap:
            raise ValueError(f"{path.name} maps Panther rules already mapped elsewhere: {sorted(overlap)}")
        mapping.update(module.MAPPING)
        differences.update(module.DIFFERENCES)
    return mapping, differences


MAPPING, DIFFERENCES = _collect()


def labelled(rule_id):
    return [row for row in conftest.labelled_records("panther/labelled_events.jsonl") if row["rule_id"] == rule_id]


def evaluate(rule_id, folder):
    """[(test name, expected, fired, failed attempt)] for one Panther rule's records."""
    module_name, detection_id = MAPPING[rule_id]
    module = importlib.import_module(module_name)
    rows = labelled(rule_id)
    records = []
    for index, row in enumerate(rows):
        record = dict(row["event"])
        # Panther's test events reuse or omit ids; each needs its own to be told apart.
        record["eventID"] = f"panther-{index:03d}-{record.get('eventID', 'none')}"
        records.append(record)
    db = conftest.build_case(Path(folder), records, name=f"{rule_id}.db")
    found = conftest.detect(db, module)[detection_id]
    by_event = {event_id: finding for finding in found for event_id in finding["event_ids"]}
    results = []
    for row, record in zip(rows, records):
        finding = by_event.get(record["eventID"])
        results.append((row["test_name"], row["expected"], finding is not None,
                        finding is not None and finding["error_code"] is not None))
    return results


def agrees(rule_id, test_name, expected, fired):
    return fired == expected or (rule_id, test_name) in DIFFERENCES


def table():
    lines = ["| Panther rule | toolkit detection | labelled records (match / no match) | agree | differences |",
             "| --- | --- | --- | --- | --- |"]
    with tempfile.TemporaryDirectory() as folder:
        for rule_id, (module_name, detection_id) in sorted(MAPPING.items()):
            with contextlib.redirect_stdout(io.StringIO()):    # the ingest's own summaries
                results = evaluate(rule_id, folder)
            positives = sum(1 for _, expected, _, _ in results if expected)
            same = sum(1 for _, expected, fired, _ in results if fired == expected)
            notes = "; ".join(f"{name}: {DIFFERENCES[(rule_id, name)]}" for name, expected, fired, _ in results
                              if fired != expected and (rule_id, name) in DIFFERENCES)
            lines.append(f"| `{rule_id}` | `{detection_id}` | {len(results)} ({positives} / {len(results) - positives}) "
                         f"| {same} of {len(results)} | {notes or '-'} |")
    return "\n".join(lines)


if __name__ == "__main__":
    import os
    os.environ.setdefault("CLOUDTRAIL_OUTPUT_DIR", tempfile.mkdtemp())
    print(table())
