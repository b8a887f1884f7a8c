"""The scoring model compiled to one SQL SELECT for a warehouse (DuckDB, PostgreSQL, Snowflake, BigQuery, Spark SQL) through sqlglot.

The SQL compiles lead_model.model.semantics (its WHITESPACE, NUMBER_PATTERN,
THOUSANDS_SEPARATOR and ASCII_CASE_FOLDS constants and the model's ``semantics``) and the
engine's rules in lead_model.engine.scoring (caps as in ``_apply_cap``, knock-outs as in
``knock_out_mask``, bands as in ``band_names``, ``mql_rule``, the tier ``KNOCKED_OUT_TIER`` of
``score_leads``); it re-invents none of them. Every cell is read as its text: the column cast
to text, trimmed of WHITESPACE. Then, per attribute:

- missing: NULL, or a text whose lower case is one of ``semantics.missing_values``;
- categorical: a text equal to a listed level (case counts) scores its points, any other
  text ``other``; boolean: the lower-cased text in ``true_values`` / ``false_values``;
- numeric: the text read by NUMBER_PATTERN (commas dropped), then ``min <= value < next min``.

Every name and value from the model reaches SQL as a sqlglot identifier (always quoted) or
string literal (escaped per dialect by sqlglot), never by pasting text. A character that does
not print (a tab, a line separator, a no-break space) is written as CHR(code point), so the
SQL survives copying and pasting; the trimmed characters are one such expression, written
once, in a one-row relation ``c`` cross-joined to the leads.

Each column the model reads is read once per lead: lateral relations hold, by column name,
its trimmed text (``v``), whether it is missing (``m``) and the number or truth it reads as
(``r``); BigQuery has no LATERAL, so there they are a correlated UNNEST of one STRUCT. So a
rule that looks at a value several times (one WHEN per bin) does not trim or parse it again,
and TRIM (slow with a set of characters) runs only when the first or last character is white
space. Where a warehouse can differ from the Python engine, see ``model_sql``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlglot
from sqlglot import exp

from lead_model.data.roles import FALSE_WORDS, TRUE_WORDS
from lead_model.engine.scoring import KNOCKED_OUT_TIER, _knock_out_number
from lead_model.errors import LeadModelError
from lead_model.model.schema import Attribute, Band, KnockOut, ScoringModel
from lead_model.model.semantics import ASCII_CASE_FOLDS, NUMBER_PATTERN, THOUSANDS_SEPARATOR, WHITESPACE, level_key

DIALECTS = ("duckdb", "postgres", "snowflake", "bigquery", "spark")
DIALECT_NAMES = {"duckdb": "DuckDB", "postgres": "PostgreSQL", "snowflake": "Snowflake", "bigquery": "BigQuery", "spark": "Spark SQL"}
_ALIASES = {"postgresql": "postgres", "pg": "postgres", "sparksql": "spark", "spark sql": "spark"}
SCORE_COLUMNS = ("score", "fit_score", "engagement_score", "grade", "tier", "knocked_out", "is_mql")
POINTS_PREFIX = "points_"
LEADS, CONSTANTS, WHITESPACE_COLUMN = "t", "c", "whitespace"  # the leads' alias; the one-row relation of the trimmed characters
TEXTS, MISSING, READINGS = "v", "m", "r"  # per lead, by column: its trimmed text, whether it is missing, its number or truth
# A lower-cased text is never a single space (trimming removes it), so it stands in for NULL in the missing list.
_NULL_STAND_IN = " "


def check_dialect(dialect: str) -> str:
    """The dialect's sqlglot name ('postgresql' -> 'postgres'), or LeadModelError listing the five."""
    name = str(dialect).strip().lower()
    name = _ALIASES.get(name, name)
    if name not in DIALECTS:
        raise LeadModelError(f"'{dialect}' is not a dialect the SQL export writes; choose one of {', '.join(DIALECTS)}.")
    return name


def points_column(attribute: str) -> str:
    """The output column holding one attribute's points: ``points_<attribute>``."""
    return f"{POINTS_PREFIX}{attribute}"


