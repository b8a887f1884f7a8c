"""The scoring model compiled to one SQL SELECT for a warehouse (DuckDB, PostgreSQL, Snowflake, BigQuery, Spark SQL) through sqlglot.

The SQL compiles lead_model.model.semantics (its WHITESPACE, NUMBER_PATTERN,
THOUSANDS_SEPARATOR and ASCII_CASE_FOLDS constants and the model's ``semantics``) and the
engine's rules in lead_model.engine.scoring (caps as in ``_apply_cap``, knock-outs as in
``knock_out_mask``, bands as in ``band_names``, ``mql_rule``, the 'knocked out' tier of
``score_leads``); it re-invents none of them. Every cell is read as its text: the column cast
to text, trimmed of WHITESPACE. Then, per attribute:

- missing: NULL, or a text whose lower case is one of ``semantics.missing_values``;
- categorical: the text equal to a listed level (case counts) scores its points, any other
  text ``other``; boolean: the lower-cased text in ``true_values`` / ``false_values``;
- numeric: the text read by the number patterns, then ``min <= value < next min``.

Every name and value from the model reaches SQL as a sqlglot identifier (always quoted) or
string literal (escaped per dialect), never by pasting text; a character that does not print
(a tab, a line separator, a no-break space) is written as CHR(code point), so the SQL survives
copying and pasting. The trimmed characters are one such expression, in a one-row relation
cross-joined to the leads (``c.whitespace``), so the long list is written once.

Each column the model reads is read once per lead: lateral relations hold, by column name,
its trimmed text (``v``), whether it is missing (``m``) and the number or truth it reads as
(``r``); BigQuery has no LATERAL, so there they are a correlated UNNEST of one STRUCT. A rule
that looks at a value several times (one WHEN per bin) does not trim or parse it again. Trimming is TRIM only when the first or last character
is one of WHITESPACE (a warehouse's TRIM with a set of characters is slow). Where a warehouse
differs from the Python engine, see ``model_sql``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlglot
from sqlglot import exp

from lead_model.engine.scoring import KNOCKED_OUT_TIER, _knock_out_number
from lead_model.errors import LeadModelError
from lead_model.data.roles import FALSE_WORDS, TRUE_WORDS
from lead_model.model.schema import Attribute, Band, KnockOut, ScoringModel
from lead_model.model.semantics import (
    ASCII_CASE_FOLDS,
    NUMBER_PATTERN,
    THOUSANDS_SEPARATOR,
    WHITESPACE,
    Semantics,
    level_key,
)

DIALECTS = ("duckdb", "postgres", "snowflake", "bigquery", "spark")
DIALECT_NAMES = {"duckdb": "DuckDB", "postgres": "PostgreSQL", "snowflake": "Snowflake", "bigquery": "BigQuery", "spark": "Spark SQL"}
SCORE_COLUMNS = ("score", "fit_score", "engagement_score", "grade", "tier", "knocked_out", "is_mql")
POINTS_PREFIX = "points_"
CONSTANTS, WHITESPACE_COLUMN = "c", "whitespace"  # the one-row relation holding the trimmed characters
TEXTS, MISSING, READINGS = "v", "m", "r"  # per lead, by column: its trimmed text, whether it is missing, its number or truth
# A lower-cased text is never a single space (trimming removes it), so it stands in for NULL in the missing list.
_NULL_STAND_IN = " "


def check_dialect(dialect: str) -> str:
    """The dialect's sqlglot name, or LeadModelError listing the five."""
    name = str(dialect).strip().lower()
    aliases = {"postgresql": "postgres", "pg": "postgres", "sparksql": "spark", "spark sql": "spark", "databricks": "spark"}
    name = aliases.get(name, name)
    if name not in DIALECTS:
        raise LeadModelError(f"'{dialect}' is not a dialect the SQL export writes; choose one of {', '.join(DIALECTS)}.")
    return name


def points_column(attribute: str) -> str:
    """The output column holding one attribute's points: ``points_<attribute>``."""
    return f"{POINTS_PREFIX}{attribute}"


def output_columns(model: ScoringModel) -> tuple[str, ...]:
    """The columns the SQL adds after the input columns, in order."""
    return (*(points_column(a.name) for a in model.attributes), "knocked_out", "fit_score", "engagement_score", "score", "grade", "tier", "is_mql")


