"""``xproj report``: the HTML report of a run, its numbers against the lake, escaping, and the page
itself in headless Chromium (Debian's ``chromium``; the browser tests skip with a message when
none is found, ``.ci/run`` installs it so CI always runs them)."""

from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import REPO
from xproj.catalog import Lake, query
from xproj.flows.config import ProjectParallelConfig

SAMPLES = REPO / "data" / "samples" / "ner"
XSS = "<script>alert(1)</script>"
pytestmark = pytest.mark.slow

# one more sentence pair whose entity is a dataset string that looks like markup
EXTRA_SRC = f"The\tO\n{XSS}\tB-MISC\nfile\tO\nwas\tO\nsigned\tO\nby\tO\nAnna\tB-PER\n.\tO\n"
EXTRA_TGT = f"Die\tO\n{XSS}\tB-MISC\nDatei\tO\nunterschrieb\tO\nAnna\tB-PER\n.\tO\n"


def _with_extra(path: Path, extra: str, out: Path) -> Path:
    out.write_text(path.read_text(encoding="utf-8").rstrip("\n") + "\n\n" + extra, "utf-8")
    return out


def _sentences(path: Path) -> list[list[tuple[str, str]]]:
    blocks = path.read_text(encoding="utf-8").strip().split("\n\n")
    return [[tuple(line.split("\t")) for line in b.splitlines()] for b in blocks]


def _links(src: Path, tgt: Path, out: Path) -> Path:
    """Given links (Pharaoh, one line per pair): the diagonal, except that the PER tokens of
    every other pair are left unaligned, so the run surely drops spans (``no_alignment``)."""
    lines = []
    for k, (s, t) in enumerate(zip(_sentences(src), _sentences(tgt), strict=True)):
        links = [
            f"{i}-{i}"
            for i in range(min(len(s), len(t)))
            if not (k % 2 and s[i][1].endswith("-PER"))
        ]
        lines.append(" ".join(links))
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def ner_run(tmp_path_factory) -> tuple[Lake, str, Path]:
    """A committed projection run (en→de) of the shipped sample plus a sentence whose entity is
    ``<script>alert(1)</script>``, aligned by given links (deterministic: every other pair loses
    its PER spans); the report the flow wrote."""
    from xproj.flows.project_parallel import project_parallel

    root = tmp_path_factory.mktemp("report")
    src = _with_extra(SAMPLES / "sample.en.conll", EXTRA_SRC, root / "en.conll")
    tgt = _with_extra(SAMPLES / "sample.de.conll", EXTRA_TGT, root / "de.conll")
    config = ProjectParallelConfig(
        name="sample-en-de",
        source={"path": str(src), "lang": "en"},
        target={"path": str(tgt), "lang": "de"},
        aligner="given.v1",
        aligner_options={"path": str(_links(src, tgt, root / "links.txt"))},
        policy={"anchor_identical": False},  # names spelled alike stay unaligned too
        lake=str(root / "lake"),
    )
    summary = project_parallel.fn(config)
    lake = Lake(config.lake)
    path = lake.root / "_reports" / f"{summary.run_id}.html"
    assert any(str(path) in note for note in summary.notes)  # the flow wrote and named it
    return lake, summary.run_id, path


def _count(lake: Lake, run_id: str, sql: str) -> list[dict]:
    return query(lake, sql.replace("RUN", f"'{run_id}'")).to_pylist()


# -- the file -------------------------------------------------------------------------------


def test_report_rates_and_reasons_are_the_lakes(ner_run):
    from xproj.report import load_report_data

    lake, run_id, _ = ner_run
    data = load_report_data(lake, run_id[:8])  # a prefix is enough
    assert data.run.run_id == run_id
    by_label = _count(
        lake, run_id,
        "SELECT label, count(*) AS total, count(*) FILTER (WHERE reason IS NULL) AS kept "
        "FROM outcomes WHERE run_id = RUN GROUP BY label ORDER BY label",
    )  # fmt: skip
    assert [(r.name, r.kept, r.total) for r in data.by_label] == [
        (r["label"], r["kept"], r["total"]) for r in by_label
    ]
    reasons = _count(
        lake, run_id,
        "SELECT reason, count(*) AS n FROM outcomes WHERE run_id = RUN AND reason IS NOT NULL "
        "GROUP BY reason",
    )  # fmt: skip
    assert data.reasons == {r["reason"]: r["n"] for r in reasons}
    pairs = _count(lake, run_id, "SELECT count(*) AS n FROM projected WHERE run_id = RUN")[0]["n"]
    assert data.total_examples == pairs == 37
    assert len(data.examples) == pairs  # fewer than the sample size: all of them
    for reason, worst in data.worst.items():
        assert worst and all(reason in ex.reasons for ex in worst)


