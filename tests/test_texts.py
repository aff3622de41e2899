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


def test_a_thread_that_was_not_told_follows_the_session():
    """A fragment reruns in a fresh thread without app.py: it reads the language source."""
    import threading

    seen = []
    try:
        texts.follow(lambda: "ko")
        worker = threading.Thread(target=lambda: seen.append(texts.t("nav.race")))
        worker.start()
        worker.join()
        texts.follow(lambda: "xx")  # an unknown language falls back to English
        worker = threading.Thread(target=lambda: seen.append(texts.current_language()))
        worker.start()
        worker.join()
    finally:
        texts.follow(None)
    assert seen == [texts.strings("ko")["nav.race"], "en"]
