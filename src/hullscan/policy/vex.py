"""VEX documents (``--vex FILE``): vendor statements that a product is or is not affected.

Three formats are read (detected from the document, ``docs/scanning.md``):

* **OpenVEX** (``@context`` ``https://openvex.dev/...``): ``statements[]`` with
  ``vulnerability.name`` (+ ``aliases``; a string statement-level ``vulnerability`` too),
  ``products[]`` (``@id`` purl, or ``identifiers.purl``; ``subcomponents`` too), ``status``
  ``not_affected`` (+ ``justification``, ``impact_statement``) / ``fixed`` / ``affected`` /
  ``under_investigation``.
* **CycloneDX VEX** (``bomFormat: CycloneDX``): ``vulnerabilities[]`` with ``id`` (+
  ``references[].id``), ``analysis.state`` ``not_affected`` / ``false_positive`` (read as
  not_affected) / ``resolved`` (read as fixed) / ``exploitable`` / ``in_triage``, ``affects[].ref``
  naming a component ``bom-ref`` (whose ``purl`` is used) or a purl itself.
* **CSAF VEX** (``document.csaf_version``): ``vulnerabilities[]`` with ``cve`` (+ ``ids[].text``),
  ``product_status`` ``known_not_affected`` / ``fixed`` (and ``known_affected`` /
  ``under_investigation``), product ids mapped to purls through ``product_tree`` (branches,
  ``full_product_names``, ``relationships``; ``product_identification_helper.purl``);
  justification from ``flags[].label``, detail from ``threats[]`` of category ``impact``.

Only ``not_affected`` and ``fixed`` statements suppress findings. A statement applies to a
finding when one of its ids (vulnerability name or alias; URL aliases such as
``https://www.cve.org/CVERecord?id=CVE-...`` are reduced to the id) equals the finding's id or an
alias (case-insensitive), and one of its product purls names the finding's package: same type,
namespace and name (case-insensitive), same version when the VEX purl has one; qualifiers
(``arch``, ``distro``, ...) are ignored, except that ``arch=source`` names the source package,
matched against the package's source name (and source version). Statements without a product
purl apply to nothing.

Pure and hostile-input safe: any malformed document raises ``UsageError`` (exit 2, one line
naming the file); sizes are bounded.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import msgspec

from hullscan.errors import UsageError
from hullscan.model.finding import Finding

MAX_VEX_BYTES = 256 * 1024 * 1024
MAX_TREE_DEPTH = 64
SUPPRESSING = frozenset({"not_affected", "fixed"})
_OPENVEX_STATUS = frozenset({"not_affected", "fixed", "affected", "under_investigation"})
_CDX_STATUS = {
    "not_affected": "not_affected",
    "false_positive": "not_affected",
    "resolved": "fixed",
    "resolved_with_pedigree": "fixed",
    "exploitable": "affected",
    "in_triage": "under_investigation",
}
_CSAF_STATUS = {
    "known_not_affected": "not_affected",
    "fixed": "fixed",
    "first_fixed": "fixed",
    "known_affected": "affected",
    "under_investigation": "under_investigation",
}
_ID_IN_TEXT = re.compile(r"(CVE-\d{4}-\d{4,}|GHSA(?:-[0-9a-z]{4}){3})", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Purl:
    type: str
    namespace: str
    name: str
    version: str | None
    qualifiers: tuple[tuple[str, str], ...] = ()

    def qualifier(self, key: str) -> str | None:
        return next((v for k, v in self.qualifiers if k == key), None)


def parse_purl(text: str) -> Purl | None:
    """A package URL's parts (percent-decoded, type/namespace/name lower-cased); None when the
    text is not a purl."""
    if not text.startswith("pkg:") or len(text) > 4096:
        return None
    body = text[4:].split("#", 1)[0]
    body, _, query = body.partition("?")
    version: str | None = None
    head, sep, ver = body.rpartition("@")
    if sep and "/" not in ver:
        body, version = head, unquote(ver)
    parts = [unquote(p) for p in body.strip("/").split("/")]
    if len(parts) < 2 or not parts[0] or not parts[-1]:
        return None
    quals = []
    for item in query.split("&") if query else ():
        k, _, v = item.partition("=")
        quals.append((k.lower(), unquote(v)))
    return Purl(
        type=parts[0].lower(),
        namespace="/".join(parts[1:-1]).lower(),
        name=parts[-1].lower(),
        version=version or None,
        qualifiers=tuple(quals),
    )


def normalize_id(text: str) -> str | None:
    """A vulnerability id as written, or extracted from a URL alias; upper-cased."""
    t = text.strip()
    if not t:
        return None
    if "://" in t or "/" in t:
        m = _ID_IN_TEXT.search(t)
        if m:
            return m.group(1).upper()
        tail = re.split(r"[/=]", t.rstrip("/"))[-1]
        tail = re.sub(r"\.html?$", "", tail)
        return tail.upper() or None
    return t.upper()


@dataclass(frozen=True, slots=True)
class VexStatement:
    """One (vulnerability, products, status) statement of a VEX document."""

    ids: frozenset[str]
    products: tuple[Purl, ...]
    status: str  # not_affected / fixed / affected / under_investigation
    file: str
    format: str  # openvex / cyclonedx / csaf
    justification: str | None = None
    detail: str | None = None

    @property
    def suppresses(self) -> bool:
        return self.status in SUPPRESSING

    def matches(self, finding: Finding) -> bool:
        if not self.ids & {i.upper() for i in (finding.id, *finding.aliases)}:
            return False
        return any(product_matches(p, finding) for p in self.products)

    def reason(self) -> str:
        parts = [f"VEX {self.status}"]
        if self.justification:
            parts.append(f"({self.justification})")
        text = " ".join(parts)
        if self.detail:
            text += f": {self.detail}"
        return f"{text} [{self.format} {self.file}]"


def product_matches(product: Purl, finding: Finding) -> bool:
    pkg = finding.package
    mine = parse_purl(pkg.purl)
    if mine is None or mine.type != product.type or mine.namespace != product.namespace:
        return False
    if product.qualifier("arch") == "source":
        name = (pkg.source_name or pkg.name).lower()
        version = pkg.source_version or pkg.version
    else:
        name, version = mine.name, mine.version or pkg.version
    if name != product.name:
        return False
    return product.version is None or product.version == version


# --------------------------------------------------------------------------- helpers


def _bad(file: str, what: str) -> UsageError:
    return UsageError(f"--vex {file}: {what}")


def _list(value: Any, file: str, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _bad(file, f"{what} must be a list")
    return value


def _dict(value: Any, file: str, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _bad(file, f"{what} must be an object")
    return value


def _str(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _ids(*texts: Any) -> frozenset[str]:
    out = set()
    for t in texts:
        if isinstance(t, str):
            n = normalize_id(t)
            if n:
                out.add(n)
    return frozenset(out)


def _purls(texts: Iterator[Any] | list[Any]) -> tuple[Purl, ...]:
    out = []
    for t in texts:
        p = parse_purl(t) if isinstance(t, str) else None
        if p is not None:
            out.append(p)
    return tuple(out)


# --------------------------------------------------------------------------- OpenVEX


def _openvex_products(items: list[Any], file: str, where: str) -> Iterator[Any]:
    for n, prod in enumerate(items, 1):
        if isinstance(prod, str):
            yield prod
            continue
        p = _dict(prod, file, f"{where} product {n}")
        yield p.get("@id")
        ident = p.get("identifiers")
        if isinstance(ident, dict):
            yield ident.get("purl")
        for sub in _list(p.get("subcomponents"), file, f"{where} product {n} subcomponents"):
            if isinstance(sub, dict):
                yield sub.get("@id")
                sid = sub.get("identifiers")
                if isinstance(sid, dict):
                    yield sid.get("purl")
            elif isinstance(sub, str):
                yield sub


def _openvex(doc: dict[str, Any], file: str) -> list[VexStatement]:
    out = []
    for n, raw in enumerate(_list(doc.get("statements"), file, "statements"), 1):
        where = f"statement {n}"
        st = _dict(raw, file, where)
        status = st.get("status")
        if status not in _OPENVEX_STATUS:
            raise _bad(file, f"{where}: unknown status {status!r}")
        vuln = st.get("vulnerability")
        if isinstance(vuln, str):
            ids = _ids(vuln)
        else:
            v = _dict(vuln, file, f"{where} vulnerability")
            aliases = _list(v.get("aliases"), file, f"{where} aliases")
            ids = _ids(v.get("name"), *aliases)
        if not ids:
            raise _bad(file, f"{where}: no vulnerability name")
        products = _purls(
            list(_openvex_products(_list(st.get("products"), file, where), file, where))
        )
        out.append(
            VexStatement(
                ids=ids,
                products=products,
                status=status,
                file=file,
                format="openvex",
                justification=_str(st.get("justification")),
                detail=_str(st.get("impact_statement")) or _str(st.get("status_notes")),
            )
        )
    return out


# --------------------------------------------------------------------------- CycloneDX


def _cyclonedx_refs(doc: dict[str, Any], file: str) -> dict[str, str]:
    """bom-ref -> purl of every component (nested components too)."""
    refs: dict[str, str] = {}
    stack: list[tuple[Any, int]] = [(doc.get("components"), 0)]
    meta = doc.get("metadata")
    if isinstance(meta, dict) and isinstance(meta.get("component"), dict):
        stack.append(([meta["component"]], 0))
    while stack:
        items, depth = stack.pop()
        if depth > MAX_TREE_DEPTH:
            raise _bad(file, f"components nested deeper than {MAX_TREE_DEPTH}")
        for c in _list(items, file, "components"):
            if not isinstance(c, dict):
                raise _bad(file, "components must be objects")
            ref, purl = c.get("bom-ref"), c.get("purl")
            if isinstance(ref, str) and isinstance(purl, str):
                refs[ref] = purl
            if c.get("components") is not None:
                stack.append((c.get("components"), depth + 1))
    return refs


def _cyclonedx(doc: dict[str, Any], file: str) -> list[VexStatement]:
    refs = _cyclonedx_refs(doc, file)
    out = []
    for n, raw in enumerate(_list(doc.get("vulnerabilities"), file, "vulnerabilities"), 1):
        where = f"vulnerability {n}"
        v = _dict(raw, file, where)
        analysis = v.get("analysis")
        if analysis is None:
            continue
        analysis = _dict(analysis, file, f"{where} analysis")
        state = analysis.get("state")
        if state is None:
            continue
        if state not in _CDX_STATUS:
            raise _bad(file, f"{where}: unknown analysis state {state!r}")
        refs_ids = [
            r.get("id")
            for r in _list(v.get("references"), file, f"{where} references")
            if isinstance(r, dict)
        ]
        ids = _ids(v.get("id"), *refs_ids)
        if not ids:
            raise _bad(file, f"{where}: no id")
        targets = []
        for a in _list(v.get("affects"), file, f"{where} affects"):
            ref = _dict(a, file, f"{where} affects").get("ref")
            if isinstance(ref, str):
                targets.append(refs.get(ref, ref))
        just = analysis.get("justification")
        out.append(
            VexStatement(
                ids=ids,
                products=_purls(targets),
                status=_CDX_STATUS[state],
                file=file,
                format="cyclonedx",
                justification=_str(just) or (state if state == "false_positive" else None),
                detail=_str(analysis.get("detail")),
            )
        )
    return out


# --------------------------------------------------------------------------- CSAF


def _csaf_products(tree: Any, file: str) -> dict[str, str]:
    """product_id -> purl, from the whole product tree."""
    if tree is None:
        return {}
    tree = _dict(tree, file, "product_tree")
    found: dict[str, str] = {}

    def take(prod: Any) -> None:
        if not isinstance(prod, dict):
            return
        pid = prod.get("product_id")
        helper = prod.get("product_identification_helper")
        if isinstance(pid, str) and isinstance(helper, dict):
            purl = helper.get("purl")
            if isinstance(purl, str):
                found[pid] = purl

    stack: list[tuple[Any, int]] = [(tree.get("branches"), 0)]
    while stack:
        items, depth = stack.pop()
        if depth > MAX_TREE_DEPTH:
            raise _bad(file, f"product_tree branches nested deeper than {MAX_TREE_DEPTH}")
        for b in _list(items, file, "product_tree branches"):
            if not isinstance(b, dict):
                raise _bad(file, "product_tree branches must be objects")
            take(b.get("product"))
            if b.get("branches") is not None:
                stack.append((b.get("branches"), depth + 1))
    for p in _list(tree.get("full_product_names"), file, "full_product_names"):
        take(p)
    for r in _list(tree.get("relationships"), file, "relationships"):
        if not isinstance(r, dict):
            raise _bad(file, "relationships must be objects")
        full = r.get("full_product_name")
        take(full)
        ref = r.get("product_reference")
        if isinstance(full, dict) and isinstance(full.get("product_id"), str):
            pid = full["product_id"]
            if pid not in found and isinstance(ref, str) and ref in found:
                found[pid] = found[ref]
    return found


def _csaf(doc: dict[str, Any], file: str) -> list[VexStatement]:
    products = _csaf_products(doc.get("product_tree"), file)
    out = []
    for n, raw in enumerate(_list(doc.get("vulnerabilities"), file, "vulnerabilities"), 1):
        where = f"vulnerability {n}"
        v = _dict(raw, file, where)
        other = [
            i.get("text") for i in _list(v.get("ids"), file, f"{where} ids") if isinstance(i, dict)
        ]
        ids = _ids(v.get("cve"), *other)
        if not ids:
            continue  # a vulnerability without an id cannot be matched
        status = v.get("product_status")
        if status is None:
            continue
        status = _dict(status, file, f"{where} product_status")
        flags: dict[str, str] = {}
        for f in _list(v.get("flags"), file, f"{where} flags"):
            if isinstance(f, dict) and isinstance(f.get("label"), str):
                for pid in _list(f.get("product_ids"), file, f"{where} flag product_ids"):
                    if isinstance(pid, str):
                        flags[pid] = f["label"]
        details: dict[str, str] = {}
        for t in _list(v.get("threats"), file, f"{where} threats"):
            if isinstance(t, dict) and t.get("category") == "impact":
                text = _str(t.get("details"))
                for pid in _list(t.get("product_ids"), file, f"{where} threat product_ids"):
                    if isinstance(pid, str) and text:
                        details[pid] = text
        for key, mapped in _CSAF_STATUS.items():
            pids = _list(status.get(key), file, f"{where} product_status {key}")
            # one statement per (justification, detail) so the reason stays per product
            grouped: dict[tuple[str | None, str | None], list[str]] = {}
            for pid in pids:
                if isinstance(pid, str) and pid in products:
                    grouped.setdefault((flags.get(pid), details.get(pid)), []).append(products[pid])
            for (just, detail), purls in grouped.items():
                out.append(
                    VexStatement(
                        ids=ids,
                        products=_purls(purls),
                        status=mapped,
                        file=file,
                        format="csaf",
                        justification=just,
                        detail=detail,
                    )
                )
    return out


# --------------------------------------------------------------------------- entry points


def parse_vex(data: bytes | str, file: str = "vex") -> tuple[VexStatement, ...]:
    """Every statement of one VEX document (format detected); ``UsageError`` when malformed."""
    if len(data) > MAX_VEX_BYTES:
        raise _bad(file, f"larger than {MAX_VEX_BYTES} bytes")
    try:
        doc = msgspec.json.decode(data)
    except (msgspec.DecodeError, RecursionError, ValueError) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else "invalid"
        raise _bad(file, f"not valid JSON ({msg})") from None
    if not isinstance(doc, dict):
        raise _bad(file, "not a VEX document (expected a JSON object)")
    context = doc.get("@context")
    if (isinstance(context, str) and "openvex" in context) or (
        "statements" in doc and "@context" in doc
    ):
        return tuple(_openvex(doc, file))
    if doc.get("bomFormat") == "CycloneDX":
        return tuple(_cyclonedx(doc, file))
    document = doc.get("document")
    if isinstance(document, dict) and "csaf_version" in document:
        return tuple(_csaf(doc, file))
    raise _bad(file, "not a VEX document (OpenVEX, CycloneDX VEX or CSAF VEX JSON)")


def load_vex(path: Path) -> tuple[VexStatement, ...]:
    try:
        with path.open("rb") as f:
            data = f.read(MAX_VEX_BYTES + 1)
    except OSError as exc:
        raise _bad(str(path), exc.strerror or str(exc)) from None
    return parse_vex(data, str(path))


def vex_for(finding: Finding, statements: tuple[VexStatement, ...]) -> VexStatement | None:
    """The first suppressing statement that applies to the finding."""
    for st in statements:
        if st.suppresses and st.matches(finding):
            return st
    return None