# ----- the table -----------------------------------------------------------------------
def table_parts(text: str, dialect: str = "duckdb") -> tuple[str, ...]:
    """A table name as typed (``leads``, ``analytics.leads``, ``db."odd.name".leads``) split into its parts, read as ``dialect`` quotes them."""
    dialect = check_dialect(dialect)
    fix = "write name, schema.name or catalog.schema.name, quoting a part that holds dots, spaces or quotes"
    if not str(text).strip():
        raise LeadModelError(f"the table name is empty; {fix}.")
    try:
        parsed = sqlglot.parse_one(str(text), read=dialect, into=exp.Table)
    except sqlglot.errors.SqlglotError:
        parsed = None
    parts = [parsed.args.get(k) for k in ("catalog", "db", "this")] if isinstance(parsed, exp.Table) else []
    extra = [k for k, v in (parsed.args.items() if parts else ()) if v and k not in ("catalog", "db", "this")]
    if not parts or extra or not isinstance(parts[2], exp.Identifier) or not all(p is None or isinstance(p, exp.Identifier) for p in parts):
        raise LeadModelError(f"'{text}' is not a table name; {fix}.")
    return tuple(p.name for p in parts if p is not None)


def _table(table: str | Sequence[str] | exp.Table) -> exp.Table:
    if isinstance(table, exp.Table):
        return table
    parts = (table,) if isinstance(table, str) else tuple(table)
    if not 1 <= len(parts) <= 3 or not all(isinstance(p, str) and p for p in parts):
        raise LeadModelError(f"the table {table!r} is not a name; give 'leads', or parts such as ('analytics', 'leads') or ('db', 'analytics', 'leads').")
    _check_text(parts)
    ids = [exp.to_identifier(p, quoted=True) for p in parts]
    catalog, db, name = [None] * (3 - len(ids)) + ids
    return exp.Table(this=name, db=db, catalog=catalog, alias=exp.TableAlias(this=exp.to_identifier("t", quoted=True)))


def _check_text(values) -> None:
    for v in values:
        if "\x00" in v:
            raise LeadModelError(f"the name or value {v!r} holds a NUL character, which no warehouse stores in text; remove it from the model.")


# ----- the compiler ------------------------------------------------------------------------
def _double(value: float) -> exp.Expression:
    # a string cast, not a numeric literal: DuckDB and PostgreSQL would read 0.1 as a DECIMAL first
    return exp.cast(exp.Literal.string(repr(float(value))), exp.DataType.build("DOUBLE"))


def _int(value: int) -> exp.Literal:
    return exp.Literal.number(int(value))


def _col(name: str, table: str) -> exp.Column:
    _check_text([name])
    return exp.column(name, table=table, quoted=True)


def _sum(terms: list[exp.Expression]) -> exp.Expression:
    total = terms[0] if terms else _int(0)
    for t in terms[1:]:
        total = exp.Add(this=total, expression=t)
    return total


def _capped(total: exp.Expression, cap: int | None) -> exp.Expression:
    """``_apply_cap`` on one lead: the least of the score and the cap (a CASE: LEAST skips NULLs in some warehouses)."""
    if cap is None:
        return total
    return exp.Case(ifs=[exp.If(this=exp.paren(total.copy()) > _int(cap), true=_int(cap))], default=total)


