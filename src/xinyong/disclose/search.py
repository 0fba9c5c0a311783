"""Finding a subject by name (substring or pinyin initials) or by any identifier, at a million subjects.

Why bigrams and not FTS5 trigram or pg_trgm: Chinese names are searched with two characters (华信, 光谷)
as often as with more, and a trigram index cannot answer a two-character query — both FTS5's trigram
tokenizer and pg_trgm fall back to scanning every name. Search engines index Chinese as overlapping
character bigrams for this reason (Lucene's CJKBigramFilter, Elasticsearch's cjk_bigram). The index here is
a plain table of (gram, subject_id) with a document-frequency table beside it, identical on SQLite and
PostgreSQL, so the same query finds the same subjects on both:

- every bigram of each organisation's normalised current and former names (武汉华信 → 武汉 汉华 华信);
- every 3-letter n-gram of the pinyin initials of its current name (whhxkj → whh hhx hxk xkj), under the
  usual reading (pypinyin's phrase dictionary, written to `subjects.name_pinyin`) and under each other
  reading of one polyphone at a time (恒长 → hz and hc; 银行 → yh and yx), at most `PINYIN_VARIANTS`.

A query starts from its rarest gram (read from the frequency table), probes the index for the others,
and checks each candidate's name for the whole query, so the answer is exact: substring match, not "shares
some grams". The number of index entries one query may read is capped (`XINYONG_SEARCH_SCAN`); a query that
would need more is answered with what was found and says so, rather than running long.

Natural persons are not in the name index: a person is found by the exact ID number only (the public sees
persons' names masked, and a masked name is no key). Nor is an 个体工商户 whose name the public sees masked
(registered under its operator's bare name, policy `masking.person_names`): otherwise a search for a
person's full name would confirm what the masked page hides. It is found by its code.

The index is rebuilt without downtime into the slot not in use (models.py), then switched in one
transaction. Subjects created after the last build (a larger id than the build's high-water mark) are
scanned directly until `refresh()` or the next `rebuild()` adds them.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import polars as pl
import sqlalchemy as sa
from pypinyin import Style, lazy_pinyin, pinyin

from xinyong.clock import Clock
from xinyong.codes.divisions import lookup_division
from xinyong.codes.normalize import normalize_code
from xinyong.disclose.codes import typo
from xinyong.disclose.limits import QueryRefused
from xinyong.disclose.models import SLOTS, search_builds, search_gram_stats, search_grams
from xinyong.disclose.service import SUBJECT_REF_PREFIX, is_person_name, public_code, shown_subject_name
from xinyong.policy import Policy, load_policy
from xinyong.security.pii import PersonalIdProtector
from xinyong.store.bulk import insert_frame
from xinyong.subjects.models import subject_names, subjects
from xinyong.subjects.service import find_subject_id

log = logging.getLogger(__name__)

PERSON = "natural_person"
PINYIN_MAX = 64  # subjects.name_pinyin is String(64)
# Readings of a name indexed: the usual one, then one polyphone read otherwise at a time. A visitor types
# the reading they know, which differs from the dictionary's in one character far more often than in two;
# each variant adds at most three new trigrams, and the cap bounds a name full of polyphones.
PINYIN_VARIANTS = 16
WANT = 200  # verified candidates gathered before ranking
DELTA_CAP = 20_000  # subjects past the index's high-water mark scanned directly
_IDENTIFIER = re.compile(r"^[0-9A-Z]{8,20}$")
_ASCII_LETTERS = re.compile(r"^[a-z]+$")


Match = tuple[str, str | None, str, str]  # how it matched, the former name that did, name, pinyin
_CANDIDATES = sa.select(subjects.c.id, subjects.c.name, subjects.c.name_pinyin, subjects.c.kind).where(
    subjects.c.id.in_(sa.bindparam("ids", expanding=True)),
    subjects.c.status == "active",
    subjects.c.kind != PERSON,
)

# ----------------------------------------------------------------------------------------- text keys


@lru_cache(maxsize=65536)
def name_key(text: str | None) -> str:
    """The form names are indexed and matched in: NFKC, lower case, letters and digits only (drops spaces,
    brackets and punctuation, so （武汉）华信 and 武汉华信 match alike)."""
    if not text:
        return ""
    return "".join(ch for ch in unicodedata.normalize("NFKC", text).lower() if ch.isalnum())


def bigrams(key: str) -> set[str]:
    return {key[i : i + 2] for i in range(len(key) - 1)}


def trigrams(key: str) -> set[str]:
    return {key[i : i + 3] for i in range(len(key) - 2)}


@lru_cache(maxsize=65536)
def _char_initials(ch: str) -> tuple[str, ...]:
    """Every initial a character's readings start with (行 → h, x), sorted; ("",) for what has none."""
    if ch.isascii():
        return (ch.lower() if ch.isalnum() else "",)
    readings = {r[0].lower() for r in pinyin(ch, style=Style.FIRST_LETTER, heteronym=True)[0] if r}
    found = sorted(r for r in readings if r.isascii() and r.isalnum())
    return tuple(found) or ("",)


