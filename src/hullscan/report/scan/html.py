"""A self-contained HTML report for scan results (``html``).

One file, no external assets (inline CSS and JS, no fonts, images or network requests): a
summary header (image, digest, counts per severity, fixable count, warnings) and one table
row per finding with severity, id (linked to the advisory), package, installed and fixed
version, fix state and layer. The table sorts by any column (click its header) and filters by
free text and by severity; the state is kept in the URL fragment, so a link like
``report.html#filter=openssl&severity=critical`` opens filtered. Without JS the full table is
still there. Every interpolated string is HTML-escaped; the JS only reads ``data-*``
attributes and never builds markup from report text.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import IO, ClassVar

from hullscan._version import __version__
from hullscan.model.finding import Finding, ScanResult
from hullscan.report.scan.markdown import severity_sorted
from hullscan.report.scan.sarif import (
    RATINGS,
    advisory_url,
    finding_references,
    finding_score,
    image_digest,
    rating_rank,
)

_CSS = """
:root{--crit:#7b1fa2;--high:#c62828;--med:#ef6c00;--low:#f9a825;--neg:#78909c;--unk:#424242}
body{font:14px/1.4 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1a1a1a;
background:#f6f7f9}
header{background:#1f2937;color:#fff;padding:16px 24px}
header h1{font-size:20px;margin:0 0 4px}
header .meta{font-family:ui-monospace,monospace;font-size:12px;opacity:.85;word-break:break-all}
.counts{display:flex;gap:8px;flex-wrap:wrap;margin-top:12px}
.count{padding:6px 12px;border-radius:6px;color:#fff;font-weight:600}
.sev-critical{background:var(--crit)}.sev-high{background:var(--high)}
.sev-medium{background:var(--med)}.sev-low{background:var(--low);color:#222}
.sev-negligible{background:var(--neg)}.sev-unknown{background:var(--unk)}
main{padding:16px 24px}
.controls{display:flex;gap:12px;align-items:center;margin-bottom:12px}
.controls input{padding:6px 8px;min-width:280px;border:1px solid #bbb;border-radius:4px}
.controls select{padding:6px;border:1px solid #bbb;border-radius:4px}
table{border-collapse:collapse;width:100%;background:#fff;box-shadow:0 1px 2px #0002}
th,td{padding:6px 10px;border-bottom:1px solid #e5e7eb;text-align:left;vertical-align:top}
th{background:#eef0f3;cursor:pointer;user-select:none;white-space:nowrap}
th[aria-sort=ascending]::after{content:" \\25B2"}th[aria-sort=descending]::after{content:" \\25BC"}
td.ver{font-family:ui-monospace,monospace;font-size:12px}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-size:12px}
.kev{background:#000;color:#ff0;border-radius:3px;padding:0 4px;font-size:11px;margin-left:4px}
.warnings{background:#fff8e1;border:1px solid #ffe082;padding:8px 12px;margin-bottom:12px}
tr[hidden]{display:none}
.empty{padding:24px;text-align:center;color:#555}
"""

_JS = """
(function(){
  var table=document.getElementById('findings');
  if(!table){return;}
  var tbody=table.tBodies[0];
  var rows=Array.prototype.slice.call(tbody.rows);
  var text=document.getElementById('filter');
  var sev=document.getElementById('severity');
  var shown=document.getElementById('shown');
  var sortKey=null, sortDir=1;
  function apply(){
    var q=text.value.trim().toLowerCase(), s=sev.value, n=0;
    rows.forEach(function(r){
      var ok=(!q||r.getAttribute('data-search').indexOf(q)>=0)&&
             (!s||r.getAttribute('data-severity')===s);
      if(ok){r.removeAttribute('hidden');n++;}else{r.setAttribute('hidden','');}
    });
    shown.textContent=String(n);
    table.setAttribute('data-visible',String(n));
    var h=[];
    if(q){h.push('filter='+encodeURIComponent(q));}
    if(s){h.push('severity='+encodeURIComponent(s));}
    if(sortKey){h.push('sort='+encodeURIComponent(sortKey)+(sortDir<0?'-desc':''));}
    var frag=h.join('&');
    if(('#'+frag)!==location.hash&&!(frag===''&&location.hash==='')){
      history.replaceState(null,'',frag?'#'+frag:location.pathname+location.search);
    }
  }
  function sortBy(key,dir){
    var th=table.querySelector('th[data-key="'+key+'"]');
    if(!th){return;}
    sortKey=key;sortDir=dir;
    var numeric=th.getAttribute('data-type')==='num';
    table.querySelectorAll('th').forEach(function(x){x.removeAttribute('aria-sort');});
    th.setAttribute('aria-sort',dir>0?'ascending':'descending');
    rows.sort(function(a,b){
      var x=a.getAttribute('data-'+key), y=b.getAttribute('data-'+key);
      var c=numeric?(parseFloat(x)-parseFloat(y)):(x<y?-1:(x>y?1:0));
      if(c===0){c=parseInt(a.getAttribute('data-order'),10)-parseInt(b.getAttribute('data-order'),10);}
      return c*dir;
    });
    rows.forEach(function(r){tbody.appendChild(r);});
  }
  table.querySelectorAll('th[data-key]').forEach(function(th){
    th.addEventListener('click',function(){
      var k=th.getAttribute('data-key');
      sortBy(k,sortKey===k?-sortDir:1);apply();
    });
  });
  text.addEventListener('input',apply);
  sev.addEventListener('change',apply);
  var params={};
  location.hash.replace(/^#/,'').split('&').forEach(function(p){
    var i=p.indexOf('=');
    if(i>0){try{params[p.slice(0,i)]=decodeURIComponent(p.slice(i+1));}catch(e){}}
  });
  if(params.filter){text.value=params.filter;}
  if(params.severity){sev.value=params.severity;}
  if(params.sort){
    var d=/-desc$/.test(params.sort);
    sortBy(params.sort.replace(/-desc$/,''),d?-1:1);
  }
  apply();
})();
"""

_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("severity", "Severity", "num"),
    ("id", "Vulnerability", "text"),
    ("package", "Package", "text"),
    ("installed", "Installed", "text"),
    ("fixed", "Fixed in", "text"),
    ("fix", "Fix state", "text"),
    ("layer", "Layer", "num"),
)


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _row(f: Finding, order: int) -> str:
    p = f.package
    rank = rating_rank(f.severity_rating)
    score = finding_score(f)
    layer = "" if p.layer_index is None else str(p.layer_index)
    search = " ".join(
        (f.id, *f.aliases, p.name, p.version, p.source_name or "", f.fix_state, f.severity_rating)
    ).lower()
    attrs = {
        "data-order": str(order),
        "data-severity": f.severity_rating,
        "data-id": f.id,
        "data-package": p.name.lower(),
        "data-installed": p.version,
        "data-fixed": f.fixed_version or "",
        "data-fix": f.fix_state,
        # sort key for severity: rank, then score (most severe first when ascending)
        "data-severity-key": f"{rank * 100 - (score or 0.0) * 10:.0f}",
        "data-layer": layer if layer else "-1",
        "data-search": search,
    }
    url = advisory_url(f.id, finding_references(f))
    kev = '<span class="kev" title="CISA Known Exploited">KEV</span>' if f.kev else ""
    score_text = f" {score:.1f}" if score is not None else ""
    aliases = f"<br><small>{_e(', '.join(f.aliases))}</small>" if f.aliases else ""
    summary = f"<br><small>{_e(f.summary[:300])}</small>" if f.summary else ""
    layer_cell = _e(layer) if layer else "—"
    if p.created_by:
        layer_cell = f'<span title="{_e(p.created_by[:300])}">{layer_cell}</span>'
    cells = (
        f'<td><span class="badge sev-{_e(f.severity_rating)}">{_e(f.severity_rating)}'
        f"{_e(score_text)}</span>{kev}</td>",
        f'<td><a href="{_e(url)}" rel="noopener noreferrer">{_e(f.id)}</a>{aliases}{summary}</td>',
        f"<td>{_e(p.name)}<br><small>{_e(p.type)}</small></td>",
        f'<td class="ver">{_e(p.version)}</td>',
        f'<td class="ver">{_e(f.fixed_version or "—")}</td>',
        f"<td>{_e(f.fix_state)}</td>",
        f"<td>{layer_cell}</td>",
    )
    attr_text = " ".join(f'{k}="{_e(v)}"' for k, v in attrs.items())
    return f"<tr {attr_text}>{''.join(cells)}</tr>"


def _summary(result: ScanResult, findings: Sequence[Finding]) -> str:
    t = result.target
    digest = image_digest(t)
    counts = dict.fromkeys(RATINGS, 0)
    for f in findings:
        counts[f.severity_rating if f.severity_rating in counts else "unknown"] += 1
    fixable = sum(1 for f in findings if f.fix_state == "fixed")
    meta = [f"digest {digest}"] if digest else []
    if result.namespace:
        meta.append(f"data namespace {result.namespace}")
    if result.db_built_at:
        meta.append(f"DB built {result.db_built_at}")
    meta.append(f"hullscan {__version__}")
    count_html = "".join(
        f'<span class="count sev-{r}" data-count="{r}">{r}: {counts[r]}</span>' for r in RATINGS
    )
    packages = len({f.package.id for f in findings})
    return (
        f"<header><h1>{_e(t.name)}</h1>"
        f'<div class="meta">{_e(" · ".join(meta))}</div>'
        f'<p id="totals">{len(findings)} vulnerabilities in {packages} packages, '
        f"{fixable} with a fix available</p>"
        f'<div class="counts">{count_html}</div></header>'
    )


def render_html(result: ScanResult) -> str:
    findings = severity_sorted(result.findings)
    title = f"hullscan: {result.target.name}"
    warnings = ""
    if result.warnings:
        items = "".join(f"<li>{_e(w)}</li>" for w in result.warnings)
        warnings = f'<div class="warnings"><strong>Warnings</strong><ul>{items}</ul></div>'
    options = "".join(f'<option value="{r}">{r}</option>' for r in RATINGS)
    heads = "".join(
        f'<th data-key="{"severity-key" if key == "severity" else key}" data-type="{kind}"'
        f' scope="col">{label}</th>'
        for key, label, kind in _COLUMNS
    )
    rows = "\n".join(_row(f, n) for n, f in enumerate(findings))
    body = (
        f'<table id="findings" data-total="{len(findings)}"><thead><tr>{heads}</tr></thead>'
        f"<tbody>\n{rows}\n</tbody></table>"
        if findings
        else '<div class="empty" id="no-findings">No vulnerabilities found.</div>'
    )
    controls = (
        '<div class="controls"><label>Filter <input id="filter" type="search" '
        'placeholder="id, package, version, fix state…" autocomplete="off"></label>'
        '<label>Severity <select id="severity"><option value="">all</option>'
        f"{options}</select></label>"
        f'<span><span id="shown">{len(findings)}</span> of {len(findings)} shown</span></div>'
        if findings
        else ""
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'\">"
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>"
        f"{_summary(result, findings)}<main>{warnings}{controls}{body}</main>"
        f"<script>{_JS}</script></body></html>\n"
    )


class HtmlWriter:
    """``html``: one self-contained, sortable and filterable HTML page."""

    id: ClassVar[str] = "html"
    aliases: ClassVar[tuple[str, ...]] = ()
    media_type: ClassVar[str] = "text/html"

    def write_scan(self, result: ScanResult, stream: IO[str]) -> None:
        stream.write(render_html(result))