def test_report_file_is_self_contained_and_escapes_dataset_text(ner_run):
    _, _, path = ner_run
    page = path.read_text(encoding="utf-8")
    assert page.count("<script") == 1  # the report's own script, and nothing from the data
    assert XSS not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    # nothing is fetched: no external src/href, no @import, no url() to the network
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "@import" not in page and not re.search(r"url\(\s*['\"]?https?:", page)


def test_report_cli_writes_the_file_and_refuses_an_unknown_run(ner_run, tmp_path):
    """``python -m xproj.cli report``: the exit code and messages a user sees."""
    import subprocess
    import sys

    lake, run_id, _ = ner_run
    out = tmp_path / "r.html"

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "xproj.cli", "report", *args,
                               "--lake", str(lake.root)], capture_output=True, text=True)  # fmt: skip

    done = cli(run_id[:8], "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert str(out) in done.stdout
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    bad = cli("deadbeef")
    assert bad.returncode != 0 and not bad.stdout
    assert "XP402" in bad.stderr and run_id[:8] in bad.stderr  # names the runs there are


def test_report_of_a_paxqa_run_marks_question_and_answer_in_both_contexts(
    tmp_path, tiny_mt_models, tiny_qg_model
):
    from tests.test_flows_paxqa import _bitext, _config
    from xproj.flows.paxqa import paxqa
    from xproj.report import load_report_data, render_report

    cfg = _config(tmp_path, tiny_mt_models, tiny_qg_model, {"path": str(_bitext(tmp_path))})
    run_id = paxqa.fn(cfg).run_id
    data = load_report_data(Lake(cfg.lake), run_id)
    kept = _count(Lake(cfg.lake), run_id, "SELECT count(*) AS n FROM paxqa WHERE run_id = RUN")
    assert data.kind == "qa" and len(data.examples) == min(kept[0]["n"], 60) > 0
    kinds = _count(Lake(cfg.lake), run_id, "SELECT answer_kind, count(*) AS n FROM paxqa "
                   "WHERE run_id = RUN GROUP BY ALL")  # fmt: skip
    assert data.counts == {r["answer_kind"]: r["n"] for r in kinds}
    langs = _count(
        Lake(cfg.lake), run_id,
        "SELECT language, sum(k) AS kept, count(*) AS total FROM (SELECT language, 1 AS k FROM "
        "paxqa WHERE run_id = RUN UNION ALL SELECT language, 0 FROM paxqa_dropped WHERE "
        "run_id = RUN) GROUP BY language ORDER BY language",
    )  # fmt: skip
    assert [(r.name, r.kept, r.total) for r in data.by_lang] == [
        (r["language"], r["kept"], r["total"]) for r in langs
    ]
    page = render_report(data)
    articles = page.split('<article class="ex qa"')[1:]
    assert len(articles) == len(data.examples)
    for article in articles:
        assert article.count('class="ent c1 question"') == 2  # the question, in both languages
        assert article.count('class="ent c0 ans"') >= 2  # the answer, in both contexts


def test_report_of_an_entitycs_run_marks_the_switched_entities(tmp_path):
    from tests.entitycs_samples import small_entitycs_config
    from xproj.flows.entitycs import entitycs
    from xproj.io.exports.entitycs import strip_tags
    from xproj.report import load_report_data, render_report

    config = small_entitycs_config(tmp_path)
    run_id = entitycs.fn(config).run_id
    data = load_report_data(Lake(config.lake), run_id)
    rows = _count(Lake(config.lake), run_id, "SELECT * FROM entitycs_cs WHERE run_id = RUN")
    assert data.kind == "cs" and data.total_examples == len(rows) > 0
    english = _count(Lake(config.lake), run_id, "SELECT count(*) AS n FROM entitycs_en "
                     "WHERE run_id = RUN")[0]["n"]  # fmt: skip
    dropped = _count(Lake(config.lake), run_id, "SELECT count(*) AS n FROM entitycs_dropped "
                     "WHERE run_id = RUN")[0]["n"]  # fmt: skip
    assert [(r.kept, r.total) for r in data.by_lang] == [(english, english + dropped)]
    assert data.counts == dict(sorted(Counter(r["language"] for r in rows).items()))
    page = render_report(data)
    by_key = {f"{r['id']}@{r['language']}": r for r in rows}
    for ex in data.examples:
        text, spans = strip_tags(by_key[ex.key]["cs_sentence"])
        assert ex.payload["cs"] == text
        assert [(s.start, s.end) for s in spans] == [(a, b) for a, b, _ in ex.payload["cs_spans"]]
    assert page.count('<article class="ex cs"') == len(data.examples)


# -- in a browser ---------------------------------------------------------------------------


def _browser() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip(
        "no Chromium found (install Debian's chromium: apt-get install chromium; .ci/run does)"
    )


@pytest.fixture(scope="module")
def page_of(ner_run):
    """Open a report in headless Chromium; collect console errors and page errors."""
    executable = _browser()
    playwright = pytest.importorskip(
        "playwright.sync_api", reason="the browser test drives Chromium with playwright (dev extra)"
    )
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        pages = []

        def open_page(path: Path):
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            problems: list[str] = []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda err: problems.append(str(err)))
            page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
            page.goto(path.resolve().as_uri())
            page.wait_for_load_state("load")
            pages.append(page)
            return page, problems

        yield open_page
        browser.close()