def _char_initial(ch: str) -> str | None:
    """A character's pinyin initial, or None when its readings start with different letters (行 x/h)."""
    found = _char_initials(ch)
    return found[0] if len(found) == 1 else None


def initials(name: str | None) -> str:
    """Pinyin initials of a name, lower case: 武汉华信科技有限公司 → whhxkjyxgs.

    Most characters have one initial and are looked up one by one (fast); a name with a character whose
    readings differ (银行 yh, 行政 xz) goes through pypinyin's phrase dictionary to pick the reading."""
    key = name_key(name)
    fast = [_char_initial(ch) for ch in key]
    if all(part is not None for part in fast):
        return "".join(fast)  # type: ignore[arg-type]
    parts = lazy_pinyin(key, style=Style.FIRST_LETTER, errors="default")
    return "".join(p.lower() for p in parts if p and p.isascii() and p.isalnum())


@lru_cache(maxsize=65536)
def initials_variants(name: str | None) -> tuple[str, ...]:
    """The pinyin initials of a name: the usual reading first (`initials`), then the usual reading with one
    polyphone read otherwise, character by character, at most PINYIN_VARIANTS in all. 恒长 → (hz, hc)."""
    usual = initials(name)
    key = name_key(name)
    choices = [_char_initials(ch) for ch in key]
    if all(len(c) == 1 for c in choices):
        return (usual,)
    # The usual reading per character, where it lines up with the name (it does unless a character has no
    # initial at all; then vary the first reading of each character instead).
    base = list(usual) if len(usual) == len(key) else [c[0] for c in choices]
    variants = dict.fromkeys([usual])
    for at, options in enumerate(choices):
        for option in options:
            if len(variants) >= PINYIN_VARIANTS:
                return tuple(variants)
            if option != base[at]:
                variants.setdefault("".join([*base[:at], option, *base[at + 1 :]]))
    return tuple(variants)


def pinyin_grams(code: str) -> set[str]:
    return trigrams(code)


def _pinyin_match(name: str, key: str) -> str | None:
    """The reading of `name` whose initials contain `key`, or None."""
    return next((code for code in initials_variants(name) if key in code), None)


# ------------------------------------------------------------------------------------------- queries


@dataclass
class Hit:
    subject_id: int
    code: str
    name: str
    kind: str
    uscc: str | None
    division_name: str | None
    match: str  # identifier | name | former_name | pinyin
    matched_name: str | None = None  # the former name that matched
    division_code: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "kind": self.kind,
            "uscc": self.uscc,
            "division_name": self.division_name,
            "match": self.match,
            "matched_name": self.matched_name,
        }


@dataclass
class SearchResult:
    query: str
    hits: list[Hit] = field(default_factory=list)
    more: bool = False  # more subjects match than shown: refine the query
    partial: bool = False  # the scan cap was reached: some matches may be missing
    index: str = "none"  # which index answered: the active slot, or none (direct scan)
    took_ms: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "results": [h.as_dict() for h in self.hits],
            "more": self.more,
            "partial": self.partial,
            "took_ms": round(self.took_ms, 2),
        }