class _Compiler:
    """The expressions of one model in one dialect (Spark's CHR is a byte below 256, so other code points are decoded from UTF-8)."""

    def __init__(self, model: ScoringModel, dialect: str, table: str = "t"):
        self.model = model
        self.semantics = model.semantics
        self.dialect = dialect
        self.table = table

    # ----- values -------------------------------------------------------------------------
    def string(self, value: str) -> exp.Expression:
        """A text as SQL: printable runs as string literals, any other character as CHR(code point), joined by ||."""
        _check_text([value])
        parts: list[exp.Expression] = []
        run = ""
        for ch in value:
            if ch.isprintable():
                run += ch
                continue
            if run:
                parts.append(exp.Literal.string(run))
                run = ""
            parts.append(self._char(ord(ch)))
        if run or not parts:
            parts.append(exp.Literal.string(run))
        out = parts[0]
        for part in parts[1:]:
            out = exp.DPipe(this=out, expression=part, safe=True)
        return out

    def _char(self, code: int) -> exp.Expression:
        if self.dialect == "spark" and code >= 256:
            return exp.func("DECODE", exp.func("UNHEX", exp.Literal.string(chr(code).encode("utf-8").hex().upper())), exp.Literal.string("UTF-8"))
        return exp.func("CHR", exp.Literal.number(code))

    def constants(self) -> exp.Subquery:
        """The one-row relation ``c`` with the trimmed characters (WHITESPACE), written once."""
        row = exp.select(exp.alias_(self.string(WHITESPACE), exp.to_identifier(WHITESPACE_COLUMN, quoted=True)))
        return row.subquery(exp.to_identifier(CONSTANTS, quoted=True))

    # ----- reading a cell, once per lead -----------------------------------------------------
    def kinds(self) -> dict[str, str]:
        """The columns the model reads, in order, each with the kind it is read as."""
        out = {a.name: a.kind for a in self.model.attributes}
        for r in self.model.knockouts:
            out.setdefault(r.attribute, self.knock_out_kind(r))
        return out

    def trimmed(self, column: str) -> exp.Expression:
        """A column's cell as trimmed text (rule 1); NULL stays NULL. TRIM runs only when the first or last character is white space."""
        def raw() -> exp.Expression:
            return exp.cast(_col(column, self.table), exp.DataType.build("VARCHAR"))

        chars = _col(WHITESPACE_COLUMN, CONSTANTS)
        edge = exp.or_(*(exp.StrPosition(this=chars.copy(), substr=end(this=raw(), expression=_int(1))) > _int(0) for end in (exp.Left, exp.Right)))
        return exp.Case(ifs=[exp.If(this=edge, true=exp.Trim(this=raw(), expression=chars.copy()))], default=raw())

    def text(self, column: str) -> exp.Column:
        """The trimmed text of a column the model reads."""
        return _col(column, TEXTS)

    def missing(self, column: str) -> exp.Column:
        """TRUE when the column's value is missing (never NULL)."""
        return _col(column, MISSING)

    def reading(self, column: str) -> exp.Column:
        """The number (numeric) or TRUE/FALSE (boolean; NULL for a value that is neither) a column's value reads as."""
        return _col(column, READINGS)

    def relations(self) -> list[exp.Expression]:
        """What the leads are cross-joined with: the constants, then per lead the texts, the missing flags and the readings."""
        kinds = self.kinds()
        out: list[exp.Expression] = [self.constants()]
        per_lead = (
            (TEXTS, [(self.trimmed(c), c) for c in kinds]),
            (MISSING, [(self.is_missing(self.text(c)), c) for c in kinds]),
            (READINGS, [(self.number(c) if k == "numeric" else self.truth(c), c) for c, k in kinds.items() if k != "categorical"]),
        )
        for name, fields in per_lead:
            if fields:
                out.append(self._per_lead(fields, name))
        return out

    def _per_lead(self, fields: list[tuple[exp.Expression, str]], name: str) -> exp.Expression:
        alias = exp.to_identifier(name, quoted=True)
        if self.dialect == "bigquery":  # no LATERAL: a correlated UNNEST of one STRUCT
            row = exp.Struct(expressions=[exp.PropertyEQ(this=exp.to_identifier(c, quoted=True), expression=e) for e, c in fields])
            return exp.Unnest(expressions=[exp.Array(expressions=[row])], alias=exp.TableAlias(columns=[alias]))
        row = exp.select(*(exp.alias_(e, exp.to_identifier(c, quoted=True)) for e, c in fields))
        return exp.Lateral(this=row.subquery(), alias=exp.TableAlias(this=alias))

    def lowered(self, text: exp.Expression) -> exp.Expression:
        """LOWER as Unicode's simple case mapping gives it for ASCII results (the two folds first, see ASCII_CASE_FOLDS)."""
        for upper, lower in ASCII_CASE_FOLDS.items():
            text = exp.func("REPLACE", text, self._char(ord(upper)), exp.Literal.string(lower))
        return exp.Lower(this=text)

    def is_missing(self, text: exp.Expression) -> exp.Expression:
        """TRUE when the trimmed text is NULL or one of the missing values (ignoring case); never NULL."""
        listed = [self.string(v) for v in (_NULL_STAND_IN, *self.semantics.missing_values)]
        return exp.In(this=exp.Coalesce(this=self.lowered(text.copy()), expressions=[exp.Literal.string(_NULL_STAND_IN)]), expressions=listed)

    def number(self, column: str) -> exp.Expression:
        """The number a value reads as (NUMBER_PATTERN, commas dropped), NULL when missing or beyond the float range."""
        text = self.text(column)
        reads = exp.and_(exp.not_(self.missing(column)), exp.RegexpLike(this=text.copy(), expression=exp.Literal.string(NUMBER_PATTERN)))
        plain = exp.func("REPLACE", text.copy(), exp.Literal.string(THOUSANDS_SEPARATOR), exp.Literal.string(""))
        value = exp.TryCast(this=exp.Case(ifs=[exp.If(this=reads, true=plain)]), to=exp.DataType.build("DOUBLE"))
        # a text beyond the float range casts to infinity in DuckDB and Spark; the rule makes it missing
        for inf in ("Infinity", "-Infinity"):
            value = exp.Nullif(this=value, expression=exp.cast(exp.Literal.string(inf), exp.DataType.build("DOUBLE")))
        return value

    def truth(self, column: str) -> exp.Expression:
        """TRUE for a true word, FALSE for a false word (lower-cased), NULL for anything else, missing values included."""
        ifs = [exp.If(this=self.string(w), true=exp.true()) for w in self.semantics.true_values]
        ifs += [exp.If(this=self.string(w), true=exp.false()) for w in self.semantics.false_values]
        return exp.Case(this=self.lowered(self.text(column)), ifs=ifs) if ifs else exp.null()

    # ----- points, knock-outs, bands --------------------------------------------------------
    def points(self, attr: Attribute) -> exp.Expression:
        """One attribute's points (NULL where the Python engine refuses the file: a boolean value that is neither true nor false)."""
        name = attr.name
        missing = exp.If(this=self.missing(name), true=_int(attr.missing.points))
        if attr.kind == "numeric":
            x = self.reading(name)
            mins = [b.min for b in attr.bins]
            ifs = [exp.If(this=x.copy() >= _double(mins[i]), true=_int(attr.bins[i].points)) for i in range(len(mins) - 1, 0, -1)]
            # missing values that do not read as numbers, and texts that are no number, are both missing
            return exp.Case(ifs=[exp.If(this=x.copy().is_(exp.null()), true=_int(attr.missing.points)), *ifs], default=_int(attr.bins[0].points))
        points = attr.level_points()
        if attr.kind == "boolean":
            yes, no = (_int(points.get(k, attr.other.points)) for k in ("true", "false"))
            truth = self.reading(name)
            return exp.Case(ifs=[missing, exp.If(this=truth.copy(), true=yes), exp.If(this=exp.not_(truth.copy()), true=no)])
        levels = [exp.If(this=exp.EQ(this=self.text(name), expression=self.string(v)), true=_int(p)) for v, p in points.items()]
        return exp.Case(ifs=[missing, *levels], default=_int(attr.other.points))

    def knock_out_kind(self, rule: KnockOut) -> str:
        """The kind a knock-out reads its column as: the model attribute's kind; for a column the model does not score, a guess from the rule."""
        for a in self.model.attributes:
            if a.name == rule.attribute:
                return a.kind
        if rule.below is not None or rule.at_least is not None:
            return "numeric"
        if rule.values and all(isinstance(v, bool) for v in rule.values):
            return "boolean"
        return "categorical"

    def knock_out(self, rule: KnockOut) -> exp.Expression:
        """TRUE where ``rule`` disqualifies the lead (NULL or FALSE elsewhere), as knock_out_mask reads it."""
        sem, name = self.semantics, rule.attribute
        kind = self.knock_out_kind(rule)
        hits: list[exp.Expression] = []
        if kind == "numeric":
            x = self.reading(name)
            if rule.below is not None:
                hits.append(x.copy() < _double(rule.below))
            if rule.at_least is not None:
                hits.append(x.copy() >= _double(rule.at_least))
            if rule.values is not None:
                listed = {_knock_out_number(rule, v) for v in rule.values if not isinstance(v, bool)}
                wanted = sorted(v for v in listed if abs(v) < float("inf"))  # NaN and infinities never equal a number read from text
                if wanted:
                    hits.append(exp.In(this=x.copy(), expressions=[_double(v) for v in wanted]))
            if rule.when_missing:
                hits.append(x.copy().is_(exp.null()))
            return exp.or_(*hits) if hits else exp.false()
        if rule.when_missing:
            hits.append(self.missing(name))
        wanted = {level_key(v) for v in (rule.values or ())}
        present = exp.not_(self.missing(name))
        if kind == "boolean":
            # as knock_out_mask: any yes/no spelling names true or false (the model's own words too)
            true_words, false_words = TRUE_WORDS | set(sem.true_values), FALSE_WORDS | set(sem.false_values)
            truths = {"true" if w.strip().lower() in true_words else "false" if w.strip().lower() in false_words else None for w in wanted} - {None}
            for truth in sorted(truths):
                reading = self.reading(name)
                hits.append(exp.and_(present.copy(), reading if truth == "true" else exp.not_(reading)))
        elif wanted:
            hits.append(exp.and_(present, exp.In(this=self.text(name), expressions=[self.string(w) for w in sorted(wanted)])))
        return exp.or_(*hits) if hits else exp.false()

    def band(self, score: exp.Expression, bands: tuple[Band, ...]) -> list[exp.If]:
        """band_names: the first band (highest first) whose min_score the score reaches; the last catches every other non-NULL score."""
        ifs = [exp.If(this=score.copy() >= _int(b.min_score), true=self.string(b.name)) for b in bands[:-1]]
        return [*ifs, exp.If(this=exp.not_(score.copy().is_(exp.null())), true=self.string(bands[-1].name))]