def output_columns(model: ScoringModel) -> tuple[str, ...]:
    """The columns the SQL adds after the input columns, in their order."""
    return (*(points_column(a.name) for a in model.attributes), "knocked_out", "fit_score", "engagement_score", "score", "grade", "tier", "is_mql")


# ----- names -------------------------------------------------------------------------------
def _check_text(*values: str) -> None:
    for v in values:
        if "\x00" in v:
            raise LeadModelError(f"the name or value {v!r} holds a NUL character, which warehouses do not store in text; remove it from the model.")


def _id(name: str) -> exp.Identifier:
    _check_text(name)
    return exp.to_identifier(name, quoted=True)


def _col(name: str, table: str) -> exp.Column:
    return exp.Column(this=_id(name), table=_id(table))


def _star(table: str) -> exp.Column:
    return exp.Column(this=exp.Star(), table=_id(table))


def table_parts(text: str, dialect: str = "duckdb") -> tuple[str, ...]:
    """A table name as typed (``leads``, ``analytics.leads``, ``db."odd.name".leads``) split into its parts, read with ``dialect``'s quoting."""
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


def _table(table: str | Sequence[str], dialect: str) -> exp.Table:
    parts = (table,) if isinstance(table, str) else tuple(table)
    if not 1 <= len(parts) <= 3 or not all(isinstance(p, str) and p for p in parts):
        raise LeadModelError(f"the table {table!r} is not a name; give 'leads', or its parts: ('analytics', 'leads') or ('db', 'analytics', 'leads').")
    if dialect == "bigquery" and any("." in p for p in parts):  # BigQuery reads a dot inside backticks as a path separator
        raise LeadModelError(f"BigQuery names cannot hold a dot ({'.'.join(parts)!r}); give the project, dataset and table as parts.")
    catalog, db, name = [None] * (3 - len(parts)) + [_id(p) for p in parts]
    return exp.Table(this=name, db=db, catalog=catalog, alias=exp.TableAlias(this=_id(LEADS)))


# ----- small builders (each node is built fresh, so nothing is deep-copied) ------------------
def _int(value: int) -> exp.Literal:
    return exp.Literal.number(int(value))


def _double(value: float) -> exp.Expression:
    # a string cast, not a numeric literal: DuckDB and PostgreSQL would read 0.1 as a DECIMAL first
    return exp.Cast(this=exp.Literal.string(repr(float(value))), to=exp.DataType.build("DOUBLE"))


def _wrap(e: exp.Expression) -> exp.Expression:
    return exp.Paren(this=e) if isinstance(e, exp.Connector) else e


def _and(*parts: exp.Expression) -> exp.Expression:
    out = _wrap(parts[0])
    for p in parts[1:]:
        out = exp.And(this=out, expression=_wrap(p))
    return out


def _or(*parts: exp.Expression) -> exp.Expression:
    if not parts:
        return exp.false()
    out = _wrap(parts[0])
    for p in parts[1:]:
        out = exp.Or(this=out, expression=_wrap(p))
    return out


def _not(e: exp.Expression) -> exp.Not:
    return exp.Not(this=_wrap(e))


def _is_null(e: exp.Expression) -> exp.Is:
    return exp.Is(this=e, expression=exp.Null())


def _case(ifs: list[tuple[exp.Expression, exp.Expression]], default: exp.Expression | None = None) -> exp.Case:
    return exp.Case(ifs=[exp.If(this=cond, true=then) for cond, then in ifs], default=default)


def _sum(terms: list[exp.Expression]) -> exp.Expression:
    total = terms[0] if terms else _int(0)
    for t in terms[1:]:
        total = exp.Add(this=total, expression=t)
    return total


def _capped(make_total, cap: int | None) -> exp.Expression:
    """``_apply_cap`` for one lead: the least of the score and the cap (a CASE, since LEAST skips NULLs in some warehouses)."""
    if cap is None:
        return make_total()
    return _case([(exp.GT(this=exp.Paren(this=make_total()), expression=_int(cap)), _int(cap))], make_total())


