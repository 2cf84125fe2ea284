"""Every third-party package that code under ``portal/`` imports is a runtime dependency.

A production install is ``pip install .``: only ``[project].dependencies`` of pyproject.toml,
no extras. A module imported by the portal but declared only among the ``dev`` extras (or
not at all, reaching the machine only as another package's dependency) works in development
and in the tests, and fails in production. The checker below parses every import of
``portal/**/*.py`` with ``ast`` (imports inside functions too), maps each top-level module to
the distributions that provide it (``importlib.metadata.packages_distributions()``) and
compares their normalised names with the runtime dependencies. Its own tests prove it fails.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIRST_PARTY = {"portal"}
_REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)")


def normalise(name: str) -> str:
    """A distribution name as PEP 503 compares them: ``Flask_SQLAlchemy`` = ``flask-sqlalchemy``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def runtime_dependencies(pyproject: Path) -> set[str]:
    """The normalised names in ``[project].dependencies`` (extras and markers left aside)."""
    with pyproject.open("rb") as file:
        requirements = tomllib.load(file)["project"].get("dependencies", [])
    names = set()
    for requirement in requirements:
        match = _REQUIREMENT_NAME.match(requirement)
        assert match, f"cannot read the requirement {requirement!r}"
        names.add(normalise(match.group(1)))
    return names


def imported_modules(package: Path) -> dict[str, set[str]]:
    """The top-level modules imported under ``package`` -> the files that import them."""
    found: dict[str, set[str]] = {}
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(
                    path.relative_to(package.parent).as_posix())
    return found


def undeclared_imports(package: Path, pyproject: Path,
                       distributions: dict[str, list[str]] | None = None) -> list[str]:
    """One line per third-party module imported under ``package`` whose distribution is not
    a runtime dependency (or that no installed distribution provides); empty when all are."""
    declared = runtime_dependencies(pyproject)
    provided = packages_distributions() if distributions is None else distributions
    problems = []
    for module, files in sorted(imported_modules(package).items()):
        if module in sys.stdlib_module_names or module in FIRST_PARTY:
            continue
        owners = {normalise(name) for name in provided.get(module, ())}
        where = ", ".join(sorted(files))
        if not owners:
            problems.append(f"{module}: no installed distribution provides it ({where})")
        elif not owners & declared:
            problems.append(f"{module} (distribution {', '.join(sorted(owners))}) is not in "
                            f"[project].dependencies ({where})")
    return problems


# --- the project ------------------------------------------------------------------------------


def test_every_package_the_portal_imports_is_a_runtime_dependency():
    assert undeclared_imports(ROOT / "portal", ROOT / "pyproject.toml") == []


# --- the checker itself -----------------------------------------------------------------------


def _pyproject_with_pypdf_in_dev(tmp_path: Path) -> Path:
    """The real pyproject.toml with pypdf moved back to the dev extras."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    line = re.search(r'^\s*"pypdf[^"]*",\n', text, re.M)
    assert line, "pypdf is expected among the runtime dependencies"
    text = text.replace(line.group(0), "")
    text = text.replace("dev = [\n", f"dev = [\n{line.group(0)}")
    fake = tmp_path / "pyproject.toml"
    fake.write_text(text, encoding="utf-8")
    assert "pypdf" not in runtime_dependencies(fake)
    return fake


def test_the_checker_fails_when_pypdf_is_only_a_dev_dependency(tmp_path):
    problems = undeclared_imports(ROOT / "portal", _pyproject_with_pypdf_in_dev(tmp_path))
    assert len(problems) == 1
    assert problems[0].startswith("pypdf (distribution pypdf) is not in [project].dependencies")
    assert "portal/uploads.py" in problems[0]


def test_the_checker_reads_nested_and_from_imports_and_names_unknown_modules(tmp_path):
    package = tmp_path / "portal"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("import os\nfrom . import sub\nfrom portal.sub import x\n")
    (package / "sub" / "__init__.py").write_text(
        "def later():\n    from Some_Lib.part import thing\n    import flask.json, yaml\n")
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\ndependencies = ["Flask[async]>=3 ; python_version >= \'3.11\'",'
        ' "some.lib==1"]\n[project.optional-dependencies]\ndev = ["PyYAML"]\n')
    distributions = {"flask": ["Flask"], "Some_Lib": ["some-lib"], "yaml": ["PyYAML"]}
    assert undeclared_imports(package, tmp_path / "pyproject.toml", distributions) == [
        "yaml (distribution pyyaml) is not in [project].dependencies (portal/sub/__init__.py)"]
    del distributions["Some_Lib"]
    assert undeclared_imports(package, tmp_path / "pyproject.toml", distributions)[0] == (
        "Some_Lib: no installed distribution provides it (portal/sub/__init__.py)")