def test_report_in_chromium(ner_run, page_of, tmp_path):
    lake, run_id, path = ner_run
    page, problems = page_of(path)
    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # one row per sampled pair (all 37 of the run), and the counter says so
    pairs = _count(lake, run_id, "SELECT count(*) AS n FROM projected WHERE run_id = RUN")[0]["n"]
    assert page.locator("#sample article.ex").count() == pairs
    assert page.locator("#shown").inner_text() == str(pairs)

    # a source span and its projection share a colour (and it is a colour)
    kept = _count(
        lake, run_id,
        "SELECT pair_id, span_index FROM outcomes WHERE run_id = RUN AND reason IS NULL "
        "ORDER BY pair_id, span_index LIMIT 1",
    )[0]  # fmt: skip
    colours = page.evaluate(
        """([key, span]) => {
            const ex = [...document.querySelectorAll('#sample article.ex')]
                .find(e => e.querySelector('.key').textContent === key);
            const get = side => getComputedStyle(
                ex.querySelector(`.${side} mark[data-span="${span}"]`)).backgroundColor;
            return [get('src'), get('tgt')];
        }""",
        [kept["pair_id"], kept["span_index"]],
    )
    assert colours[0] == colours[1] and colours[0] not in ("rgba(0, 0, 0, 0)", "transparent")
    # the alignment is drawn: as many lines as links in that pair
    links = page.evaluate(
        """(key) => {
            const ex = [...document.querySelectorAll('#sample article.ex')]
                .find(e => e.querySelector('.key').textContent === key);
            return [ex.querySelectorAll('svg.links line').length,
                    ex.querySelector('.pair').dataset.links.split(' ').length];
        }""",
        kept["pair_id"],
    )
    assert links[0] == links[1] > 0

    # a filter changes the visible rows: label PER shows the pairs with a PER span
    per = _count(
        lake, run_id,
        "SELECT count(DISTINCT pair_id) AS n FROM outcomes WHERE run_id = RUN AND label = 'PER'",
    )[0]["n"]  # fmt: skip
    assert 0 < per < pairs
    page.select_option("#filter-label", "PER")
    assert page.locator("#sample article.ex:visible").count() == per
    assert page.locator("#shown").inner_text() == str(per)
    page.select_option("#filter-label", "")
    assert page.locator("#sample article.ex:visible").count() == pairs

    # the dataset's <script> is text on the page, never run
    token = page.locator("#sample .src .t", has_text="alert(1)").first
    assert token.inner_text() == XSS
    assert problems == []


def test_report_screenshot_of_the_europarl_demo_run_is_current():
    """docs/report.png is what the README shows: it exists and is a real screenshot."""
    shot = REPO / "docs" / "report.png"
    assert shot.exists(), "make it with scripts/report_screenshot.sh (see the README)"
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "docs/report.png" in readme