def search(
    conn: sa.Connection,
    query: str,
    *,
    protector: PersonalIdProtector,
    limit: int = 20,
    scan: int = 20_000,
    policy: Policy | None = None,
) -> SearchResult:
    """Subjects whose identifier is `query`, or whose name contains it, or whose pinyin initials do."""
    started = time.perf_counter()
    policy = policy or load_policy()
    text = (query or "").strip()
    result = SearchResult(query=text)
    code = normalize_code(text)
    if code.startswith(SUBJECT_REF_PREFIX.upper()):
        code = ""
    if code and _IDENTIFIER.match(code) and any(c.isdigit() for c in code):
        found = find_subject_id(conn, code, protector=protector)
        if found is not None:
            result.hits = _describe(conn, {found: ("identifier", None)}, policy)
        elif problem := typo(code, check_char_only=True):  # a code with a typo, not a name to search for
            raise QueryRefused(problem.code, problem.message_zh, problem.message_en, status=422)
    key = name_key(text)
    if not result.hits:
        if len(key) < 2:
            raise QueryRefused(
                "search.too_short",
                "请输入至少两个字的名称、拼音首字母（至少三个字母）或完整的代码",
                "Type at least two characters of a name, three letters of pinyin initials, or a whole code",
                status=422,
            )
        active = active_build(conn)
        result.index = active["slot"] if active else "none"
        matches: dict[int, Match] = {}
        partial = False
        if active:
            ids, cut = _probe(conn, active["slot"], sorted(bigrams(key)), scan=scan)
            partial |= cut
            if _ASCII_LETTERS.match(key) and len(key) >= 3:
                pids, cut = _probe(conn, active["slot"], sorted(pinyin_grams(key)), scan=scan)
                partial |= cut
                ids = list(dict.fromkeys([*ids, *pids]))
            matches.update(_verify(conn, ids, key, policy))
        high_water = active["max_subject_id"] if active else 0
        delta, cut = _scan_delta(conn, high_water, key, policy)
        partial |= cut
        matches.update({k: v for k, v in delta.items() if k not in matches})
        ranked = sorted(matches, key=lambda sid: _rank(sid, matches[sid], key))
        result.more = len(ranked) > limit
        top = ranked[:limit]
        hits = {h.subject_id: h for h in _describe(conn, {sid: matches[sid] for sid in top}, policy)}
        result.hits = [hits[sid] for sid in top if sid in hits]
        result.partial = partial
    result.took_ms = (time.perf_counter() - started) * 1000
    return result


def _rank(subject_id: int, match: Match, key: str) -> tuple[int, int, int]:
    how, _, display, code = match
    name = name_key(display)
    if how == "identifier" or name == key:
        tier = 0
    elif name.startswith(key):
        tier = 1
    elif key in name:
        tier = 2
    elif how == "former_name":
        tier = 3
    else:
        tier = 4 if code.startswith(key) else 5
    return tier, len(name), subject_id


def _probe(conn: sa.Connection, slot: str, grams: Sequence[str], *, scan: int) -> tuple[list[int], bool]:
    """Subjects holding every gram, starting from the rarest; (ids, whether the scan cap cut it short)."""
    if not grams:
        return [], False
    stats = search_gram_stats[slot]
    df = dict(conn.execute(sa.select(stats.c.gram, stats.c.df).where(stats.c.gram.in_(grams))).all())
    if len(df) < len(set(grams)):
        return [], False  # a gram no indexed name holds: nothing in the index matches
    ordered = sorted(grams, key=lambda g: df[g])
    rarest, others = ordered[0], ordered[1:4]  # three probes narrow enough; the name check does the rest
    table = search_grams[slot].name
    params: dict[str, Any] = {"g0": rarest, "scan": scan, "want": WANT}
    exists = []
    for i, gram in enumerate(others, start=1):
        params[f"g{i}"] = gram
        exists.append(
            f"EXISTS (SELECT 1 FROM {table} x{i} WHERE x{i}.gram = :g{i} AND x{i}.subject_id = c.subject_id)"
        )
    where = f"WHERE {' AND '.join(exists)}" if exists else ""
    sql = (
        f"SELECT c.subject_id FROM (SELECT subject_id FROM {table} WHERE gram = :g0 "
        f"ORDER BY subject_id LIMIT :scan) c {where} LIMIT :want"
    )
    ids = [row[0] for row in conn.execute(sa.text(sql), params)]
    return ids, df[rarest] > scan and len(ids) < WANT


