"""The rooms keep their rules: one writer of the audit trail, one holder of the state-writing permission,
one CSV reader. (The import direction itself is checked by `lint-imports` in `make test`.)"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = [ROOT / "applications", ROOT / "agencies", ROOT / "desk", ROOT / "transfer_portal"]


def product_files():
    for folder in PRODUCT:
        for path in folder.rglob("*.py"):
            if "migrations" not in path.parts:
                yield path


def places(pattern):
    found = set()
    for path in product_files():
        if re.search(pattern, path.read_text(), re.MULTILINE):
            found.add(path.relative_to(ROOT).as_posix())
    return found


def test_only_the_audit_module_writes_the_audit_trail():
    assert places(r"(CaseEvent|AccessRecord)(\.objects\.(create|bulk_create)|\()") <= {
        "applications/cases/audit.py",
        "applications/models/cases.py",  # the class definitions
    }
    assert places(r"(CaseEvent|AccessRecord)\.objects\.(create|bulk_create)") == {
        "applications/cases/audit.py"
    }


def test_only_the_workflow_service_opens_the_state_writers_permission():
    assert places(r"writing_state\(") == {"applications/cases/services.py", "applications/models/cases.py"}


def test_the_states_holders_and_closed_states_are_declared_once():
    assert places(r"^\s*(HOLDER|CLOSED_STATES|STEP_OF_STATE|WINDOW_OF_STATE)\s*=") == {
        "applications/cases/states.py"
    }
