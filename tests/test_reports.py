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


PROSE = ("The session ASIAEXAMPLE0000000001 of role/level1 (minted by lambda.amazonaws.com) called 37 APIs from "
         "203.0.113.9 - 12 of them denied - # not a heading, 1. not a list, > not a quote; " * 6).strip()


def test_long_prose_is_wrapped_and_reads_back_the_same():
    lines = common.wrap_markdown([PROSE])
    assert len(lines) > 1 and all(len(line) <= common.PROSE_CHARS for line in lines)
    assert " ".join(lines) == PROSE            # markdown joins the lines back into the paragraph
    # a line that started with one of these would become a list item, heading or quote
    assert not any(line.startswith(("- ", "# ", "1. ", "> ")) for line in lines[1:])


def test_list_items_wrap_under_their_text_and_tables_code_and_headings_stay_whole():
    row = "| " + " | ".join(["x" * 60] * 4) + " |"
    heading = "### " + "A long heading " * 10
    code = "select " + ", ".join(f"column_{n}" for n in range(40))
    lines = common.wrap_markdown([f"- {PROSE}", f"12. {PROSE}", row, heading, "```sql", code, "```"])
    item_end = lines.index(next(line for line in lines if line.startswith("12. ")))
    assert lines[0].startswith("- ") and all(line.startswith("  ") for line in lines[1:item_end])
    assert row in lines and heading in lines and code in lines


def test_a_chart_not_worth_drawing_is_named_in_one_line(tmp_path):
    from types import SimpleNamespace
    context = SimpleNamespace(run_id="r1", db_path="case.db", since=None, until=None, events_in_scope=10,
                              first_event=None, last_event=None, accounts=[], regions=[])
    png = tmp_path / "drawn.png"
    png.write_bytes(b"")
    path = reports.write_report(tmp_path / "report.md", "Test report", "test", context, [],
                                [("Calls by service", png), ("Failed sign-ins by source IP", None)])
    text = path.read_text(encoding="utf-8")
    assert "![Calls by service](drawn.png)" in text
    assert "Not drawn, because" in text and "Failed sign-ins by source IP." in text
