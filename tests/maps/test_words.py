

def test_reasons_in_words_without_the_engine_prefix():
    from maps.i18n import reason_text

    engine = "not classifiable: fewer than 300 residents or population unknown"
    assert reason_text(engine, "de") == "weniger als 300 Einwohner oder Einwohnerzahl unbekannt"
    assert reason_text(engine, "en") == "fewer than 300 residents or population unknown"
    assert reason_text("not classifiable: no district statistics published", "de") == \
        "keine Ortsteilstatistik veröffentlicht"
    assert reason_text("", "de") == ""
