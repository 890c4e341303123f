"""No service package imports another: each is released alone, and talks to the others
only through HTTP and events (ARCHITECTURE.md, "Services own their rules")."""

from __future__ import annotations

import ast
from pathlib import Path

SERVICES = Path(__file__).resolve().parents[2] / "services"


def service_packages() -> dict[str, Path]:
    """package name → its directory, for every ``services/<name>/<name>_service``."""
    return {
        package.name: package
        for package in sorted(SERVICES.glob("*/*_service"))
        if (package / "__init__.py").exists()
    }


def imported_modules(path: Path) -> set[str]:
    """The top-level names of the absolute imports of one module."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_the_service_packages_are_found():
    assert {"customer_service", "visit_service", "complaint_service", "gateway_service"} <= set(
        service_packages()
    )


def test_no_service_package_imports_another():
    packages = service_packages()
    found = []
    for name, directory in packages.items():
        for path in sorted(directory.rglob("*.py")):
            others = imported_modules(path) & (set(packages) - {name})
            found += [f"{path.relative_to(SERVICES)} imports {o}" for o in sorted(others)]
    assert found == []


def test_the_walk_sees_imports_anywhere_in_a_module(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        "import os\nfrom . import api\ndef f():\n    import visit_service.domain as d\n"
        "    from customer_service import domain\n"
    )
    assert imported_modules(module) == {"os", "visit_service", "customer_service"}
