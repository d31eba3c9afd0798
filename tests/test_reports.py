"""Report cells: a list in a table cell is its count and the first few items; no cell runs
longer than a line of text; the whole value stays in the database and the export."""
import pytest

import common
import reports
from common import Markdown, md_code, md_table, md_text

IDS = ["access_key_created_for_another_user", "admin_policy_attached", "api_called_from_offensive_tool",
       "bucket_replicated_to_other_account", "caller_identity_checked_by_new_key", "cloudtrail_logging_stopped"] * 4


def test_a_short_list_is_shown_whole():
    assert reports.summarise_list(["a", "b"], "detections") == "`a`, `b`"
    assert reports.summarise_list([], "detections") == "-"


def test_a_long_list_is_its_count_and_the_first_few():
    cell = reports.summarise_list(IDS, "detections")
    assert cell.startswith("24 detections: `access_key_created_for_another_user`, `admin_policy_attached`")
    assert cell.endswith(", ...") and reports.visible_length(cell) <= reports.LIST_CHARS


def test_one_long_item_is_kept_whole_and_never_called_a_list():
    title = "Lambda function code or configuration changed outside its usual deployer " * 2
    assert reports.summarise_list([title], "reasons", md_text) == md_text(title)


def test_a_list_known_to_be_longer_says_how_long():
    assert reports.summarise_list(["ListUsers", "ListRoles"], "actions", md_text, total=17) == \
        "17 actions: ListUsers, ListRoles, ..."


def test_items_are_escaped_by_their_renderer():
    cell = reports.summarise_list(["a|b", "`x`"] * 20, "names")
    assert "a\\|b" in cell and "``" in cell and "\n" not in cell


@pytest.mark.parametrize("markdown, length", [
    ("[T1078.004](https://attack.mitre.org/techniques/T1078/004/)", 9),
    ("`user/alice`", 10), ("a\\_b &amp; c", 7), ("plain", 5)])
def test_visible_length_counts_what_a_reader_sees(markdown, length):
    assert reports.visible_length(markdown) == length


def test_long_text_cells_are_cut_at_a_word():
    summary = "credentials of instance(s) i-0a1b2c3d4e5f67890 used from 203.0.113.7: " + "GetObject, " * 30
    [_, _, row] = md_table(["summary", "list"], [(summary, Markdown(reports.summarise_list(IDS, "detections")))])
    cell = row.split(" | ")[0].removeprefix("| ")
    assert cell.endswith("...") and len(cell) <= common.CELL_CHARS
    assert cell.removesuffix("...").endswith("GetObject")
    assert all(reports.visible_length(c.strip()) <= common.CELL_CHARS for c in row.strip("|").split(" | "))


def test_short_cells_and_numbers_are_unchanged():
    assert md_table(["a", "b"], [("x" * common.CELL_CHARS, 7)])[2] == f"| {'x' * common.CELL_CHARS} | 7 |"
    assert md_code("user/alice") in md_table(["who"], [(Markdown(md_code("user/alice")),)])[2]