def _select(expressions: list[exp.Expression], source: exp.Expression) -> exp.Select:
    return exp.Select(expressions=expressions).from_(source, copy=False)


def _subquery(select: exp.Select, alias: str) -> exp.Subquery:
    return exp.Subquery(this=select, alias=exp.TableAlias(this=_id(alias)))


def _alias(e: exp.Expression, name: str) -> exp.Alias:
    return exp.Alias(this=e, alias=_id(name))


# ----- the compiler --------------------------------------------------------------------------
class _Compiler:
    """The expressions of one model in one dialect."""

    def __init__(self, model: ScoringModel, dialect: str):
        self.model = model
        self.semantics = model.semantics
        self.dialect = dialect

    # ----- text values ---------------------------------------------------------------------
    def string(self, value: str) -> exp.Expression:
        """A text as SQL: printable runs as string literals, any other character as CHR(code point), joined by ||."""
        _check_text(value)
        parts: list[exp.Expression] = []
        run = ""
        for ch in value:
            if ch.isprintable():
                run += ch
                continue
            if run:
                parts.append(exp.Literal.string(run))
                run = ""
            parts.append(self.char(ord(ch)))
        if run or not parts:
            parts.append(exp.Literal.string(run))
        out = parts[0]
        for part in parts[1:]:
            out = exp.DPipe(this=out, expression=part, safe=True)
        return out

    def char(self, code: int) -> exp.Expression:
        """One character by code point (Spark's CHR takes a byte, so above 255 it is decoded from UTF-8)."""
        if self.dialect == "spark" and code >= 256:
            return exp.func("DECODE", exp.func("UNHEX", exp.Literal.string(chr(code).encode("utf-8").hex().upper())), exp.Literal.string("UTF-8"))
        return exp.func("CHR", exp.Literal.number(code))

    def constants(self) -> exp.Subquery:
        """The one-row relation ``c`` with the trimmed characters (WHITESPACE), written once."""
        return _subquery(exp.Select(expressions=[_alias(self.string(WHITESPACE), WHITESPACE_COLUMN)]), CONSTANTS)

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
            return exp.Cast(this=_col(column, LEADS), to=exp.DataType.build("VARCHAR"))

        def at_edge(end) -> exp.Expression:
            return exp.GT(this=exp.StrPosition(this=_col(WHITESPACE_COLUMN, CONSTANTS), substr=end(this=raw(), expression=_int(1))), expression=_int(0))

        return _case([(_or(at_edge(exp.Left), at_edge(exp.Right)), exp.Trim(this=raw(), expression=_col(WHITESPACE_COLUMN, CONSTANTS)))], raw())

    def lowered(self, text: exp.Expression) -> exp.Expression:
        """LOWER as Unicode's simple case mapping gives it for ASCII results: the two folds of ASCII_CASE_FOLDS first,
        except in DuckDB, whose LOWER is that mapping already."""
        if self.dialect != "duckdb":
            for upper, lower in ASCII_CASE_FOLDS.items():
                text = exp.func("REPLACE", text, self.char(ord(upper)), exp.Literal.string(lower))
        return exp.Lower(this=text)

    def is_missing(self, column: str) -> exp.Expression:
        """TRUE when the trimmed text is NULL or one of the missing values (ignoring case); never NULL."""
        lowered = exp.Coalesce(this=self.lowered(_col(column, TEXTS)), expressions=[exp.Literal.string(_NULL_STAND_IN)])
        return exp.In(this=lowered, expressions=[self.string(v) for v in (_NULL_STAND_IN, *self.semantics.missing_values)])

    def number(self, column: str) -> exp.Expression:
        """The number a value reads as (NUMBER_PATTERN, commas dropped), NULL when missing or beyond the float range."""
        reads = _and(_not(_col(column, MISSING)), exp.RegexpLike(this=_col(column, TEXTS), expression=exp.Literal.string(NUMBER_PATTERN)))
        plain = exp.func("REPLACE", _col(column, TEXTS), exp.Literal.string(THOUSANDS_SEPARATOR), exp.Literal.string(""))
        value: exp.Expression = exp.TryCast(this=_case([(reads, plain)]), to=exp.DataType.build("DOUBLE"))
        # a text beyond the float range casts to infinity in DuckDB and Spark; the rule makes it missing
        for inf in ("Infinity", "-Infinity"):
            value = exp.Nullif(this=value, expression=exp.Cast(this=exp.Literal.string(inf), to=exp.DataType.build("DOUBLE")))
        return value

    def truth(self, column: str) -> exp.Expression:
        """TRUE for a true word, FALSE for a false word (lower-cased), NULL for anything else (missing values included)."""
        words = [(w, exp.true()) for w in self.semantics.true_values] + [(w, exp.false()) for w in self.semantics.false_values]
        if not words:
            return exp.Null()
        return exp.Case(this=self.lowered(_col(column, TEXTS)), ifs=[exp.If(this=self.string(w), true=b) for w, b in words])

    def relations(self) -> list[exp.Expression]:
        """What the leads are cross-joined with: the constants, then per lead the texts, the missing flags and the readings."""
        kinds = self.kinds()
        per_lead = (
            (TEXTS, [(c, self.trimmed(c)) for c in kinds]),
            (MISSING, [(c, self.is_missing(c)) for c in kinds]),
            (READINGS, [(c, self.number(c) if k == "numeric" else self.truth(c)) for c, k in kinds.items() if k != "categorical"]),
        )
        return [self.constants(), *(self.per_lead(name, fields) for name, fields in per_lead if fields)]

    def per_lead(self, name: str, fields: list[tuple[str, exp.Expression]]) -> exp.Expression:
        if self.dialect == "bigquery":  # no LATERAL: a correlated UNNEST of one STRUCT
            row = exp.Struct(expressions=[exp.PropertyEQ(this=_id(c), expression=e) for c, e in fields])
            return exp.Unnest(expressions=[exp.Array(expressions=[row])], alias=exp.TableAlias(columns=[_id(name)]))
        row = exp.Select(expressions=[_alias(e, c) for c, e in fields])
        return exp.Lateral(this=exp.Subquery(this=row), alias=exp.TableAlias(this=_id(name)))

    # ----- points, knock-outs, bands --------------------------------------------------------
    def points(self, attr: Attribute) -> exp.Expression:
        """One attribute's points (NULL where the Python engine refuses the file: a boolean value that is neither true nor false)."""
        name = attr.name
        if attr.kind == "numeric":
            # NULL: a missing value, or a text that reads as no number; the last bin whose min the value reaches
            ifs = [(_is_null(_col(name, READINGS)), _int(attr.missing.points))]
            ifs += [(exp.GTE(this=_col(name, READINGS), expression=_double(b.min)), _int(b.points)) for b in reversed(attr.bins[1:])]
            return _case(ifs, _int(attr.bins[0].points))
        points = attr.level_points()
        missing = (_col(name, MISSING), _int(attr.missing.points))
        if attr.kind == "boolean":
            yes, no = (_int(points.get(k, attr.other.points)) for k in ("true", "false"))
            return _case([missing, (_col(name, READINGS), yes), (_not(_col(name, READINGS)), no)])
        levels = [(exp.EQ(this=_col(name, TEXTS), expression=self.string(v)), _int(p)) for v, p in points.items()]
        return _case([missing, *levels], _int(attr.other.points))

    def knock_out_kind(self, rule: KnockOut) -> str:
        """The kind a knock-out reads its column as: the attribute's kind; for a column the model does not score, a guess from the rule."""
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
            if rule.below is not None:
                hits.append(exp.LT(this=_col(name, READINGS), expression=_double(rule.below)))
            if rule.at_least is not None:
                hits.append(exp.GTE(this=_col(name, READINGS), expression=_double(rule.at_least)))
            if rule.values is not None:
                listed = {_knock_out_number(rule, v) for v in rule.values if not isinstance(v, bool)}
                wanted = sorted(v for v in listed if abs(v) < float("inf"))  # NaN and infinities never equal a number read from text
                if wanted:
                    hits.append(exp.In(this=_col(name, READINGS), expressions=[_double(v) for v in wanted]))
            if rule.when_missing:
                hits.append(_is_null(_col(name, READINGS)))
            return _or(*hits)
        if rule.when_missing:
            hits.append(_col(name, MISSING))
        wanted = {level_key(v) for v in (rule.values or ())}
        if kind == "boolean":
            # as knock_out_mask: any yes/no spelling names true or false (the model's own words too)
            true_words, false_words = TRUE_WORDS | set(sem.true_values), FALSE_WORDS | set(sem.false_values)
            for w in sorted(wanted):
                low = w.strip().lower()
                truth = "true" if low in true_words else "false" if low in false_words else None
                if truth is not None:
                    hit = _col(name, READINGS) if truth == "true" else _not(_col(name, READINGS))
                    hits.append(_and(_not(_col(name, MISSING)), hit))
        elif wanted:
            listed = exp.In(this=_col(name, TEXTS), expressions=[self.string(w) for w in sorted(wanted)])
            hits.append(_and(_not(_col(name, MISSING)), listed))
        return _or(*hits)

    def band(self, score: str, bands: tuple[Band, ...], table: str) -> list[tuple[exp.Expression, exp.Expression]]:
        """band_names: the first band (highest first) whose min_score the score reaches; the last catches every other non-NULL score."""
        ifs = [(exp.GTE(this=_col(score, table), expression=_int(b.min_score)), self.string(b.name)) for b in bands[:-1]]
        return [*ifs, (_not(_is_null(_col(score, table))), self.string(bands[-1].name))]


