import texts


def test_lookup_and_format():
    texts.use("en")
    assert texts.t("nav.race") == "Optimizer race"
    assert "alpha" in texts.t("common.bad_url", names="alpha")


def test_unknown_key_and_language_fall_back():
    texts.use("xx")  # not a language we have
    assert texts.current_language() == "en"
    assert texts.t("no.such.key") == "no.such.key"


def test_languages_lists_english():
    assert texts.languages()["en"] == "English"
