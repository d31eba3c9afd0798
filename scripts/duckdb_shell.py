"""A SQL prompt on a case database, with the DuckDB library the toolkit uses (no separate
DuckDB command-line tool needs to be installed, and the versions always match).

usage: duckdb_shell.py DATABASE [SQL]

  DATABASE  case database written by analyze_ingest.py
  SQL       statements to run and print, then exit; without it, statements are read from
            standard input: typed at a prompt (end each with ;) or piped in

At the prompt, `.read FILE` runs the statements in FILE (e.g. `.read rules/iam/views.sql`),
`.quit` (or Ctrl-D) leaves. Results are printed as DuckDB's boxed tables; `.maxrows N` shows
up to N rows of each (default 40). Open it while no ingest is writing to the database.

examples:
  .venv/bin/python scripts/duckdb_shell.py cases.db
  .venv/bin/python scripts/duckdb_shell.py cases.db "select severity, count(*) from findings group by 1 order by 2 desc"
  .venv/bin/python scripts/duckdb_shell.py cases.db < my_queries.sql
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import duckdb  # noqa: E402

import casedb  # noqa: E402
import common  # noqa: E402


SHOWN = {"SELECT", "EXPLAIN", "PRAGMA", "CALL", "SHOW", "DESCRIBE", "SUMMARIZE"}


def run_statements(con, text, max_rows):
    """Runs each statement of text and prints the result of those that return rows."""
    for statement in _statements(text):
        try:
            relation = con.sql(statement.query)
        except duckdb.Error as error:
            print(f"error: {common.terminal_safe(str(error).strip())}", file=sys.stderr)
            continue
        # `set`, `create` and the like return a one-cell "Success" table: not worth printing.
        if relation is not None and statement.type.name in SHOWN:
            relation.show(max_rows=max_rows, max_width=10_000)


def _statements(text):
    """Whole statements of text; duckdb's own parser splits them, so ; inside strings is safe."""
    try:
        return list(duckdb.extract_statements(text)) if text.strip() else []
    except duckdb.Error as error:
        print(f"error: {common.terminal_safe(str(error).strip())}", file=sys.stderr)
        return []


def interactive(con, stream, prompt):
    max_rows = 40
    pending = []
    while True:
        if prompt:
            print("... " if pending else "sql> ", end="", flush=True)
        line = stream.readline()
        if not line:
            break
        stripped = line.strip()
        if not pending and stripped.startswith("."):
            command, _, argument = stripped.partition(" ")
            if command in (".quit", ".exit"):
                break
            if command == ".read":
                try:
                    text = Path(argument.strip()).read_text(encoding="utf-8")
                except OSError as error:
                    print(f"error: cannot read {argument.strip()}: {error.strerror}", file=sys.stderr)
                    continue
                run_statements(con, text, max_rows)
            elif command == ".maxrows" and argument.strip().isdigit():
                max_rows = int(argument.strip())
            else:
                print("commands: .read FILE, .maxrows N, .quit", file=sys.stderr)
            continue
        pending.append(line)
        if stripped.endswith(";"):
            run_statements(con, "".join(pending), max_rows)
            pending = []
    if "".join(pending).strip():
        run_statements(con, "".join(pending), max_rows)


def main(argv):
    if len(argv) not in (2, 3):
        raise common.UsageError("expected DATABASE [SQL]")
    con = casedb.open_case(argv[1])
    try:
        con.execute("set TimeZone = 'UTC'")
        if len(argv) == 3:
            run_statements(con, argv[2], 10_000)
        else:
            interactive(con, sys.stdin, sys.stdin.isatty())
    finally:
        con.close()
    return common.EXIT_OK


if __name__ == "__main__":
    sys.exit(common.run_cli(__doc__, sys.argv, main))
