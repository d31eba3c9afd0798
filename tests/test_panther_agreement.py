"""The toolkit's detections agree with Panther's labelled tests where they claim the same thing."""
import pytest

import panther_agreement
from conftest import needs_shared_data

pytestmark = needs_shared_data


@pytest.mark.parametrize("rule_id", sorted(panther_agreement.MAPPING))
def test_detection_agrees_with_panther_labels(rule_id, tmp_path):
    results = panther_agreement.evaluate(rule_id, tmp_path)
    assert results, f"no labelled records for {rule_id}"
    disagreements = [(name, expected, fired) for name, expected, fired, _ in results
                     if not panther_agreement.agrees(rule_id, name, expected, fired)]
    assert disagreements == []


def test_every_listed_difference_still_differs(tmp_path):
    """A difference that no longer happens must be taken off the list, so the README stays true."""
    stale = []
    for rule_id, name in panther_agreement.DIFFERENCES:
        results = {n: (expected, fired) for n, expected, fired, _ in panther_agreement.evaluate(rule_id, tmp_path / rule_id)}
        expected, fired = results[name]
        if expected == fired:
            stale.append((rule_id, name))
    assert stale == []