def _check_names(model: ScoringModel, columns: Sequence[str] | None) -> None:
    seen: dict[str, str] = {}
    for name in output_columns(model):  # DuckDB, BigQuery and Spark match names ignoring case
        if name.casefold() in seen:
            raise LeadModelError(f"the SQL would add two columns named '{seen[name.casefold()]}' and '{name}', which warehouses take for one; "
                                 "rename one of the attributes.")
        seen[name.casefold()] = name
    if columns is not None:
        inputs, how = list(columns), "is passed through"
    else:
        inputs, how = [*model.attribute_names, *(r.attribute for r in model.knockouts)], "is read by the model"
    for name in inputs:
        if name.casefold() in seen:
            raise LeadModelError(
                f"the leads column '{name}' {how} and has the name of a column the SQL adds ('{seen[name.casefold()]}'); "
                "list the columns to pass through without it (columns=, or --column) or rename the column."
            )


def model_expression(model: ScoringModel, table: str | Sequence[str] | exp.Table = "leads", columns: Sequence[str] | None = None,
                     dialect: str = "duckdb") -> exp.Select:
    """The SELECT as a sqlglot expression for ``dialect`` (render it with ``.sql(dialect=...)``); arguments as ``model_sql``."""
    if not isinstance(model, ScoringModel):
        raise LeadModelError(f"model_sql takes a ScoringModel (ScoringModel.from_file), not {type(model).__name__}.")
    dialect = check_dialect(dialect)
    if columns is not None:
        columns = [columns] if isinstance(columns, str) else list(columns)
        if not columns:
            raise LeadModelError("columns is empty; give the input columns to pass through, or None for all of them (t.*).")
        _check_text(columns)
    _check_names(model, columns)
    c = _Compiler(model, dialect)
    t, p, s = "t", "p", "s"

    def alias(e: exp.Expression, name: str) -> exp.Alias:
        _check_text([name])
        return exp.alias_(e, exp.to_identifier(name, quoted=True))

    def star(of: str) -> exp.Column:
        return exp.Column(this=exp.Star(), table=exp.to_identifier(of, quoted=True))

    def over(select: exp.Select, name: str) -> exp.Subquery:
        return select.subquery(exp.to_identifier(name, quoted=True))

    # level 1: the input columns, each attribute's points, the knock-out flag
    passed = [_col(name, t) for name in columns] if columns is not None else [star(t)]
    rules = [c.knock_out(r) for r in model.knockouts]
    knocked = exp.Case(ifs=[exp.If(this=r, true=exp.true()) for r in rules], default=exp.false()) if rules else exp.false()
    level1 = exp.select(*passed, *(alias(c.points(a), points_column(a.name)) for a in model.attributes), alias(knocked, "knocked_out"))
    level1 = level1.from_(_table(table))
    for relation in c.relations():
        level1 = level1.join(relation, join_type="cross")

    # level 2: each group's score with its cap, then the total with its cap (ScoringEngine.shifted_scores)
    def group(g: str) -> exp.Expression:
        return _capped(_sum([_col(points_column(a.name), p) for a in model.attributes if a.group == g]), getattr(model.caps, g))

    level2 = exp.select(star(p), alias(group("fit"), "fit_score"), alias(group("engagement"), "engagement_score")).from_(over(level1, p))
    total = _capped(exp.Add(this=_col("fit_score", p), expression=_col("engagement_score", p)), model.caps.total)
    level3 = exp.select(star(p), alias(total, "score")).from_(over(level2, p))

    # level 4: grade from the fit score, tier from the total (knocked out first, as score_leads), the MQL flag (mql_rule)
    score, ko = _col("score", s), _col("knocked_out", s)
    grade = exp.Case(ifs=c.band(_col("fit_score", s), model.grades))
    tier = exp.Case(ifs=[exp.If(this=ko.copy(), true=c.string(KNOCKED_OUT_TIER)), *c.band(score, model.tiers)])
    mql = exp.and_(score.copy() >= _int(model.mql_threshold), exp.not_(ko.copy()))
    return exp.select(star(s), alias(grade, "grade"), alias(tier, "tier"), alias(mql, "is_mql")).from_(over(level3, s))


