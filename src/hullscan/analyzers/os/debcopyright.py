"""Licenses of a Debian package from its ``usr/share/doc/<package>/copyright`` file.

dpkg's database has no license field; Debian states licenses in the copyright file. Modern
files are machine-readable (DEP-5): every ``License:`` field's first line is a short name
(``GPL-2+``, ``BSD-3-clause``, ``Expat``), possibly joined with ``or``/``and``. Older files are
free text that points at ``/usr/share/common-licenses/<NAME>``, read only when there is no
``License:`` field. Names are kept in order of first appearance and mapped to SPDX identifiers
where Debian's short name has an exact SPDX equivalent (others are kept as Debian wrote them,
so nothing is invented).
"""

from __future__ import annotations

import re

_LICENSE_FIELD = re.compile(rb"^License:[ \t]*([^\r\n]*)", re.MULTILINE | re.IGNORECASE)
_COMMON_LICENSES = re.compile(rb"/usr/share/common-licenses/([A-Za-z0-9][A-Za-z0-9.+_-]{0,40})")
_SPLIT = re.compile(r"\s+(?:or|and)\s+|\s*[|,]\s*", re.IGNORECASE)
_MAX_LICENSES = 64

# Debian short names (DEP-5 §7.1 and common-licenses file names) -> SPDX identifiers.
_SPDX = {
    "apache-2.0": "Apache-2.0",
    "artistic": "Artistic-1.0-Perl",
    "artistic-2.0": "Artistic-2.0",
    "bsd-2-clause": "BSD-2-Clause",
    "bsd-3-clause": "BSD-3-Clause",
    "bsd-4-clause": "BSD-4-Clause",
    "bsd": "BSD-3-Clause",
    "cc0-1.0": "CC0-1.0",
    "expat": "MIT",
    "mit": "MIT",
    "gfdl-1.2": "GFDL-1.2-only",
    "gfdl-1.2+": "GFDL-1.2-or-later",
    "gfdl-1.3": "GFDL-1.3-only",
    "gfdl-1.3+": "GFDL-1.3-or-later",
    "gpl-1": "GPL-1.0-only",
    "gpl-1+": "GPL-1.0-or-later",
    "gpl-2": "GPL-2.0-only",
    "gpl-2+": "GPL-2.0-or-later",
    "gpl-2.0": "GPL-2.0-only",
    "gpl-2.0+": "GPL-2.0-or-later",
    "gpl-3": "GPL-3.0-only",
    "gpl-3+": "GPL-3.0-or-later",
    "gpl-3.0": "GPL-3.0-only",
    "gpl-3.0+": "GPL-3.0-or-later",
    "isc": "ISC",
    "lgpl-2": "LGPL-2.0-only",
    "lgpl-2+": "LGPL-2.0-or-later",
    "lgpl-2.1": "LGPL-2.1-only",
    "lgpl-2.1+": "LGPL-2.1-or-later",
    "lgpl-3": "LGPL-3.0-only",
    "lgpl-3+": "LGPL-3.0-or-later",
    "mpl-1.1": "MPL-1.1",
    "mpl-2.0": "MPL-2.0",
    "zlib": "Zlib",
    "curl": "curl",
    "openssl": "OpenSSL",
    "python-2.0": "Python-2.0",
    "x11": "X11",
    "ofl-1.1": "OFL-1.1",
    "psf-2": "PSF-2.0",
}


def spdx_or_debian(name: str) -> str:
    """The SPDX identifier for a Debian short license name, or the name as written."""
    return _SPDX.get(name.lower(), name)


def copyright_licenses(data: bytes) -> tuple[str, ...]:
    """License names stated in a Debian copyright file, in order, without duplicates."""
    found: dict[str, None] = {}
    for m in _LICENSE_FIELD.finditer(data):
        value = m.group(1).decode("utf-8", "replace").strip()
        for part in _SPLIT.split(value):
            name = part.strip().strip("()")
            if name and len(name) <= 60 and " " not in name:
                found.setdefault(spdx_or_debian(name), None)
    if found:
        # DEP-5: the License fields are the statement; common-licenses paths in their texts
        # name the file of the base license ("GPL-3" for "GPL-3+") and would add noise.
        return tuple(list(found)[:_MAX_LICENSES])
    for m in _COMMON_LICENSES.finditer(data):
        name = m.group(1).decode("ascii").rstrip(".")
        found.setdefault(spdx_or_debian(name), None)
    return tuple(list(found)[:_MAX_LICENSES])