def _check_names(model: ScoringModel, columns: Sequence[str] | None) -> None:
    seen: dict[str, str] = {}
    for name in output_columns(model):  # DuckDB, BigQuery and Spark match names ignoring case
        if name.casefold() in seen:
            raise LeadModelError(f"the SQL would add two columns named '{seen[name.casefold()]}' and '{name}', which warehouses take for one; "
                                 "rename one of the attributes.")
        seen[name.casefold()] = name
    read: dict[str, str] = {}
    for name in [*model.attribute_names, *(r.attribute for r in model.knockouts)]:
        if name.casefold() in read and read[name.casefold()] != name:
            raise LeadModelError(f"the model reads columns '{read[name.casefold()]}' and '{name}', which DuckDB, BigQuery and Spark take for one; "
                                 "rename one of them.")
        read[name.casefold()] = name
    inputs, how = (list(columns), "is passed through") if columns is not None else (list(read.values()), "is read by the model")
    for name in inputs:
        if name.casefold() in seen:
            raise LeadModelError(
                f"the leads column '{name}' {how} and has the name of a column the SQL adds ('{seen[name.casefold()]}'); "
                "list the columns to pass through without it (columns=, or --column) or rename the column."
            )


def model_expression(model: ScoringModel, table: str | Sequence[str] = "leads", columns: Sequence[str] | None = None,
                     dialect: str = "duckdb") -> exp.Select:
    """The SELECT as a sqlglot expression for ``dialect`` (render it with ``.sql(dialect=...)``); arguments as ``model_sql``."""
    if not isinstance(model, ScoringModel):
        raise LeadModelError(f"the SQL export takes a ScoringModel (ScoringModel.from_file), not {type(model).__name__}.")
    dialect = check_dialect(dialect)
    if columns is not None:
        columns = [columns] if isinstance(columns, str) else list(columns)
        if not columns or not all(isinstance(c, str) and c for c in columns):
            raise LeadModelError("columns must name the input columns to pass through (or be None for all of them, t.*).")
    _check_names(model, columns)
    c = _Compiler(model, dialect)
    p, s = "p", "s"

    # level 1: the input columns, each attribute's points, the knock-out flag
    passed = [_col(name, LEADS) for name in columns] if columns is not None else [_star(LEADS)]
    rules = [c.knock_out(r) for r in model.knockouts]
    knocked = _case([(r, exp.true()) for r in rules], exp.false()) if rules else exp.false()
    level1 = _select([*passed, *(_alias(c.points(a), points_column(a.name)) for a in model.attributes), _alias(knocked, "knocked_out")], _table(table, dialect))
    for relation in c.relations():
        level1 = level1.join(relation, join_type="cross", copy=False)

    # level 2: each group's score with its cap; level 3: the total with its cap (ScoringEngine.shifted_scores)
    def group(g: str) -> exp.Expression:
        return _capped(lambda: _sum([_col(points_column(a.name), p) for a in model.attributes if a.group == g]), getattr(model.caps, g))

    level2 = _select([_star(p), _alias(group("fit"), "fit_score"), _alias(group("engagement"), "engagement_score")], _subquery(level1, p))
    total = _capped(lambda: exp.Add(this=_col("fit_score", p), expression=_col("engagement_score", p)), model.caps.total)
    level3 = _select([_star(p), _alias(total, "score")], _subquery(level2, p))

    # level 4: the grade from the fit score, the tier from the total (knocked out first, as score_leads), the MQL flag (mql_rule)
    grade = _case(c.band("fit_score", model.grades, s))
    tier = _case([(_col("knocked_out", s), c.string(KNOCKED_OUT_TIER)), *c.band("score", model.tiers, s)])
    mql = _and(exp.GTE(this=_col("score", s), expression=_int(model.mql_threshold)), _not(_col("knocked_out", s)))
    return _select([_star(s), _alias(grade, "grade"), _alias(tier, "tier"), _alias(mql, "is_mql")], _subquery(level3, s))