def _verify(conn: sa.Connection, ids: Sequence[int], key: str, policy: Policy) -> dict[int, Match]:
    """The candidates whose current name, former name or pinyin initials really contain the query (never
    by a name the public sees masked)."""
    if not ids:
        return {}
    found: dict[int, Match] = {}
    rows = conn.execute(_CANDIDATES, {"ids": list(ids)}).all()
    rest: dict[int, tuple[str, str]] = {}
    kinds: dict[int, str] = {}
    ascii_query = bool(_ASCII_LETTERS.match(key))
    for sid, name, code, kind in rows:
        if is_person_name(name, kind, policy):
            continue
        kinds[sid] = kind
        code = code or initials(name)
        if key in name_key(name):
            found[sid] = ("name", None, name, code)
        elif ascii_query and (reading := _pinyin_match(name, key)):
            found[sid] = ("pinyin", None, name, reading)
        else:
            rest[sid] = (name, code)
    if rest:
        former = conn.execute(
            sa.select(subject_names.c.subject_id, subject_names.c.name).where(
                subject_names.c.subject_id.in_(list(rest)), subject_names.c.role == "former"
            )
        )
        for sid, name in former:
            if sid not in found and key in name_key(name) and not is_person_name(name, kinds[sid], policy):
                found[sid] = ("former_name", name, *rest[sid])
    return found


def _scan_delta(
    conn: sa.Connection, high_water: int, key: str, policy: Policy
) -> tuple[dict[int, Match], bool]:
    """Subjects created after the index was built, checked one by one (a bounded number of them)."""
    rows = conn.execute(
        sa.select(subjects.c.id, subjects.c.name, subjects.c.kind)
        .where(subjects.c.id > high_water, subjects.c.status == "active", subjects.c.kind != PERSON)
        .order_by(subjects.c.id)
        .limit(DELTA_CAP + 1)
    ).all()
    cut = len(rows) > DELTA_CAP
    if cut:
        log.warning("search index is stale: more than %s subjects are not indexed; run a refresh", DELTA_CAP)
    ascii_query = bool(_ASCII_LETTERS.match(key)) and len(key) >= 3
    found: dict[int, Match] = {}
    for sid, name, kind in rows[:DELTA_CAP]:
        if is_person_name(name, kind, policy):
            continue
        if key in name_key(name):
            found[sid] = ("name", None, name, "")
        elif ascii_query and (reading := _pinyin_match(name, key)):
            found[sid] = ("pinyin", None, name, reading)
    return found, cut


def _describe(conn: sa.Connection, matches: dict[int, Any], policy: Policy) -> list[Hit]:
    if not matches:
        return []
    rows = conn.execute(
        sa.select(
            subjects.c.id,
            subjects.c.kind,
            subjects.c.name,
            subjects.c.uscc,
            subjects.c.division_code,
            subjects.c.public_ref,
        ).where(subjects.c.id.in_(list(matches)))
    ).all()
    hits = []
    for row in rows:
        match, matched_name = matches[row.id][:2]
        division = lookup_division(row.division_code) if row.division_code else None
        hits.append(
            Hit(
                subject_id=row.id,
                code=public_code({"uscc": row.uscc, "public_ref": row.public_ref}),
                name=shown_subject_name(row.name, row.kind, "public", policy),
                kind=row.kind,
                uscc=row.uscc,
                division_name=division.full_name if division else None,
                match=match,
                matched_name=shown_subject_name(matched_name, row.kind, "public", policy),
                division_code=row.division_code,
            )
        )
    return hits


# ----------------------------------------------------------------------------------------- the index


