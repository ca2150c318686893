"""Demo-data generator: determinism, volumes, Maven coherence, encodings and defect rates.

Files are checked against the contracts/presets YAML with a small independent validator, so a
header or format drift between generator and contracts fails here, not in the loader.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
import subprocess
import sys
import unicodedata
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from openpyxl import load_workbook

from ingestion.demo import CHANNELS, generate
from ingestion.demo import config as C
from ingestion.demo.defects import BAD_ACTIVITY_TYPES, BAD_DATES, BAD_SCORES

ROOT = Path(__file__).resolve().parents[2]
SHARED_MAVEN = Path("/work/shared/datasets/maven_crm")
MAVEN_FILES = ("accounts.csv", "products.csv", "sales_teams.csv", "sales_pipeline.csv")
LEAD_CHANNELS = ("web_forms", "marketing_events", "referrals", "ad_leads")
SCALE, SEED = 0.1, 7
PERIOD = (C.PERIOD_START, C.PERIOD_END)


# ---------------------------------------------------------------- runs (shared per module)

@pytest.fixture(scope="module")
def maven_dir(tmp_path_factory) -> Path:
    """The shared Maven export when present, else a synthesised one (no skip either way)."""
    if SHARED_MAVEN.is_dir():
        return SHARED_MAVEN
    out = tmp_path_factory.mktemp("maven_src")
    generate(out, scale=1.0, seed=1)
    return out / "crm_export"


@pytest.fixture(scope="module")
def runs(tmp_path_factory, maven_dir):
    base = tmp_path_factory.mktemp("demo")
    out = {}
    for name, scale, seed, mdir in (("maven", SCALE, SEED, maven_dir),
                                    ("maven_again", SCALE, SEED, maven_dir),
                                    ("maven_half", SCALE / 2, SEED, maven_dir),
                                    ("synthetic", SCALE, SEED, None),
                                    ("synthetic_again", SCALE, SEED, None),
                                    ("other_seed", SCALE, SEED + 1, None)):
        out[name] = (base / name, generate(base / name, scale=scale, seed=seed,
                                           maven_dir=mdir))
    return out


@pytest.fixture(scope="module")
def contracts():
    load = lambda p: yaml.safe_load(p.read_text(encoding="utf-8"))  # noqa: E731
    return ({p.stem: load(p) for p in (ROOT / "ingestion/contracts").glob("*.yml")},
            {p.stem: load(p) for p in (ROOT / "ingestion/presets").glob("*.yml")})


# ---------------------------------------------------------------- reading and validating

def decode(path: Path) -> str:
    raw = path.read_bytes()
    if raw.startswith(b"\xff\xfe"):
        return raw[2:].decode("utf-16-le")
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("gb18030")


def read_rows(path: Path) -> tuple[list[str], list[dict]]:
    """Header and rows (str/number/date/bool values, None for empty) of any demo file."""
    if path.suffix == ".jsonl":
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        return sorted({k for r in rows for k in r}), rows
    if path.suffix == ".xlsx":
        ws = load_workbook(path, read_only=True).worksheets[0]
        it = ws.iter_rows(values_only=True)
        header = list(next(it))
        return header, [dict(zip(header, r, strict=True)) for r in it]
    text = decode(path)
    reader = csv.reader(io.StringIO(text, newline=""),
                        delimiter="\t" if path.suffix == ".tsv" else ",")
    header = next(reader)
    return header, [{h: (v if v != "" else None) for h, v in zip(header, r, strict=True)}
                    for r in reader]


def all_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def spec_for(path: Path, channel: str, contracts) -> tuple[dict, dict[str, str]]:
    """(entity spec, header -> canonical) for a file, via contract aliases or a CRM preset."""
    cons, presets = contracts
    entities = {e["entity"]: e for e in cons[channel]["entities"]}
    if channel == "crm_export":
        preset, entity = {
            "accounts.csv": ("maven", "accounts"), "products.csv": ("maven", "products"),
            "sales_teams.csv": ("maven", "sales_reps"),
            "sales_pipeline.csv": ("maven", "opportunities"),
        }.get(path.name) or (("salesforce", "leads") if "salesforce" in path.name
                             else ("hubspot", "contacts"))
        mapping = {h: k for k, v in presets[preset]["entities"][entity].items()
                   for h in ([v] if isinstance(v, str) else v)}
        return entities[entity], mapping
    (entity,) = entities.values()
    mapping = {}
    for col in entity["columns"]:
        for name in (col["name"], *col.get("aliases", ())):
            mapping[name] = col["name"]
    return entity, mapping


DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%d.%m.%Y", "%Y年%m月%d日", "%Y-%m-%d %H:%M:%S",
                "%Y-%m-%d %H:%M", "%m/%d/%Y %H:%M", "%d.%m.%Y %H:%M", "%Y/%m/%d %H:%M", "iso")
BOOLEANS = {True, False, "true", "false", "yes", "no", "Yes", "No", "是", "否"}


def parse_date(value, fmt: str) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        if fmt == "iso":
            return dt.datetime.fromisoformat(value).date()
        return dt.datetime.strptime(value, fmt).date()
    except (TypeError, ValueError):
        return None


def date_format(values: list) -> str:
    """The one format the column is written in (the one most values parse with)."""
    texts = [v for v in values if isinstance(v, str)]
    return max(DATE_FORMATS, key=lambda f: sum(parse_date(v, f) is not None for v in texts))


def parse_amount(value) -> Decimal | None:
    if isinstance(value, int | float):
        return Decimal(str(value))
    s = re.sub(r"[^\d,.\-]", "", value)
    if not re.search(r"\d", s):
        return None
    s = s.replace(".", "").replace(",", ".") if re.search(r",\d{2}$", s) else s.replace(",", "")
    return Decimal(s)


def value_ok(col: dict, v, fmt: str | None) -> bool:
    kind = col["type"]
    if kind in ("date", "timestamp"):
        ok = parse_date(v, fmt) is not None
    elif kind == "integer":
        text = str(v).removesuffix(".0")
        ok = re.fullmatch(r"-?\d+", text) is not None and \
            col.get("min", -1e18) <= int(text) <= col.get("max", 1e18)
    elif kind == "numeric":
        ok = re.fullmatch(r"-?\d+(\.\d+)?", str(v)) is not None
    elif kind == "amount":
        ok = parse_amount(v) is not None
    elif kind == "boolean":
        ok = v in BOOLEANS
    else:
        ok = True
    return ok and ("allowed" not in col or v in col["allowed"])


def validate(path: Path, channel: str, contracts) -> dict:
    """Check a file against its contract; return header, canonical rows, bad rows, dates."""
    entity, mapping = spec_for(path, channel, contracts)
    header, rows = read_rows(path)
    unknown = [h for h in header if h not in mapping]
    assert channel == "web_forms" or not unknown, f"{path.name}: unmapped headers {unknown}"
    cols = {c["name"]: c for c in entity["columns"]}
    canon = [{mapping[k]: v for k, v in r.items() if k in mapping} for r in rows]
    fmts = {c: date_format([r.get(c) for r in canon]) for c, s in cols.items()
            if s["type"] in ("date", "timestamp")}
    bad, dates = set(), defaultdict(dict)
    for i, r in enumerate(canon):
        for name, col in cols.items():
            v = r.get(name)
            if v is None or v == "":
                if col.get("required"):
                    bad.add(i)
            elif not value_ok(col, v, fmts.get(name)):
                bad.add(i)
            elif name in fmts:
                dates[name][i] = parse_date(v, fmts[name])
        for group in entity.get("require_any", ()):
            if all(r.get(c) in (None, "") for c in group):
                bad.add(i)
    return {"header": header, "rows": canon, "bad": bad, "dates": dates, "formats": fmts}


@pytest.fixture(scope="module")
def checked(runs, contracts):
    """validate() for every file of the Maven-based and the synthetic run."""
    out = {}
    for name in ("maven", "synthetic"):
        root = runs[name][0]
        out[name] = {p: validate(p, p.parent.name, contracts) for p in all_files(root)
                     if p.parent.name in CHANNELS}  # targets/ is finance's, not a channel
    return out


def by_name(checked_run: dict, channel: str, stem: str) -> dict:
    (hit,) = [v for p, v in checked_run.items() if p.parent.name == channel
              and p.name.startswith(stem)]
    return hit


# ---------------------------------------------------------------- tests

def test_same_seed_and_scale_gives_byte_identical_files(runs):
    for a, b in (("maven", "maven_again"), ("synthetic", "synthetic_again")):
        assert snapshot(runs[a][0]) == snapshot(runs[b][0])
    other = runs["other_seed"][0]
    assert (other / "activities/crm_activities.csv").read_bytes() != \
           (runs["synthetic"][0] / "activities/crm_activities.csv").read_bytes()


def test_output_does_not_depend_on_the_process(runs, maven_dir, tmp_path):
    """Another interpreter with another hash seed writes the same bytes."""
    out = tmp_path / "sub"
    code = ("import sys; from pathlib import Path; from ingestion.demo import generate; "
            "generate(Path(sys.argv[1]), scale=float(sys.argv[2]), seed=int(sys.argv[3]), "
            "maven_dir=Path(sys.argv[4]))")
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", code, str(out), str(SCALE / 2), str(SEED),
                    str(maven_dir)], check=True, env=env, cwd=ROOT)
    assert snapshot(out) == snapshot(runs["maven_half"][0])


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in all_files(root)}


def test_every_channel_gets_files_and_stats_match_files(runs, checked):
    for name in ("maven", "synthetic"):
        root, stats = runs[name]
        assert set(stats) == set(CHANNELS)
        for ch in CHANNELS:
            files = all_files(root / ch)
            assert files and stats[ch]["files"] == len(files), ch
            rows = sum(len(checked[name][p]["rows"]) for p in files)
            assert stats[ch]["rows"] == rows, ch
    files = all_files(runs["maven"][0])
    assert {".csv", ".tsv", ".jsonl", ".xlsx"} <= {p.suffix for p in files}
    assert {p.parent.name for p in files if p.suffix == ".xlsx"} == {"marketing_events", "orders"}


def test_big_outputs_are_split_into_parts(tmp_path, monkeypatch):
    monkeypatch.setattr(C, "MAX_ROWS_PER_FILE", 3_000)
    stats = generate(tmp_path, scale=0.05, seed=SEED)
    parts = all_files(tmp_path / "activities")
    assert [p.name for p in parts] == ["crm_activities_part001.csv", "crm_activities_part002.csv"]
    sizes = [len(read_rows(p)[1]) for p in parts]
    assert max(sizes) <= 3_000 and sum(sizes) == stats["activities"]["rows"]
    ids = [r["activity_id"] for p in parts for r in read_rows(p)[1] if r["activity_id"]]
    assert len(ids) == len(set(ids))
    # A rerun replaces its own earlier files (other part counts) and leaves others alone.
    (tmp_path / "activities/notes.txt").write_text("keep me")
    monkeypatch.undo()
    generate(tmp_path, scale=0.05, seed=SEED)
    assert sorted(p.name for p in (tmp_path / "activities").iterdir()) == \
        ["crm_activities.csv", "notes.txt"]


def test_volumes_scale_linearly(runs):
    full, half = runs["maven"][1], runs["maven_half"][1]
    leads = lambda s: sum(s[c]["rows"] for c in LEAD_CHANNELS)  # noqa: E731
    assert leads(full) == pytest.approx(10_000 * SCALE, rel=0.02)
    assert full["activities"]["rows"] == pytest.approx(100_000 * SCALE, rel=0.02)
    assert leads(full) / leads(half) == pytest.approx(2, rel=0.02)
    assert full["activities"]["rows"] / half["activities"]["rows"] == pytest.approx(2, rel=0.02)
    synthetic = runs["synthetic"][1]
    assert leads(synthetic) == leads(full)


def test_maven_files_copied_unchanged(runs, maven_dir):
    crm = runs["maven"][0] / "crm_export"
    for name in MAVEN_FILES:
        assert (crm / name).read_bytes() == (maven_dir / name).read_bytes()
    assert not (crm / "data_dictionary.csv").exists()


def test_finance_targets_are_95_percent_of_the_last_two_quarters_won(runs, maven_dir):
    from decimal import Decimal

    import pandas as pd

    from ml.forecast.quotas import read_targets

    path = runs["maven"][0] / "targets" / "targets.csv"
    targets = read_targets(path)  # the format `salesops quotas load` reads
    deals = pd.read_csv(maven_dir / "sales_pipeline.csv", dtype=str, keep_default_na=False)
    teams = pd.read_csv(maven_dir / "sales_teams.csv", dtype=str)
    region = dict(zip(teams["sales_agent"], teams["regional_office"], strict=True))
    won = deals[(deals["deal_stage"] == "Won") & (deals["close_date"] != "")].assign(
        quarter=lambda d: pd.to_datetime(d["close_date"]).dt.to_period("Q"),
        usd=lambda d: d["close_value"].map(Decimal),
        region=lambda d: d["sales_agent"].map(region))
    third, fourth = sorted(won["quarter"].unique())[-2:]

    def target(rows) -> Decimal:
        return (sum(rows["usd"], Decimal(0)) * Decimal("0.95") // 10_000) * 10_000

    expected = {("company", "all", f"{third.year}-Q{third.quarter}"): target(won[won["quarter"] == third])}
    for region, rows in won[won["quarter"] == fourth].groupby("region"):
        expected[("region", region, f"{fourth.year}-Q{fourth.quarter}")] = target(rows)
    assert {(t.level, t.key, t.period): t.amount for t in targets} == expected
    synthetic = read_targets(runs["synthetic"][0] / "targets" / "targets.csv")
    assert {t.level for t in synthetic} == {"company", "region"}


def test_synthetic_maven_has_the_maven_layout(runs, maven_dir):
    crm = runs["synthetic"][0] / "crm_export"
    for name in MAVEN_FILES:
        assert read_rows(crm / name)[0] == read_rows(maven_dir / name)[0]
    teams = read_rows(crm / "sales_teams.csv")[1]
    assert len(teams) == 35
    assert len({t["manager"] for t in teams}) == 6
    assert len({t["regional_office"] for t in teams}) == 3
    assert len(read_rows(crm / "accounts.csv")[1]) == 85
    assert len(read_rows(crm / "products.csv")[1]) == 7
    pipeline = read_rows(crm / "sales_pipeline.csv")[1]
    assert len(pipeline) == pytest.approx(C.SYNTH_OPPORTUNITIES_PER_UNIT * SCALE, rel=0.01)
    assert {r["deal_stage"] for r in pipeline} == {"Won", "Lost", "Engaging", "Prospecting"}
    agents = {t["sales_agent"] for t in teams}
    assert {r["sales_agent"] for r in pipeline} <= agents


def test_crm_reports_use_the_exact_preset_headers(runs, contracts):
    from ingestion.contracts import contract
    from ingestion.mapping import match

    crm = runs["maven"][0] / "crm_export"
    for name, preset, entity in (("salesforce_leads.csv", "salesforce", "leads"),
                                 ("hubspot_contacts.csv", "hubspot", "contacts")):
        header = read_rows(crm / name)[0]
        found = match(contract("crm_export"), header, str(crm / name))
        assert (found.preset, found.entity.entity, found.unmapped) == (preset, entity, ())


def _pipeline(root: Path) -> dict[str, dict]:
    return {r["opportunity_id"]: r for r in read_rows(root / "crm_export/sales_pipeline.csv")[1]}


def _valid(check: dict):
    return ((i, r) for i, r in enumerate(check["rows"]) if i not in check["bad"])


@pytest.mark.parametrize("run", ["maven", "synthetic"])
def test_converted_leads_are_the_maven_opportunities(runs, checked, run):
    opps = _pipeline(runs[run][0])
    sf = by_name(checked[run], "crm_export", "salesforce_leads")
    converted = [r for _, r in _valid(sf) if r.get("converted_opportunity_id")]
    people = sum(runs[run][1][c]["rows"] for c in LEAD_CHANNELS) * (1 - C.DUPLICATE_PERSON_SHARE)
    assert len(converted) == pytest.approx(C.MAX_CONVERTED_SHARE * people, rel=0.03)
    ids = [r["converted_opportunity_id"] for r in converted]
    assert len(ids) == len(set(ids)) and set(ids) <= set(opps)
    for r in converted:
        opp = opps[r["converted_opportunity_id"]]
        assert r["owner_name"] == opp["sales_agent"]
        assert r["lead_status"] == "Closed - Converted"
        if opp["account"]:
            assert r["company"] == opp["account"]
        if opp["engage_date"]:
            created = dt.datetime.strptime(r["created_at"], "%m/%d/%Y").date()
            gap = (dt.date.fromisoformat(opp["engage_date"]) - created).days
            assert 1 <= gap <= 60
    sources = {r["lead_source"] for _, r in _valid(sf)}
    assert sources == {"Web", "Event", "Referral", "Advertisement"}


@pytest.mark.parametrize("run", ["maven", "synthetic"])
def test_invoices_sum_to_close_value_on_or_after_close(runs, checked, run):
    opps = _pipeline(runs[run][0])
    totals, count = defaultdict(Decimal), defaultdict(int)
    for p, c in checked[run].items():
        if p.parent.name != "orders":
            continue
        for i, r in _valid(c):
            opp = opps[r["opportunity_id"]]
            assert opp["deal_stage"] == "Won"
            assert dt.date.fromisoformat(opp["close_date"]) <= c["dates"]["order_date"][i]
            totals[r["opportunity_id"]] += parse_amount(r["amount"])
            count[r["opportunity_id"]] += 1
    won = {k for k, o in opps.items() if o["deal_stage"] == "Won"}
    assert set(totals) == won
    for k in won:
        assert totals[k] == Decimal(opps[k]["close_value"]), k
    assert set(count.values()) == {1, 2, 3}


@pytest.mark.parametrize("run", ["maven", "synthetic"])
def test_dates_are_in_period_and_ordered(runs, checked, run):
    opps = _pipeline(runs[run][0])
    agents = {r["sales_agent"] for r in read_rows(runs[run][0] / "crm_export/sales_teams.csv")[1]}
    sf = by_name(checked[run], "crm_export", "salesforce_leads")
    lead = {r["lead_id"]: r for _, r in _valid(sf)}
    created = {k: dt.datetime.strptime(r["created_at"], "%m/%d/%Y").date()
               for k, r in lead.items()}
    close = {k: dt.date.fromisoformat(o["close_date"]) for k, o in opps.items() if o["close_date"]}
    for p, c in checked[run].items():
        if p.name not in MAVEN_FILES:
            for col in c["dates"].values():
                assert all(PERIOD[0] <= d <= PERIOD[1] for d in col.values()), p.name
    act = by_name(checked[run], "activities", "crm_activities")
    n_lead = n_opp = 0
    for i, r in _valid(act):
        day = act["dates"]["occurred_at"][i]
        assert r["rep_name"] in agents
        if r.get("lead_id"):
            n_lead += 1
            assert day >= created[r["lead_id"]]
            conv = lead[r["lead_id"]].get("converted_opportunity_id")
            if conv in close:
                assert day <= close[conv]
        if r.get("opportunity_id"):
            assert r["rep_name"] == opps[r["opportunity_id"]]["sales_agent"]
            if r["opportunity_id"] in close:
                n_opp += 1
                assert day <= close[r["opportunity_id"]]
    assert n_lead > 100 and n_opp > 100
    last_order = defaultdict(lambda: dt.date.min)
    for p, c in checked[run].items():
        if p.parent.name == "orders":
            for i, r in _valid(c):
                d = c["dates"]["order_date"][i]
                last_order[r["opportunity_id"]] = max(last_order[r["opportunity_id"]], d)
    n_surveys = 0
    for p, c in checked[run].items():
        if p.parent.name == "surveys":
            for i, r in _valid(c):
                n_surveys += 1
                assert c["dates"]["responded_at"][i] > last_order[r["opportunity_id"]]
                assert r["account_name"] == opps[r["opportunity_id"]]["account"]
    assert n_surveys > 0


def test_one_date_format_per_column_and_several_across_files(checked):
    formats = set()
    for p, c in checked["maven"].items():
        for col, fmt in c["formats"].items():
            texts = [r[col] for r in c["rows"] if isinstance(r.get(col), str)]
            failing = {v for v in texts if parse_date(v, fmt) is None}
            assert failing <= set(BAD_DATES), (p.name, col, failing)  # only deliberate rows
            if texts:
                formats.add(fmt)
    assert {"%m/%d/%Y", "%d.%m.%Y", "%Y年%m月%d日", "%Y/%m/%d %H:%M", "iso"} <= formats


def test_encodings(runs):
    root = runs["maven"][0]
    for path in (root / "marketing_events/cn_roadshow_signups.csv",
                 root / "ad_leads/baidu_wechat_leads.csv"):
        raw = path.read_bytes()
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")
        header = raw.decode("gb18030").splitlines()[0].split(",")
        assert {"姓名", "邮箱", "手机", "公司"} <= set(header)
    fb = (root / "ad_leads/facebook_lead_ads.tsv").read_bytes()
    assert fb[:2] == b"\xff\xfe"
    assert fb.decode("utf-16").splitlines()[0].split("\t")[:2] == ["id", "created_time"]
    assert (root / "ad_leads/linkedin_leads.csv").read_bytes()[:3] == b"\xef\xbb\xbf"


def test_invalid_row_share_in_stated_range(checked):
    lo, hi = C.INVALID_SHARE_RANGE
    for run in ("maven", "synthetic"):
        for p, c in checked[run].items():
            n, bad = len(c["rows"]), len(c["bad"])
            if p.name in MAVEN_FILES:
                assert bad == 0, p.name  # the Maven export itself is valid
                continue
            assert bad / n <= hi, (p.name, bad, n)
            if n >= 250:
                assert lo <= bad / n, (p.name, bad, n)
            if n >= 101:
                assert bad >= 1, (p.name, n)


def test_each_kind_of_invalid_row_occurs(checked):
    rows = [r for c in checked["maven"].values() for i, r in enumerate(c["rows"]) if i in c["bad"]]
    assert any(r.get("activity_type") in BAD_ACTIVITY_TYPES for r in rows)
    assert any(str(r.get("duration_minutes", "")).startswith("-") for r in rows)
    assert any(r.get("score") in BAD_SCORES for r in rows)
    assert any(r.get("amount") == "N/A" for r in rows)
    assert any(r.get("order_date") in BAD_DATES for r in rows)
    assert any("activity_id" in r and not r["activity_id"] for r in rows)
    assert any("email" in r and not r.get("email") and not r.get("phone") for r in rows)


def test_realistic_mess_is_present(checked):
    text = [str(v) for c in checked["maven"].values() for r in c["rows"] for v in r.values()
            if v is not None]
    blob = "\n".join(text)
    assert "Robert'); DROP TABLE raw.ad_leads;--" in blob
    assert '=HYPERLINK("http://x")' in blob
    assert re.search("[\uff41-\uff5a\uff10-\uff19]+\uff20", blob)  # full-width email
    assert re.search("[\uff10-\uff19]{4}", blob)  # full-width digits
    for pattern in (r"\+86 1\d\d \d{4} \d{4}", r"\b1[3-8]\d{9}\b", r"\(\d{3}\) 555-\d{4}",
                    r"\+1-\d{3}-555-\d{4}", r"0044 20 7946 \d{4}"):
        assert re.search(pattern, blob), pattern
    assert "王" in blob and "李" in blob
    assert re.search(r"€\d{1,3}(\.\d{3})*,\d{2}", blob) and re.search(r"¥\d{1,3}(,\d{3})+", blob)


def test_same_people_appear_across_channels_spelled_differently(checked):
    seen = defaultdict(lambda: (set(), set()))  # normalised email -> (channels, raw spellings)
    for p, c in checked["maven"].items():
        if p.parent.name in LEAD_CHANNELS:
            for r in c["rows"]:
                if r.get("email"):
                    key = unicodedata.normalize("NFKC", r["email"]).strip().lower()
                    seen[key][0].add(p.parent.name)
                    seen[key][1].add(r["email"])
    assert sum(len(ch) >= 2 for ch, _ in seen.values()) >= 20
    assert sum(len(raw) >= 2 for _, raw in seen.values()) >= 20


def test_web_forms_jsonl_have_extra_keys_and_offsets(runs):
    root = runs["maven"][0] / "web_forms"
    load = lambda n: [json.loads(x) for x in (root / n).read_text("utf-8").splitlines()]  # noqa: E731
    world, cn = load("website_forms_global.jsonl"), load("website_forms_cn.jsonl")
    assert any("_meta" in r for r in world) and any("ip_address" in r for r in cn)
    stamps = [r["submitted_at"] for r in world if r.get("submitted_at")]
    assert sum(s.endswith("Z") for s in stamps) >= 0.99 * len(stamps)
    assert sum(r.get("created_at", "").endswith("+08:00") for r in cn) >= 0.98 * len(cn)


def test_xlsx_keeps_formula_like_text_as_text(runs):
    texts = []
    for p in all_files(runs["maven"][0]):
        if p.suffix == ".xlsx":
            for row in load_workbook(p).worksheets[0].iter_rows():
                assert all(c.data_type != "f" for c in row), p.name
                texts += [c.value for c in row if isinstance(c.value, str)]
    assert any(t.startswith("=") for t in texts)


def test_rejects_non_positive_scale(tmp_path):
    with pytest.raises(ValueError):
        generate(tmp_path, scale=0)


# Files whose rows a later delivery must not re-use, with their id column (canonical names).
DELIVERY_IDS = {("activities", "crm_activities"): "activity_id",
                ("ad_leads", "facebook_lead_ads"): "lead_id",
                ("ad_leads", "linkedin_leads"): "lead_id",
                ("ad_leads", "baidu_wechat_leads"): "lead_id",
                ("referrals", "customer_referrals"): "referral_id",
                ("referrals", "partner_referrals"): "referral_id",
                ("web_forms", "website_forms_global"): "submission_id",
                ("web_forms", "website_forms_cn"): "submission_id",
                ("crm_export", "salesforce_leads"): "lead_id",
                ("crm_export", "hubspot_contacts"): "contact_id"}


def delivered_ids(root: Path, contracts) -> dict[tuple[str, str], set]:
    ids = defaultdict(set)
    for path in all_files(root):
        for (channel, stem), column in DELIVERY_IDS.items():
            if path.parent.name == channel and path.name.startswith(stem):
                rows = validate(path, channel, contracts)["rows"]
                ids[channel, stem] |= {r[column] for r in rows if r.get(column)}
                if channel == "activities":  # and the CRM leads they name
                    ids["activities", "lead_id"] |= {r["lead_id"] for r in rows if r["lead_id"]}
    return ids


def test_a_delta_with_an_id_offset_brings_new_records(runs, maven_dir, contracts, tmp_path):
    """A later delivery numbered after the base (id_offset) re-uses none of its ids; without
    the offset, another seed re-sends the base's ids with other contents."""
    base = delivered_ids(runs["maven"][0], contracts)
    generate(tmp_path / "delta", scale=SCALE, seed=SEED + 1, maven_dir=maven_dir,
             id_offset=1_000_000_000)
    generate(tmp_path / "resend", scale=SCALE, seed=SEED + 1, maven_dir=maven_dir)
    delta = delivered_ids(tmp_path / "delta", contracts)
    resend = delivered_ids(tmp_path / "resend", contracts)
    assert set(delta) == set(base) == set(resend)
    for key in base:
        assert delta[key] and not delta[key] & base[key], key
    for key in (("activities", "crm_activities"), ("ad_leads", "facebook_lead_ads"),
                ("referrals", "customer_referrals"), ("crm_export", "salesforce_leads")):
        assert resend[key] & base[key], key


