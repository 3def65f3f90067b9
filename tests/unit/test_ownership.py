"""drop_os_owned: a classified binary that an OS package owns is not reported again."""

from __future__ import annotations

from hullscan.analyzers.ownership import drop_os_owned
from hullscan.model import Location, Package


def pkg(name: str, ptype: str, found_by: str, path: str, files: tuple[str, ...] = ()) -> Package:
    return Package(name=name, version="1", type=ptype, purl=f"pkg:{ptype}/{name}@1",
                   found_by=found_by, locations=(Location(path=path),), files=files)  # fmt: skip


CLASSIFIER = frozenset({"lang/binary"})


def test_owned_binaries_are_dropped_after_the_usr_merge() -> None:
    os_pkg = pkg("bash", "deb", "os/dpkg", "var/lib/dpkg/status", ("bin/bash", "usr/bin/curl"))
    owned_merged = pkg("bash", "generic", "lang/binary", "usr/bin/bash")  # dpkg says /bin/bash
    owned = pkg("curl", "generic", "lang/binary", "usr/bin/curl")
    copied = pkg("curl", "generic", "lang/binary", "opt/tools/curl")  # copied in by hand
    other = pkg("x", "npm", "lang/node", "usr/bin/curl")  # another analyzer: untouched
    kept = drop_os_owned([os_pkg, owned_merged, owned, copied, other], CLASSIFIER)
    assert kept == [os_pkg, copied, other]


def test_nothing_owned_keeps_everything() -> None:
    packages = [pkg("curl", "generic", "lang/binary", "usr/bin/curl")]
    assert drop_os_owned(packages, CLASSIFIER) == packages
