"""The vulnerability DB's SQLite schema.

One file. Rows hold the columns the matcher filters on (namespace, package, fix state, ids);
the rest of each record is a msgpack blob of the model struct (``Advisory`` without its
``affected``, ``Affected``...), decoded only for the rows a lookup returns. Bumping
``SCHEMA_VERSION`` makes older readers refuse the file (``db import``/``db pull`` check it).
"""

from __future__ import annotations

SCHEMA_VERSION = 2

DDL = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;

-- One row per feed read: what it was, how fresh, how much it gave, what it could not use.
CREATE TABLE sources (
    name TEXT PRIMARY KEY,
    path TEXT,
    upstream_date TEXT,
    records INTEGER NOT NULL,
    issues INTEGER NOT NULL,
    seconds REAL
) WITHOUT ROWID;

-- Unusable records, per source (the first few hundred per source, the count is in sources).
CREATE TABLE issues (source TEXT NOT NULL, item TEXT NOT NULL, error TEXT NOT NULL);

-- An advisory is (id, grp): the same CVE id from the Debian tracker and from Red Hat are two
-- statements (two rows); copies of one OSV record from several bundles are one (grp "osv").
CREATE TABLE advisories (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    grp TEXT NOT NULL,
    source TEXT NOT NULL,
    withdrawn TEXT,
    malicious INTEGER NOT NULL,
    modified TEXT,
    body BLOB NOT NULL          -- msgpack Advisory with affected=()
);
CREATE UNIQUE INDEX advisories_key ON advisories (id, grp);

-- Every id an advisory is known by (its own id included), for alias merging and explain.
CREATE TABLE aliases (alias TEXT NOT NULL, advisory INTEGER NOT NULL);
CREATE INDEX aliases_alias ON aliases (alias);
CREATE INDEX aliases_advisory ON aliases (advisory);  -- early: the builder deletes by it

-- Clustered by (namespace, package): a scan reads every statement of each of its packages,
-- and they sit on neighbouring pages instead of one random page each (half the read time).
-- ``ord`` is the entry's place among its advisory's entries (upstream order). The builder
-- writes the rows to a temporary table first and copies them here sorted at the end
-- (inserting in key order is much faster).
CREATE TABLE affected (
    namespace TEXT NOT NULL,
    package TEXT NOT NULL,
    advisory INTEGER NOT NULL,
    ord INTEGER NOT NULL,
    fix_state TEXT NOT NULL,
    fixed_version TEXT,
    upper TEXT,                 -- from this version on the entry affects nothing (or NULL)
    body BLOB NOT NULL,         -- msgpack Affected
    PRIMARY KEY (namespace, package, advisory, ord)
) WITHOUT ROWID;
CREATE INDEX affected_advisory ON affected (advisory);

CREATE TABLE kev (cve TEXT PRIMARY KEY, body BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE epss (cve TEXT PRIMARY KEY, epss REAL NOT NULL, percentile REAL NOT NULL)
    WITHOUT ROWID;
CREATE TABLE cve_severity (cve TEXT NOT NULL, source TEXT NOT NULL, body BLOB NOT NULL);
CREATE INDEX cve_severity_cve ON cve_severity (cve);

CREATE TABLE support (namespace TEXT NOT NULL, package TEXT, body BLOB NOT NULL);
CREATE INDEX support_key ON support (namespace, package);
"""

MAX_ISSUES_STORED_PER_SOURCE = 500
