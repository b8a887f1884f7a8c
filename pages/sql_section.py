"""The Export page's SQL section: the model as one SELECT for the team's warehouse (lead_model.export.sql).

Called by pages/export.py (``draw(model)``). The SQL is built by the core and cached by what it
depends on (the model, the dialect, the table name); st.code's copy button copies it.
"""

from __future__ import annotations

import streamlit as st

from lead_model.errors import LeadModelError
from lead_model.export.sql import DIALECT_NAMES, DIALECTS, model_sql, sql_file_name, table_parts
from lead_model.model.schema import ScoringModel
from pages.messages import for_app

DIALECT_KEY, TABLE_KEY = "sql_dialect", "sql_table"


@st.cache_data(max_entries=32, show_spinner=False)
def _sql(model_json: str, dialect: str, table: str) -> str:
    model = ScoringModel.from_text(model_json, yaml_format=False)
    return model_sql(model, dialect, table=table_parts(table, dialect))


def draw(model: ScoringModel) -> None:
    st.divider()
    st.subheader("SQL for your warehouse")
    st.caption("One SELECT over your leads table that scores every lead as the Designer does: the table's columns, then the points of each "
               "attribute, knocked_out, fit_score, engagement_score, score, grade, tier and is_mql. Names and values are quoted for the warehouse.")
    c1, c2 = st.columns([1, 2])
    dialect = c1.selectbox("Warehouse", DIALECTS, format_func=DIALECT_NAMES.get, key=DIALECT_KEY)
    table = c2.text_input("Leads table", value="leads", key=TABLE_KEY,
                          help="name, schema.name or catalog.schema.name; quote a part that holds dots or spaces as your warehouse quotes names.")
    try:
        sql = _sql(model.to_json(), dialect, table)
    except LeadModelError as exc:
        st.error(for_app(exc))
        return
    st.download_button("Download SQL", sql, file_name=sql_file_name(model, dialect), mime="application/sql", on_click="ignore",
                       key="download_sql", icon=":material/database:")
    st.code(sql, language="sql", height=420)