def model_sql(model: ScoringModel, dialect: str = "duckdb", table: str | Sequence[str] = "leads", columns: list[str] | None = None,
              pretty: bool = True) -> str:
    """The model as one SQL SELECT over the leads table, in ``dialect`` (one of DIALECTS).

    ``table`` is one name, never split (``"my.leads"`` is a table whose name holds a dot), or
    its parts: ``("analytics", "leads")``, ``("db", "analytics", "leads")`` (``table_parts``
    splits a typed ``analytics.leads``). ``columns`` are the input columns passed through, in
    order (default: all of them, ``t.*``); the columns the model reads are read either way.

    Out come the input columns, then ``points_<attribute>`` per attribute (model order),
    ``knocked_out``, ``fit_score``, ``engagement_score``, ``score``, ``grade``, ``tier`` (``'knocked
    out'`` for knocked-out leads) and ``is_mql``: per lead exactly what ``score_leads`` gives.
    Every identifier is quoted, so any attribute name makes a valid ``points_`` alias (in
    PostgreSQL and Snowflake quoted names are case-sensitive: select them as ``"score"``). A
    column read or passed through that has the name of an added column, compared ignoring case
    as DuckDB, BigQuery and Spark compare names, raises LeadModelError: pass ``columns`` without it.
    There is no ORDER BY (warehouses keep no row order): order the result by the table's lead id.

    Where the SQL can differ from the Python engine, which reads the file itself:

    - a boolean value that is neither true nor false: the Python engine refuses the file; the
      SQL gives NULL points, so NULL scores, grade and tier;
    - a column the warehouse holds as numbers is read as the warehouse writes it as text (a
      DOUBLE 3 is '3.0' in DuckDB, where the Python engine's level is '3'), which matters for a
      categorical attribute over such a column; and missing values that read as numbers apply
      to it (the Python engine applies missing values to text columns only);
    - a number beyond the float range is missing, but PostgreSQL (no TRY_CAST) raises an error;
    - the default binary collation is assumed (a case-insensitive collation would merge levels).
    """
    dialect = check_dialect(dialect)
    return model_expression(model, table, columns, dialect).sql(dialect=dialect, pretty=pretty)


def sql_file_name(model: ScoringModel, dialect: str) -> str:
    """'revops_lead_score_snowflake.sql': the model's name as the Export page names its downloads, then the dialect."""
    from lead_model.formatting import file_stem

    return f"{file_stem(model.metadata.name)}_{check_dialect(dialect)}.sql"


__all__ = ["DIALECTS", "DIALECT_NAMES", "POINTS_PREFIX", "SCORE_COLUMNS", "check_dialect", "model_expression", "model_sql", "output_columns",
           "points_column", "sql_file_name", "table_parts"]
