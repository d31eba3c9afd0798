"""The documentation matches the code: README's generated parts are current, the set-up is the
two commands, and every script answers bad arguments with its usage and exit status 2."""
import subprocess
import sys

import pytest

from conftest import REPO, needs_shared_data

SCRIPTS = sorted(path.name for path in REPO.glob("analyze_*.py"))


@needs_shared_data
def test_readme_generated_parts_are_current():
    result = subprocess.run([sys.executable, str(REPO / "scripts" / "update_readme.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr + "\nrun scripts/update_readme.py and commit README.md"


def test_readme_setup_is_make_demo_and_make_test():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "make demo" in readme and "make test" in readme
    assert "make test" in (REPO / ".ci" / "run").read_text()


def test_readme_documents_every_script():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert [name for name in SCRIPTS + ["parse_flatten.sh"] if name not in readme] == []


@pytest.mark.parametrize("script", SCRIPTS)
def test_script_prints_usage_on_bad_arguments(script):
    result = subprocess.run([sys.executable, str(REPO / script)], capture_output=True, text=True)
    assert result.returncode == 2
    assert f"usage: {script}" in result.stderr
    assert "Traceback" not in result.stderr