def active_build(conn: sa.Connection) -> dict[str, Any] | None:
    row = (
        conn.execute(
            sa.select(search_builds)
            .where(search_builds.c.status == "active")
            .order_by(search_builds.c.id.desc())
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


@dataclass
class BuildSummary:
    build_id: int
    slot: str
    subjects: int
    grams: int
    seconds: float


Progress = Callable[[str, int], None]


def rebuild(
    engine: sa.Engine,
    *,
    clock: Clock,
    chunk: int = 100_000,
    progress: Progress | None = None,
    policy: Policy | None = None,
) -> BuildSummary:
    """Build the whole index into the free slot, then switch searches over to it in one transaction.

    Searches keep using the active slot throughout; writes go in chunked transactions so that a long
    build never holds the database's write lock for long (collection batches keep loading)."""
    started = time.perf_counter()
    policy = policy or load_policy()
    report = progress or (lambda stage, n: None)
    with engine.begin() as conn:
        active = active_build(conn)
        slot = SLOTS[1] if active and active["slot"] == SLOTS[0] else SLOTS[0]
        conn.execute(
            search_builds.update()
            .where(search_builds.c.status == "building", search_builds.c.slot == slot)
            .values(status="failed", finished_at=clock.now())
        )
        conn.execute(search_grams[slot].delete())
        conn.execute(search_gram_stats[slot].delete())
        build_id = conn.execute(
            search_builds.insert()
            .values(slot=slot, status="building", started_at=clock.now())
            .returning(search_builds.c.id)
        ).scalar_one()
    frames: list[pl.DataFrame] = []
    counted = 0
    high_water = 0
    after = 0
    while True:
        with engine.begin() as conn:
            rows = _subject_chunk(conn, after, chunk)
            if not rows:
                break
            after = rows[-1][0]
            high_water = max(high_water, after)
            frame, pinyins = _grams_of(conn, rows, policy)
            _store_pinyin(conn, pinyins)
        frames.append(frame)
        counted += len(rows)
        report("read", counted)
    grams = pl.concat(frames).unique().sort(["gram", "subject_id"]) if frames else _empty_grams()
    stats = grams.group_by("gram").agg(pl.len().cast(pl.Int64).alias("df")).sort("gram")
    step = 500_000
    for start in range(0, grams.height, step):
        with engine.begin() as conn:
            insert_frame(conn, search_grams[slot].name, grams.slice(start, step))
        report("written", min(start + step, grams.height))
    with engine.begin() as conn:
        insert_frame(conn, search_gram_stats[slot].name, stats)
        conn.execute(
            search_builds.update().where(search_builds.c.status == "active").values(status="retired")
        )
        conn.execute(
            search_builds.update()
            .where(search_builds.c.id == build_id)
            .values(
                status="active",
                subjects=counted,
                grams=grams.height,
                max_subject_id=high_water,
                finished_at=clock.now(),
            )
        )
    # The old slot is no longer read by new searches; empty it now to give the space back.
    other = SLOTS[0] if slot == SLOTS[1] else SLOTS[1]
    with engine.begin() as conn:
        conn.execute(search_grams[other].delete())
        conn.execute(search_gram_stats[other].delete())
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(f"VACUUM ANALYZE {search_grams[slot].name}")
            conn.exec_driver_sql(f"VACUUM ANALYZE {search_gram_stats[slot].name}")
    return BuildSummary(build_id, slot, counted, grams.height, time.perf_counter() - started)


def refresh(engine: sa.Engine, *, clock: Clock, policy: Policy | None = None) -> int:
    """Add subjects created since the active build to it (no rebuild); returns how many were added.

    Renamed subjects keep their old name's grams until the next rebuild; the name check at query time
    keeps answers exact, and a renamed subject is still found by its former name."""
    with engine.begin() as conn:
        active = active_build(conn)
        if active is None:
            return 0
        slot = active["slot"]
        rows = _subject_chunk(conn, active["max_subject_id"], None)
        if not rows:
            return 0
        frame, pinyins = _grams_of(conn, rows, policy or load_policy())
        _store_pinyin(conn, pinyins)
        frame = frame.unique()
        grams_table, stats_table = search_grams[slot], search_gram_stats[slot]
        insert_frame(conn, grams_table.name, frame)
        counts = Counter(frame["gram"].to_list())
        known = dict(
            conn.execute(
                sa.select(stats_table.c.gram, stats_table.c.df).where(stats_table.c.gram.in_(list(counts)))
            ).all()
        )
        new = [{"gram": g, "df": n} for g, n in counts.items() if g not in known]
        if new:
            conn.execute(stats_table.insert(), new)
        old = [{"g": g, "df": known[g] + n} for g, n in counts.items() if g in known]
        if old:
            conn.execute(
                stats_table.update()
                .where(stats_table.c.gram == sa.bindparam("g"))
                .values(df=sa.bindparam("df")),
                old,
            )
        conn.execute(
            search_builds.update()
            .where(search_builds.c.id == active["id"])
            .values(
                max_subject_id=rows[-1][0],
                subjects=active["subjects"] + len(rows),
                grams=active["grams"] + frame.height,
                refreshed_at=clock.now(),
            )
        )
        return len(rows)


Row = tuple[int, str, str | None, str]  # id, name, stored pinyin, kind


def _subject_chunk(conn: sa.Connection, after: int, limit: int | None) -> list[Row]:
    query = (
        sa.select(subjects.c.id, subjects.c.name, subjects.c.name_pinyin, subjects.c.kind)
        .where(subjects.c.id > after, subjects.c.status == "active", subjects.c.kind != PERSON)
        .order_by(subjects.c.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return [tuple(r) for r in conn.execute(query)]  # type: ignore[misc]


def _grams_of(
    conn: sa.Connection, rows: Sequence[Row], policy: Policy
) -> tuple[pl.DataFrame, list[tuple[int, str | None]]]:
    """The (subject_id, gram) pairs of these subjects, and the pinyin codes that changed. A name the public
    sees masked (an 个体工商户 under its operator's bare name) is not indexed."""
    ids = [r[0] for r in rows]
    former = conn.execute(
        sa.select(subject_names.c.subject_id, subject_names.c.name).where(
            subject_names.c.subject_id.between(ids[0], ids[-1]), subject_names.c.role == "former"
        )
    ).all()
    kinds = {sid: kind for sid, name, _, kind in rows if not is_person_name(name, kind, policy)}
    names: list[tuple[int, str]] = [(sid, name_key(name)) for sid, name, _, _ in rows if sid in kinds]
    names += [
        (sid, name_key(name))
        for sid, name in former
        if sid in kinds and not is_person_name(name, kinds[sid], policy)
    ]
    pinyins: list[tuple[int, str | None]] = []
    codes: list[tuple[int, str]] = []
    for sid, name, stored, _ in rows:
        # A person's name is not written down in pinyin either: its initials would be that name in clear.
        code = initials(name)[:PINYIN_MAX] if sid in kinds else None
        if code != stored:
            pinyins.append((sid, code))
        if sid in kinds:
            codes += [(sid, variant) for variant in initials_variants(name)]
    keyed = pl.DataFrame(names, schema={"subject_id": pl.Int64, "key": pl.String}, orient="row")
    coded = pl.DataFrame(codes, schema={"subject_id": pl.Int64, "key": pl.String}, orient="row")
    frame = pl.concat([_ngrams(keyed, 2), _ngrams(coded, 3)])
    return frame.select("gram", "subject_id"), pinyins


def _ngrams(frame: pl.DataFrame, n: int) -> pl.DataFrame:
    """Every n-character substring of `key`, vectorised: one row per (subject_id, gram)."""
    if frame.height == 0:
        return _empty_grams()
    spans = frame.filter(pl.col("key").str.len_chars() >= n).with_columns(
        pl.int_ranges(0, pl.col("key").str.len_chars() - n + 1).alias("at")
    )
    return (
        spans.explode("at")
        .select(pl.col("key").str.slice(pl.col("at"), n).alias("gram"), "subject_id")
        .filter(pl.col("gram").str.len_chars() == n)
    )


def _empty_grams() -> pl.DataFrame:
    return pl.DataFrame(schema={"gram": pl.String, "subject_id": pl.Int64})


def _store_pinyin(conn: sa.Connection, changed: Iterable[tuple[int, str | None]]) -> None:
    payload = [{"sid": sid, "code": code} for sid, code in changed]
    if payload:
        conn.execute(
            subjects.update()
            .where(subjects.c.id == sa.bindparam("sid"))
            .values(name_pinyin=sa.bindparam("code")),
            payload,
        )


def index_status(conn: sa.Connection) -> dict[str, Any]:
    active = active_build(conn)
    pending = conn.execute(
        sa.select(sa.func.count())
        .select_from(subjects)
        .where(
            subjects.c.id > (active["max_subject_id"] if active else 0),
            subjects.c.kind != PERSON,
            subjects.c.status == "active",
        )
    ).scalar_one()
    return {
        "active": {k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in active.items()}
        if active
        else None,
        "pending_subjects": pending,
    }
