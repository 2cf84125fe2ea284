"""The lock files (requirements/runtime.txt and dev.txt, made by ``make lock``) agree with
pyproject.toml: every dependency is pinned there at a version its bounds allow, with hashes,
and the two files pin the packages they share at the same versions. A dependency added to
pyproject.toml without ``make lock`` fails here, not in a production install."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)")


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: Path) -> dict[str, tuple[str, int]]:
    """{name: (version, number of hashes)} of a pip-compile output file."""
    found: dict[str, tuple[str, int]] = {}
    current = None
    for line in path.read_text().splitlines():
        match = _PIN.match(line)
        if match:
            current = normalise(match.group(1))
            found[current] = (match.group(2), 0)
        elif current and "--hash=sha256:" in line:
            version, hashes = found[current]
            found[current] = (version, hashes + line.count("--hash=sha256:"))
    return found


def _project() -> dict:
    with (ROOT / "pyproject.toml").open("rb") as file:
        return tomllib.load(file)["project"]


def _assert_locked(requirements: list[str], locked: dict[str, tuple[str, int]], where: str):
    for text in requirements:
        requirement = Requirement(text)
        name = normalise(requirement.name)
        assert name in locked, f"{name} is not in {where}: run `make lock`"
        version, _hashes = locked[name]
        assert requirement.specifier.contains(Version(version), prereleases=True), \
            f"{where} pins {name}=={version}, outside {requirement.specifier}: run `make lock`"


def test_the_runtime_lock_pins_every_runtime_dependency_with_hashes():
    locked = pins(ROOT / "requirements" / "runtime.txt")
    _assert_locked(_project()["dependencies"], locked, "requirements/runtime.txt")
    assert all(hashes for _version, hashes in locked.values()), \
        [name for name, (_v, hashes) in locked.items() if not hashes]


def test_the_dev_lock_pins_the_dev_extras_and_the_runtime_at_the_same_versions():
    project = _project()
    dev = pins(ROOT / "requirements" / "dev.txt")
    _assert_locked(project["dependencies"] + project["optional-dependencies"]["dev"], dev,
                   "requirements/dev.txt")
    assert all(hashes for _version, hashes in dev.values())
    runtime = pins(ROOT / "requirements" / "runtime.txt")
    differ = {name: (version, dev.get(name, ("missing",))[0])
              for name, (version, _h) in runtime.items() if dev.get(name, ("",))[0] != version}
    assert differ == {}, f"runtime and dev locks disagree: {differ}; run `make lock`"


def test_pins_are_read_with_their_hashes(tmp_path):
    sample = tmp_path / "lock.txt"
    sample.write_text("# header\nFlask_Login==0.6.3 \\\n    --hash=sha256:aa \\\n"
                      "    --hash=sha256:bb\n    # via x\nredis==8.2.0\n")
    assert pins(sample) == {"flask-login": ("0.6.3", 2), "redis": ("8.2.0", 0)}
