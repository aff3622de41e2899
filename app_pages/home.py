"""Home: what Descent Lab is, where to go, and where each idea of the course lives."""

import streamlit as st

from texts import t, table

st.title(t("home.title"))
st.markdown(f"#### {t('home.tagline')}")
st.markdown(t("home.intro"))

race, network = st.columns(2, gap="large")
with race, st.container(border=True):
    st.subheader(t("home.race_title"))
    st.markdown(t("home.race_body"))
    st.page_link("app_pages/race.py", label=t("home.race_link"), icon=":material/sports_score:")
with network, st.container(border=True):
    st.subheader(t("home.network_title"))
    st.markdown(t("home.network_body"))
    st.page_link("app_pages/network.py", label=t("home.network_link"), icon=":material/hub:")
    st.page_link("app_pages/network.py", label=t("overfit.home_link"),
                 icon=":material/trending_up:", query_params={"sc": "overfitting"})

backprop, functions = st.columns(2, gap="large")
with backprop, st.container(border=True):
    st.subheader(t("home.backprop_title"))
    st.markdown(t("home.backprop_body"))
    st.page_link("app_pages/backprop.py", label=t("home.backprop_link"),
                 icon=":material/account_tree:")
with functions, st.container(border=True):
    st.subheader(t("home.functions_title"))
    st.markdown(t("home.functions_body"))
    st.page_link("app_pages/functions.py", label=t("home.functions_link"),
                 icon=":material/function:")

with st.container(border=True):
    st.subheader(t("home.lab_title"))
    st.markdown(t("home.lab_body"))
    st.page_link("app_pages/lab.py", label=t("home.lab_link"), icon=":material/science:")

st.subheader(t("home.concepts_title"))
st.markdown(t("home.concepts_intro"))
rows = "\n".join(f"| {concept} | {where} |" for concept, where in table("home.concepts").values())
st.markdown(f"| {t('home.col_concept')} | {t('home.col_where')} |\n|---|---|\n{rows}")

st.subheader(t("home.teacher_title"))
st.markdown(t("home.teacher_body"))