def model_sql(model: ScoringModel, dialect: str = "duckdb", table: str | Sequence[str] = "leads", columns: list[str] | None = None,
              pretty: bool = True) -> str:
    """The model as one SQL SELECT over the leads table, in ``dialect`` (one of DIALECTS).

    ``table`` is one name, never split (``"my.leads"`` is a table whose name holds a dot), or
    its parts: ``("analytics", "leads")``, ``("db", "analytics", "leads")`` (``table_parts``
    splits a typed ``analytics.leads``). ``columns`` are the input columns passed through, in
    order (default: all, ``t.*``); the attribute columns are read whether passed or not.

    Out come the input columns, then ``points_<attribute>`` per attribute (model order),
    ``knocked_out``, ``fit_score``, ``engagement_score``, ``score``, ``grade``, ``tier`` (``'knocked
    out'`` for knocked-out leads) and ``is_mql``: per lead exactly ``score_leads``. Every
    identifier is quoted, so any attribute name makes a valid ``points_`` alias (in PostgreSQL
    and Snowflake quoted names are case-sensitive: select them as ``"score"``). An input column
    read or passed through that has the name of an added column (compared ignoring case, as
    DuckDB, BigQuery and Spark do) raises LeadModelError: pass ``columns`` without it.

    Where the SQL can differ from the Python engine, which reads the file itself:

    - a boolean value that is neither true nor false: Python refuses the file; the SQL gives
      NULL points, so NULL scores, grade and tier;
    - a column the warehouse holds as numbers is read as the warehouse writes it as text
      (a DOUBLE 3 is '3.0' in DuckDB, the Python engine's label is '3'), which matters for a
      categorical attribute over such a column only; missing values that read as numbers are
      applied to it too (the Python engine applies missing values to text columns only);
    - a number beyond the float range is missing; PostgreSQL raises an error instead (it has
      no TRY_CAST); Snowflake writes some doubles as text with fewer digits;
    - the default binary collation is assumed (a case-insensitive collation would merge levels).
    """
    dialect = check_dialect(dialect)
    return model_expression(model, table, columns, dialect).sql(dialect=dialect, pretty=pretty)


__all__ = ["DIALECTS", "DIALECT_NAMES", "POINTS_PREFIX", "SCORE_COLUMNS", "check_dialect", "model_expression", "model_sql", "output_columns",
           "points_column", "table_parts"]