def test_years_of_history_have_trend_seasons_joining_reps_and_a_price_rise(maven_dir, tmp_path):
    import pandas as pd

    from ingestion.demo.history import FILE, LEAVERS, TEAMS_FILE
    from ingestion.demo.maven import PRODUCTS

    summary = generate(tmp_path / "a", scale=SCALE, seed=SEED, maven_dir=maven_dir, years=3)
    generate(tmp_path / "b", scale=SCALE, seed=SEED, maven_dir=maven_dir, years=3)
    first, second = (tmp_path / d / "crm_export" / FILE for d in ("a", "b"))
    assert first.read_bytes() == second.read_bytes()  # seeded
    generate(tmp_path / "a", scale=SCALE, seed=SEED, maven_dir=maven_dir)  # years=0: Maven alone
    assert not first.exists()
    generate(tmp_path / "a", scale=SCALE, seed=SEED, maven_dir=maven_dir, years=3)
    deals = pd.read_csv(first, dtype=str)
    maven = pd.read_csv(maven_dir / "sales_pipeline.csv", dtype=str, keep_default_na=False)
    assert list(deals.columns) == list(maven.columns)  # the Maven layout: the same preset loads it
    assert summary["crm_export"]["rows"] >= len(deals) + len(maven)
    close = pd.to_datetime(deals["close_date"])
    first_close = pd.to_datetime(maven["close_date"].replace("", None)).min().to_period("M")
    months = close.dt.to_period("M")
    assert months.min() == first_close - 36 and months.max() == first_close - 1  # up to Maven's closes
    assert (pd.to_datetime(deals["engage_date"]) < close).all()
    teams = pd.read_csv(maven_dir / "sales_teams.csv")
    former = pd.read_csv(tmp_path / "a" / "crm_export" / TEAMS_FILE)
    assert list(former.columns) == list(teams.columns) and len(former) == LEAVERS  # the Maven teams layout
    assert not set(former["sales_agent"]) & set(teams["sales_agent"])
    assert set(former["manager"]) <= set(teams["manager"])
    assert set(deals["sales_agent"]) == set(teams["sales_agent"]) | set(former["sales_agent"])
    assert not set(deals["opportunity_id"]) & set(maven["opportunity_id"])
    won = deals[deals["deal_stage"] == "Won"].assign(month=close.dt.to_period("M"))
    by_month = won.groupby("month").size()
    first_year, last_year = by_month.iloc[:12].sum(), by_month.iloc[-12:].sum()
    assert last_year > 1.3 * first_year  # trend
    december = by_month[by_month.index.month == 12].mean()
    assert december > 1.2 * by_month[by_month.index.month == 11].mean()  # Maven's quarter rhythm
    starts = won.groupby("sales_agent")["month"].min()
    assert (starts > by_month.index[0] + 2).sum() >= 5  # reps joining during the history
    ends = won.groupby("sales_agent")["month"].max()
    assert (ends[former["sales_agent"]] < by_month.index[-2]).all()  # reps leaving during it
    assert (ends.drop(former["sales_agent"]) >= by_month.index[-3]).all()  # the others stay
    price = {name: float(p) for name, _, p, _ in PRODUCTS}
    ratio = won["close_value"].astype(float) / won["product"].map(price)
    half = by_month.index[len(by_month) // 2]
    rise = ratio[won["month"] >= half].mean() / ratio[won["month"] < half].mean()
    assert rise == pytest.approx(1.15, abs=0.02)  # the regime change
