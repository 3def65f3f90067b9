"""Licenses of Debian packages from usr/share/doc/<package>/copyright."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hullscan.analyzers.os.debcopyright import copyright_licenses, spdx_or_debian
from hullscan.analyzers.os.dpkg import DpkgAnalyzer
from tests.unit.osfixtures import assemble, pkgdb, tree

A = DpkgAnalyzer()

DEP5 = b"""Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: demo

Files: *
Copyright: 2020 Someone
License: GPL-2+ or BSD-3-clause
 The text of the license, which mentions /usr/share/common-licenses/GPL-2 in passing.

Files: lib/*
Copyright: 2021 Other
License: Expat

Files: debian/*
License: GPL-2+

License: Expat
 Permission is hereby granted...
"""

OLD_STYLE = b"""This package was debianized by someone.

Copyright: 1998 Someone
On Debian GNU/Linux systems, the complete text of the GNU Lesser General Public License
can be found in `/usr/share/common-licenses/LGPL-2.1'. The GPL is in
/usr/share/common-licenses/GPL-2.
"""


def test_dep5_fields_in_order_mapped_to_spdx() -> None:
    assert copyright_licenses(DEP5) == ("GPL-2.0-or-later", "BSD-3-Clause", "MIT")


def test_old_style_file_uses_common_licenses_references() -> None:
    assert copyright_licenses(OLD_STYLE) == ("LGPL-2.1-only", "GPL-2.0-only")


def test_unknown_debian_names_are_kept_as_written() -> None:
    assert spdx_or_debian("public-domain") == "public-domain"
    assert spdx_or_debian("gpl-3+") == "GPL-3.0-or-later"
    assert copyright_licenses(b"License: Some Long Free Text Not A Name\n") == ()


def test_no_license_statement() -> None:
    assert copyright_licenses(b"") == ()
    assert copyright_licenses(b"just words\n") == ()


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=4096))
def test_any_bytes_give_a_bounded_tuple_of_names(data: bytes) -> None:
    names = copyright_licenses(data)
    assert isinstance(names, tuple)
    assert len(names) <= 64
    assert all(isinstance(n, str) and n and " " not in n for n in names)


def test_only_doc_copyright_paths_attach_licenses() -> None:
    status = b"Package: demo\nStatus: install ok installed\nVersion: 1.0-1\nArchitecture: all\n\n"
    files = {
        "var/lib/dpkg/status": status,
        "usr/share/doc/demo/copyright": DEP5,
        "opt/app/copyright": b"License: MIT\n",  # not a package's copyright file
        "usr/share/doc/demo/sub/copyright": b"License: ISC\n",
    }
    (pkg,) = assemble(A, files).packages
    assert pkg.licenses == ("GPL-2.0-or-later", "BSD-3-Clause", "MIT")


@pytest.mark.needs_shared
def test_distroless_copyright_file() -> None:
    (pkg,) = assemble(A, tree(pkgdb("dpkg", "distroless-debian-11-syft"), A)).packages
    assert pkg.licenses == ("public-domain", "GPL-2.0-or-later")