def test_report_reason_filter_and_worst_cases_in_chromium(ner_run, page_of):
    """Choosing a drop reason keeps only the pairs that lost a span for it, and its section of
    worst cases (each with the reason explained)."""
    lake, run_id, path = ner_run
    page, problems = page_of(path)
    reasons = Counter(
        r["reason"]
        for r in _count(
            lake, run_id, "SELECT reason FROM outcomes WHERE run_id = RUN AND reason IS NOT NULL"
        )
    )
    assert reasons["no_alignment"] > 0  # the given links leave PER spans unaligned
    reason = "no_alignment"
    lost = _count(
        lake, run_id,
        f"SELECT count(DISTINCT pair_id) AS n FROM outcomes WHERE run_id = RUN "
        f"AND reason = '{reason}'",
    )[0]["n"]  # fmt: skip
    page.select_option("#filter-reason", reason)
    assert page.locator("#sample article.ex:visible").count() == lost
    visible = page.locator("section.worst:visible")
    assert visible.count() == 1
    assert visible.first.get_attribute("data-reason") == reason
    assert visible.first.locator("p.why").inner_text().strip()
    assert problems == []


def test_report_hover_lights_the_aligned_words(ner_run, page_of):
    """Hovering a word lights its links and the words at their other ends, from either side."""
    lake, run_id, path = ner_run
    page, problems = page_of(path)
    pair = page.locator("#sample div.pair").first
    links = [tuple(map(int, x.split(","))) for x in pair.get_attribute("data-links").split()]
    i, j = links[0]
    pair.locator(f'.src .t[data-s="{i}"]').hover()
    lit = pair.locator(".tgt .t.on")
    assert lit.count() == sum(1 for s, _ in links if s == i)
    assert f'data-t="{j}"' in lit.first.evaluate("e => e.outerHTML")
    assert pair.locator("svg.links line.on").count() == lit.count()
    pair.locator(f'.tgt .t[data-t="{j}"]').hover()
    assert pair.locator(f'.src .t.on[data-s="{i}"]').count() == 1
    assert problems == []


def test_report_page_allows_only_its_own_script(ner_run):
    """The Content-Security-Policy names the hash of the page's one script: markup that slipped
    through could run nothing."""
    import base64
    import hashlib

    _, _, path = ner_run
    page = path.read_text(encoding="utf-8")
    script = page.split("<script>", 1)[1].split("</script>", 1)[0]
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in page
    assert "script-src 'unsafe-inline'" not in page
    markup = re.sub(r"<script>.*</script>", "", page, flags=re.S)
    assert not re.search(r"<[^>]*\son[a-z]+\s*=", markup)  # no inline event handlers


def test_report_into_a_folder_and_not_written_when_off(ner_run, tmp_path):
    from xproj.flows.project_parallel import project_parallel
    from xproj.report import write_report

    lake, run_id, _ = ner_run
    assert write_report(lake, run_id, tmp_path) == tmp_path / f"{run_id}.html"
    config = ProjectParallelConfig(
        source={"path": str(SAMPLES / "sample.en.conll"), "lang": "en"},
        target={"path": str(SAMPLES / "sample.es.conll"), "lang": "es"},
        lake=str(tmp_path / "lake"),
        report=False,
    )
    summary = project_parallel.fn(config)
    assert not (tmp_path / "lake" / "_reports").exists()
    assert not any("report" in note for note in summary.notes)


def test_report_is_a_prefect_artifact_of_the_flow_run(tmp_path):
    """Under Prefect, the flow run's artifacts link the report, and the summary names it."""
    from prefect.client.orchestration import get_client

    from xproj.flows.project_parallel import project_parallel

    config = ProjectParallelConfig(
        source={"path": str(SAMPLES / "sample.en.conll"), "lang": "en"},
        target={"path": str(SAMPLES / "sample.fr.conll"), "lang": "fr"},
        lake=str(tmp_path / "lake"),
    )
    summary = project_parallel(config)
    path = tmp_path / "lake" / "_reports" / f"{summary.run_id}.html"
    assert path.exists()
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts()
    links = [a.data for a in artifacts if a.key == "project-parallel-report"]
    assert any(path.resolve().as_uri() in link for link in links), links
    summaries = [a.data for a in artifacts if a.key == "project-parallel-summary"]
    assert any(str(path) in text for text in summaries)
