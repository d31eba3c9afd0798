"""scripts/duckdb_shell.py: the README's way to query a case database runs statements given as an
argument or piped in, prints results, and answers bad arguments with its usage."""
import subprocess
import sys

from conftest import REPO, build_case, event

SHELL = [sys.executable, str(REPO / "scripts" / "duckdb_shell.py")]


def test_runs_sql_given_as_an_argument(tmp_path):
    db = build_case(tmp_path, [event("ListUsers", "iam.amazonaws.com")])
    result = subprocess.run(SHELL + [str(db), "set variable n = 7; select event_name, getvariable('n') as n from events"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "ListUsers" in result.stdout and "7" in result.stdout and "Success" not in result.stdout


def test_reads_statements_and_dot_read_from_standard_input(tmp_path):
    db = build_case(tmp_path, [event("ListRoles", "iam.amazonaws.com")])
    (tmp_path / "q.sql").write_text("select 'from a file; with a semicolon' as note;")
    piped = f"select count(*) as events\nfrom events;\n.read {tmp_path / 'q.sql'}\nselect nope;\n"
    result = subprocess.run(SHELL + [str(db)], input=piped, capture_output=True, text=True)
    assert result.returncode == 0
    assert "from a file; with a semicolon" in result.stdout
    assert "error:" in result.stderr and "Traceback" not in result.stderr


def test_usage_and_missing_database(tmp_path):
    result = subprocess.run(SHELL, capture_output=True, text=True)
    assert result.returncode == 2 and "usage: duckdb_shell.py" in result.stderr
    result = subprocess.run(SHELL + [str(tmp_path / "none.db"), "select 1"], capture_output=True, text=True)
    assert result.returncode == 1 and "no such database" in result.stderr
