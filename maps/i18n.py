"""German labels with English as the switch: one small dictionary, no framework.

``t(key, lang)`` returns the German text for ``lang="de"`` (the default) and the English one for ``"en"``;
an unknown key is returned unchanged, so a missing translation shows up as the key instead of failing.
Indicator labels come from :data:`geo.pipeline.indicators.REGISTRY`.
"""

from __future__ import annotations

import re

from geo.pipeline.indicators import REGISTRY

LANGS = ("de", "en")

TEXT: dict[str, tuple[str, str]] = {
    # layers and groups
    "group.programme": ("Programm", "Programme"),
    "group.indicators": ("Indikatoren", "Indicators"),
    "group.analysis": ("Analyse", "Analysis"),
    "layer.designations": ("Offizielle Fördergebiete", "Official designations"),
    "layer.categories": ("Programmkategorien (Statistik)", "Programme categories (statistics)"),
    "layer.status": ("Statusklasse", "Status class"),
    "layer.dynamics": ("Dynamikklasse", "Dynamics class"),
    "layer.hotspots": ("Hot Spots (Local Moran's I)", "Hot spots (Local Moran's I)"),
    "layer.district_type": ("Quartierstypen", "District types"),
    "layer.outline": ("Nur Umrisse", "Outlines only"),
    "group.need": ("Bedarfsindikatoren", "Need indicators"),
    "group.context": ("Kontext (beschreibend, kein Bedarfsmerkmal)", "Context (descriptive, not a need indicator)"),
    "layer.context_suffix": ("Kontext", "context"),
    # categories
    "cat.win": ("WiN-Gebiet (indiziert)", "WiN area (indicated)"),
    "cat.kleinstquartier": ("Kleinstquartier", "Very small district"),
    "cat.sonderquartier": ("Sonderquartier", "Special district"),
    "cat.quartier_im_werden": ("Quartier im Werden", "Emerging district"),
    "cat.watch_list": ("Beobachtungsliste", "Watch list"),
    "cat.phase_out_candidate": ("Auslaufkandidat", "Phase-out candidate"),
    "cat.none": ("Keine Kategorie", "No category"),
    # national screening categories (programmes/germany-screening.yml)
    "cat.very_high_need": ("Sehr hohe soziale Herausforderungen", "Very high social challenges"),
    "cat.high_need": ("Hohe soziale Herausforderungen", "High social challenges"),
    "cat.child_poverty_hotspot": ("Schwerpunkt Kinderarmut", "Child poverty hotspot"),
    "cat.shrinking_with_need": ("Schrumpfend mit hohem Bedarf", "Shrinking with high need"),
    "cat.not_classifiable": ("Nicht klassifizierbar", "Not classifiable"),
    # status and dynamics classes
    "status.high": ("hoch", "high"),
    "status.medium": ("mittel", "medium"),
    "status.low": ("niedrig", "low"),
    "status.very_low": ("sehr niedrig", "very low"),
    "dynamics.positive": ("positiv", "positive"),
    "dynamics.stable": ("stabil", "stable"),
    "dynamics.negative": ("negativ", "negative"),
    "hotspot.HH": ("Hot Spot (hoch-hoch)", "Hot spot (high-high)"),
    "hotspot.LL": ("Cold Spot (niedrig-niedrig)", "Cold spot (low-low)"),
    "hotspot.HL": ("Ausreißer hoch-niedrig", "Outlier high-low"),
    "hotspot.LH": ("Ausreißer niedrig-hoch", "Outlier low-high"),
    "hotspot.ns": ("nicht signifikant", "not significant"),
    # designations
    "des.win": ("WiN", "WiN"),
    "des.llq": ("Lebendige Quartiere", "Lebendige Quartiere"),
    "des.win_llq": ("WiN und Lebendige Quartiere", "WiN and Lebendige Quartiere"),
    "des.other": ("Anderes Programm", "Other programme"),
    "des.none": ("Nicht ausgewiesen", "Not designated"),
    # map chrome
    "map.title": ("Lebendige Quartiere – Karte", "Lebendige Quartiere – map"),
    "map.layer": ("Karteninhalt", "Map layer"),
    "map.legend": ("Legende", "Legend"),
    "map.no_data": ("keine Daten", "no data"),
    "map.both": ("Beide Städte", "Both cities"),
    "map.profile": ("Profil öffnen", "Open profile"),
    "map.check": ("Förderfähigkeit prüfen", "Check eligibility"),
    "map.classes": ("Klassen", "classes"),
    "map.count": ("Anzahl", "count"),
    "map.key": ("Schlüssel", "Key"),
    "map.category": ("Kategorie", "Category"),
    "map.status": ("Status", "Status"),
    "map.population": ("Einwohner", "Residents"),
    "map.city": ("Stadt", "City"),
    "map.multiple": ("Gebiete mit mehreren Kategorien zeigen die erste",
                     "Areas with several categories show the first"),
    "map.scheme": ("Klassierung", "Classification"),
    "map.basis": ("Grundlage", "Basis"),
    "map.status_note": ("Bremerhaven auf eigener, schmalerer Grundlage (Sicherheit niedriger)",
                        "Bremerhaven on a thinner basis of its own (lower confidence)"),
    # basis of a classification (programme definition: basis, group_bases)
    "basis.programme": ("Programmgrundlage", "programme basis"),
    "basis.own": ("eigene Grundlage", "own basis"),
    "basis.confidence": ("Sicherheit", "confidence"),
    "basis.uses": ("Statusindex aus", "status index from"),
    "basis.kind_programme": ("auf der Programmgrundlage", "on the programme basis"),
    "basis.kind_own": ("auf eigener Grundlage", "on a basis of its own"),
    "basis.sentence": ("{city} wird {kind} eingestuft: {uses} (Sicherheit: {confidence}).",
                       "{city} is classified {kind}: {uses} (confidence: {confidence})."),
    "basis.not_published": ("Nicht je Ortsteil veröffentlicht für {city}: {names}.",
                            "Not published per Ortsteil for {city}: {names}."),
    "confidence_level.high": ("hoch", "high"),
    "confidence_level.medium": ("mittel", "medium"),
    "confidence_level.low": ("niedrig", "low"),
    # values of rule conditions
    "value.true": ("ja", "yes"),
    "value.false": ("nein", "no"),
    "rule.category": ("Kategorie {names} trifft zu", "category {names} applies"),
    "op.in": ("eine von", "one of"),
    "op.not_in": ("keine von", "none of"),
    "op.is": ("=", "="),
    "op.==": ("=", "="),
    "op.!=": ("≠", "≠"),
    "op.>=": ("≥", "≥"),
    "op.<=": ("≤", "≤"),
    # rule fields that are not indicators
    "field.status_index": ("Statusindex", "Status index"),
    "field.dynamics_index": ("Dynamikindex", "Dynamics index"),
    "field.status_class": ("Statusklasse", "Status class"),
    "field.dynamics_class": ("Dynamikklasse", "Dynamics class"),
    "field.designated": ("Offiziell ausgewiesen", "Officially designated"),
    # pages
    "page.title": ("Lebendige Quartiere", "Lebendige Quartiere"),
    "nav.map": ("Karte", "Map"),
    "nav.table": ("Tabelle", "Table"),
    "nav.check": ("Prüfen", "Check"),
    "nav.scenarios": ("Szenarien", "Scenarios"),
    "nav.monitoring": ("Monitoring", "Monitoring"),
    "nav.skip": ("Zum Inhalt springen", "Skip to content"),
    # error pages (HTML answers to browsers; API clients get problem+json)
    "error.title.404": ("Nicht gefunden", "Not found"),
    "error.title.422": ("So nicht zu beantworten", "Cannot be answered like this"),
    "error.title.503": ("Gerade nicht verfügbar", "Not available just now"),
    "error.title.other": ("Fehler", "Error"),
    "error.text.404": ("Die Seite {path} gibt es nicht.", "There is no page {path}."),
    "error.text.422": ("Die Anfrage kann mit diesen Angaben nicht beantwortet werden.",
                       "The request cannot be answered with these values."),
    "error.text.503": ("Die Daten sind gerade nicht verfügbar. Bitte versuchen Sie es in einigen Minuten erneut.",
                       "The data are not available just now. Please try again in a few minutes."),
    "error.text.other": ("Die Anfrage konnte nicht beantwortet werden.", "The request could not be answered."),
    "error.unknown_district": ("{level} {key} gibt es nicht.", "There is no {level} {key}."),
    "error.unknown_scenario": ("Ein Szenario „{key}“ gibt es nicht.", "There is no scenario “{key}”."),
    "error.not_configured": ("Die Deutschland-Ansicht ist auf diesem Server nicht eingerichtet.",
                             "The Germany view is not set up on this server."),
    "page.data_as_of": ("Datenstand", "Data as of"),
    "page.built_on": ("erstellt am {date}", "built on {date}"),
    "page.need_data": ("Bedarfsdaten", "need data"),
    "error.detail": ("Technische Angabe", "Technical detail"),
    "error.back": ("Zur Karte", "Back to the map"),
    "error.table": ("Alle Gebiete in der Tabelle", "All areas in the table"),
    "error.scenarios": ("Alle Szenarien", "All scenarios"),
    "level.ortsteil": ("Ortsteil", "Ortsteil"),
    "level.stadtteil": ("Stadtteil", "Stadtteil"),
    "level.stadtbezirk": ("Stadtbezirk", "Stadtbezirk"),
    "level.area": ("Gebiet", "Area"),
    "nav.lang": ("English", "Deutsch"),
    "page.snapshot": ("Snapshot-Version", "Snapshot version"),
    "page.disclaimer": ("Die Statistik schlägt vor, entschieden wird politisch. Der Statusindex misst sozialen "
                        "Bedarf (SGB II, Arbeitslosigkeit, Schule, Wahlbeteiligung); Bremerhaven wird auf einer "
                        "schmaleren eigenen Grundlage eingestuft.",
                        "Statistics suggest, politics decides. The status index measures social need (SGB II, "
                        "unemployment, schools, turnout); Bremerhaven is classified on a thinner basis of its own."),
    "page.map_alt": ("Die Tabelle zeigt dieselben Angaben als Text.", "The table shows the same facts as text."),
    "profile.title": ("Quartiersprofil", "District profile"),
    "profile.overview": ("Überblick", "Overview"),
    "profile.parents": ("Liegt in", "Part of"),
    "profile.indicators": ("Indikatoren im Vergleich zur Stadt", "Indicators compared with the city"),
    "profile.indicator": ("Indikator", "Indicator"),
    "profile.district": ("Quartier", "District"),
    "profile.city": ("Stadt", "City"),
    "profile.difference": ("Differenz", "Difference"),
    "profile.year": ("Jahr", "Year"),
    "profile.series": ("Zeitreihen", "Time series"),
    "profile.need": ("Bedarfsindikatoren", "Need indicators"),
    "profile.need_intro": ("Die Indikatoren, aus denen der Status- und der Dynamikindex berechnet werden, jeweils "
                           "mit dem Jahr ihres Werts.",
                           "The indicators the status and dynamics indices are computed from, each with the year "
                           "of its value."),
    "profile.need_series": ("Bedarfsindikatoren im Zeitverlauf", "Need indicators over time"),
    "profile.context": ("Demografischer Kontext", "Demographic context"),
    "profile.context_intro": ("Beschreibende Angaben; sie gehen nicht in den Statusindex ein.",
                              "Descriptive figures; they are not part of the status index."),
    "profile.context_series": ("Kontext im Zeitverlauf", "Context over time"),
    "profile.index": ("Index", "Index"),
    "profile.z": ("z-Wert", "z-score"),
    "profile.contribution": ("Beitrag zum Index", "Contribution to the index"),
    "profile.basis": ("Grundlage der Einstufung", "Basis of the classification"),
    "profile.no_series": ("Für dieses Quartier werden keine Zeitreihen veröffentlicht.",
                          "No time series are published for this district."),
    "profile.categories": ("Kategorien und Gründe", "Categories and reasons"),
    "profile.applies": ("trifft zu", "applies"),
    "profile.not_applies": ("trifft nicht zu", "does not apply"),
    "profile.condition": ("Bedingung", "Condition"),
    "profile.value": ("Wert", "Value"),
    "profile.threshold": ("Schwelle", "Threshold"),
    "profile.margin": ("Abstand", "Margin"),
    "profile.passed": ("erfüllt", "met"),
    "profile.failed": ("nicht erfüllt", "not met"),
    "profile.classification": ("Klassifizierung", "Classification"),
    "profile.status_index": ("Statusindex", "Status index"),
    "profile.dynamics_index": ("Dynamikindex", "Dynamics index"),
    "profile.stability": ("Stabilität", "Stability"),
    "profile.stability_text": ("Anteil der Simulationen (geänderte Gewichte und Schwellen) mit demselben Ergebnis",
                               "Share of simulations (changed weights and thresholds) with the same result"),
    "profile.borderline": ("Grenzfall", "Borderline"),
    "profile.designation": ("Offizielle Ausweisung", "Official designation"),
    "profile.designated": ("ausgewiesen", "designated"),
    "profile.not_designated": ("nicht ausgewiesen", "not designated"),
    "profile.confidence": ("Quelle/Sicherheit", "Source/confidence"),
    "profile.verdict": ("Abgleich Ausweisung und Daten", "Designation versus data"),
    "verdict.designated and indicated": ("ausgewiesen und durch die Daten angezeigt", "designated and indicated"),
    "verdict.designated, not indicated (phase-out candidate)": (
        "ausgewiesen, aber nicht angezeigt (Auslaufkandidat)", "designated, not indicated (phase-out candidate)"),
    "verdict.indicated, not designated (new candidate)": (
        "angezeigt, aber nicht ausgewiesen (neuer Kandidat)", "indicated, not designated (new candidate)"),
    "verdict.designated": ("ausgewiesen", "designated"),
    "programme.win": ("WiN (Wohnen in Nachbarschaften)", "WiN (Wohnen in Nachbarschaften)"),
    "programme.llq_kleinst_sonder": ("LLQ: Kleinst- und Sonderquartiere", "LLQ: very small and special districts"),
    "programme.llq_quartier_im_werden": ("LLQ: Quartiere im Werden", "LLQ: emerging districts"),
    "programme.efre_stadtumbau": ("EFRE / Stadtumbau", "EFRE / urban redevelopment"),
    "confidence.stated-in-source": ("in der Quelle genannt", "stated in the source"),
    "confidence.named-ortsteil": ("gleichnamiger Ortsteil", "Ortsteil of the same name"),
    "confidence.scout-guess": ("Zuordnung geschätzt (unbestätigt)", "assignment guessed (unverified)"),
    "confidence.unknown": ("unbekannt", "unknown"),
    "confidence.district-wide": ("für den ganzen Bezirk ausgewiesen", "designated for the whole district"),
    # designation versus data: why a designated Ortsteil is (not) indicated (geo.classify.designations)
    "profile.explanation": ("Erklärung", "Explanation"),
    "explain.agree": ("passt: ausgewiesen und indiziert ({cats})", "agrees: designated and indicated ({cats})"),
    "explain.near_miss": ("knapp verfehlt: {gap} SD unter der Schwelle", "near miss: {gap} SD below the threshold"),
    "explain.sub_ortsteil_estate": ("Wohnquartier innerhalb des Ortsteils ({areas}): der Ortsteilwert {status} "
                                    "mittelt es mit seiner Umgebung",
                                    "estate inside the Ortsteil ({areas}): the Ortsteil's value {status} averages "
                                    "it with its surroundings"),
    "explain.outdated_designation": ("Ausweisung passt nicht mehr zu den Bedarfsdaten (Status {status}; {gap} SD "
                                     "unter der Schwelle)",
                                     "designation no longer matches the need data (status {status}; {gap} SD "
                                     "below the threshold)"),
    "explain.new_candidate": ("neuer Kandidat: indiziert als {cats}", "new candidate: indicated as {cats}"),
    "explain.no_data": ("keine Daten", "no data"),
    "explain.alternative_only": ("nur von der demografischen Alternative indiziert",
                                 "indicated by the demographic alternative only"),
    "explain_short.agree": ("passen", "agree"),
    "explain_short.near_miss": ("knapp verfehlt", "near miss"),
    "explain_short.sub_ortsteil_estate": ("Wohnquartier innerhalb des Ortsteils", "estate inside the Ortsteil"),
    "explain_short.outdated_designation": ("Ausweisung veraltet", "outdated designation"),
    "explain_short.new_candidate": ("neue Kandidaten", "new candidates"),
    "explain_short.no_data": ("keine Daten", "no data"),
    "explain_short.alternative_only": ("nur demografische Alternative", "demographic alternative only"),
    "change.same": ("gleich", "same"),
    "change.other categories": ("andere Kategorien", "other categories"),
    "change.indicated now, not by the alternative": ("jetzt indiziert, von der Alternative nicht",
                                                     "indicated now, not by the alternative"),
    "change.indicated by the alternative only": ("nur von der Alternative indiziert",
                                                 "indicated by the alternative only"),
    "verdict.driven_by": ("{index}index vor allem bestimmt durch", "{index} index driven by"),
    "index.status": ("Status", "status"),
    "index.dynamics": ("Dynamik", "dynamics"),
    "profile.type": ("Quartierstyp", "District type"),
    "profile.near": ("Knapp verfehlt", "Near misses"),
    "profile.budget": ("Budgetanteil (datenbasiert)", "Budget share (data-driven)"),
    "profile.print": ("Drucken", "Print"),
    "profile.not_classifiable": ("nicht klassifizierbar", "not classifiable"),
    "profile.district_wide": ("nicht einzeln ausgewiesen; liegt im {areas}: {programmes} gilt dort für den ganzen "
                              "Stadtbezirk (die Quelle nennt keine einzelnen Ortsteile)",
                              "not designated on its own; lies in {areas}: {programmes} applies to the whole "
                              "Stadtbezirk there (the source names no single Ortsteile)"),
    "profile.district_wide_verdict": ("der Abgleich betrifft Ausweisungen, die den Ortsteil selbst nennen",
                                      "the comparison counts designations that name the Ortsteil itself"),
    "profile.no_statistics": ("Für {name} veröffentlicht die amtliche Statistik keine Einwohnerzahlen nach Alter "
                              "und Staatsangehörigkeit; hier stehen die Werte der Stadt {city} und die Angaben, "
                              "die es für {name} gibt (Zensus, Wahlen).",
                              "Official statistics publish no resident figures by age and nationality for {name}; "
                              "shown here are the figures of the city of {city} and those that exist for {name} "
                              "(census, elections)."),
    "profile.own_context": ("Angaben für {name}", "Figures for {name}"),
    "profile.period_note": ("Veränderungen nennen die beiden verglichenen Jahre (Basisjahr→Jahr).",
                            "Changes name the two years compared (base year→year)."),
    "profile.print_note": ("Kurzfassung zum Ausdrucken; Zeitreihen und alle Kategorien im Netz:",
                           "Short version for print; time series and every category online:"),
    "verdict.qualifies_as": ("erfüllt die Bedingungen für {what}", "meets the conditions for {what}"),
    "yes": ("ja", "yes"),
    "no": ("nein", "no"),
    "check.title": ("Förderfähigkeit prüfen", "Check eligibility"),
    "check.intro": ("Klicken Sie in die Karte, geben Sie einen Ortsteil ein oder Koordinaten (WGS84).",
                    "Click the map, type an Ortsteil, or give coordinates (WGS84)."),
    "check.district": ("Ortsteil (Name oder Schlüssel)", "Ortsteil (name or key)"),
    "check.lon": ("Länge (Ost)", "Longitude (east)"),
    "check.lat": ("Breite (Nord)", "Latitude (north)"),
    "check.submit": ("Prüfen", "Check"),
    "check.or": ("oder", "or"),
    "check.answer": ("Antwort", "Answer"),
    "check.lies_in": ("Der Punkt liegt im Ortsteil", "The point lies in the Ortsteil"),
    "check.qualifies": ("erfüllt nach der Statistik die Bedingungen für", "meets the statistical conditions for"),
    "check.qualifies_none": ("erfüllt nach der Statistik keine Förderkategorie.",
                             "meets no funding category by the statistics."),
    "check.because": ("weil", "because"),
    "check.not_found": ("Kein Ortsteil mit diesem Namen gefunden.", "No Ortsteil of that name was found."),
    "check.did_you_mean": ("Meinten Sie", "Did you mean"),
    "check.outside": ("Der Punkt liegt außerhalb von Bremen und Bremerhaven.",
                      "The point lies outside Bremen and Bremerhaven."),
    "check.fallback": ("Der Punkt liegt in keinem Ortsteil, nur in einem Stadtteil; für Stadtteile gibt es hier "
                       "keine Prüfung (die API antwortet mit dem Stadtteil).",
                       "The point lies in no Ortsteil, only in a Stadtteil; Stadtteile are not checked here (the "
                       "API answers with the Stadtteil)."),
    "check.bad_coordinates": ("Die Koordinaten sind keine gültigen Zahlen (Länge −180…180, Breite −90…90).",
                              "The coordinates are not valid numbers (longitude −180…180, latitude −90…90)."),
    "check.designated_yes": ("Offiziell ausgewiesen als", "Officially designated as"),
    "check.designated_no": ("Offiziell ist der Ortsteil nicht als Fördergebiet ausgewiesen.",
                            "Officially the Ortsteil is not designated as a funding area."),
    "check.politics": ("Das statistische Ergebnis ist ein Vorschlag; über die Förderung wird politisch entschieden.",
                       "The statistical result is a suggestion; funding is decided politically."),
    # the check page as a planner's tool (service/web/check.py, service/web/check_view.py)
    "check.margin.pass": ("erfüllt", "met"),
    "check.margin.fail": ("nicht erfüllt", "not met"),
    "check.margin.near_pass": ("knapp erfüllt", "just met"),
    "check.margin.near_fail": ("knapp verfehlt", "just missed"),
    "check.margin.at": ("genau auf der Schwelle", "exactly at the threshold"),
    "check.margin.above": ("über", "above"),
    "check.margin.below": ("unter", "below"),
    "check.margin.sd": ("{sd} Standardabweichungen {side} der Schwelle",
                        "{sd} standard deviations {side} the threshold"),
    "check.margin.units": ("{amount} {unit} {side} der Schwelle ({sd} Standardabweichungen)",
                           "{amount} {unit} {side} the threshold ({sd} standard deviations)"),
    "check.margin.units_only": ("{amount} {unit} {side} der Schwelle", "{amount} {unit} {side} the threshold"),
    "check.status.very_low": ("Sozialstatus sehr niedrig, also sehr hoher sozialer Unterstützungsbedarf",
                              "very low social status, that is very high social need"),
    "check.status.low": ("Sozialstatus niedrig, also erhöhter sozialer Unterstützungsbedarf",
                         "low social status, that is raised social need"),
    "check.status.medium": ("Sozialstatus mittel, also durchschnittlicher sozialer Unterstützungsbedarf",
                            "medium social status, that is average social need"),
    "check.status.high": ("Sozialstatus hoch, also geringer sozialer Unterstützungsbedarf",
                          "high social status, that is low social need"),
    "check.status_index": ("Statusindex {value}: je höher der Index, desto größer der Bedarf",
                           "status index {value}: the higher the index, the greater the need"),
    "check.social": ("Soziale Lage", "Social situation"),
    "check.trend": ("Entwicklung", "Trend"),
    "check.dynamics.positive": ("positiv, die Lage verbessert sich", "positive, the situation is improving"),
    "check.dynamics.stable": ("stabil", "stable"),
    "check.dynamics.negative": ("negativ, der Bedarf wächst", "negative, need is growing"),
    "check.stability": ("{n} von 100 Varianten der Gewichte und Schwellen kommen zum selben Ergebnis.",
                        "{n} of 100 variants of the weights and thresholds reach the same result."),
    "check.stability_area": ("Wie stabil das Ergebnis bei anderen Gewichten und Schwellen ist, wird für ein "
                             "gezeichnetes Gebiet nicht berechnet.", "How stable the result is under other weights "
                             "and thresholds is not computed for a drawn area."),
    "check.borderline": ("Grenzfall: der Statusindex liegt nahe an einer Klassengrenze.",
                         "Borderline: the status index lies close to a class boundary."),
    "check.conditions_met": ("Bedingungen", "Conditions"),
    "check.other_categories": ("Nicht erfüllte Kategorien und wie knapp", "Categories not met and by how much"),
    "check.any_of": ("mindestens eine davon", "at least one of these"),
    "check.show_on_map": ("Auf der Karte zeigen", "Show on the map"),
    "check.share": ("Link zu dieser Antwort", "Link to this answer"),
    "check.copy": ("Link kopieren", "Copy link"),
    "check.copied": ("Link kopiert.", "Link copied."),
    "check.no_address": ("Adresssuche ist auf diesem Server nicht eingerichtet. Suchen Sie nach Ortsteil, Stadtteil "
                         "oder Postleitzahl, klicken Sie in die Karte oder zeichnen Sie ein Gebiet.",
                         "Address search is not set up on this server. Search for an Ortsteil, Stadtteil or "
                         "postcode, click on the map or draw an area."),
    "check.address_not_found": ("„{text}“ sieht wie eine Adresse aus; Adressen kann dieser Server nicht suchen. "
                                "Klicken Sie den Ort in der Karte an oder suchen Sie nach Postleitzahl oder Ortsteil.",
                                "“{text}” looks like an address; this server cannot search addresses. Click the "
                                "place on the map or search for its postcode or Ortsteil."),
    "check.draw.title": ("Gebiet zeichnen", "Draw an area"),
    "check.draw.intro": ("Zeichnen Sie ein Vieleck (Ecken anklicken, mit Klick auf die erste Ecke schließen) oder "
                         "ein Rechteck, oder laden Sie eine GeoJSON-Datei hoch.",
                         "Draw a polygon (click the corners, close it on the first corner) or a rectangle, or "
                         "upload a GeoJSON file."),
    "check.draw.polygon": ("Vieleck zeichnen", "Draw a polygon"),
    "check.draw.rectangle": ("Rechteck zeichnen", "Draw a rectangle"),
    "check.draw.cancel": ("Abbrechen", "Cancel"),
    "check.draw.upload": ("GeoJSON-Datei (WGS84)", "GeoJSON file (WGS84)"),
    "check.draw.working": ("Das Gebiet wird geprüft …", "Checking the area …"),
    "check.draw.failed": ("Das Gebiet kann so nicht geprüft werden:", "The area cannot be checked like this:"),
    "check.draw.bad_file": ("Die Datei ist kein GeoJSON mit einer Fläche (Polygon oder MultiPolygon).",
                            "The file is not GeoJSON with an area (Polygon or MultiPolygon)."),
    "check.draw.no_js": ("Zum Zeichnen braucht die Seite JavaScript.", "Drawing needs JavaScript."),
    "check.area.title": ("Gezeichnetes Gebiet", "Drawn area"),
    "check.area.residents": ("Geschätzte Einwohnerzahl", "Estimated residents"),
    "check.area.size": ("Fläche", "Area"),
    "check.area.method": ("Geschätzt aus den Ortsteilen, die das Gebiet berührt: ihre Zahlen werden nach der "
                          "überdeckten Fläche aufgeteilt (gleichmäßig verteilte Einwohner angenommen).",
                          "Estimated from the Ortsteile the area touches: their counts are shared out by the area "
                          "covered (residents assumed evenly spread)."),
    "check.area.certain": ("Die Schätzung stützt sich überwiegend auf große Teile der Ortsteile.",
                           "The estimate rests mostly on large parts of the Ortsteile."),
    "check.area.uncertain_title": ("Unsicher", "Uncertain"),
    "check.area.small_parts": ("{pct} % der geschätzten Einwohner stammen aus kleinen Teilen (unter {small} % der "
                               "Fläche) großer Ortsteile; dort ist die Annahme gleichmäßig verteilter Einwohner am "
                               "schwächsten.", "{pct} % of the estimated residents come from small parts (under "
                               "{small} % of the area) of large Ortsteile, where the assumption of evenly spread "
                               "residents is weakest."),
    "check.area.no_statistics": ("{pct} % der Fläche liegen in Ortsteilen ohne Statistik; deren Einwohner fehlen "
                                 "(die Zahl ist eine Untergrenze).", "{pct} % of the area lies in Ortsteile without "
                                 "statistics; their residents are missing (the count is a lower bound)."),
    "check.area.uncertain": ("Für einen berührten Ortsteil fehlen Zahlen; die Schätzung ist unsicher.",
                             "Counts are missing for an Ortsteil the area touches; the estimate is uncertain."),
    "check.area.sources": ("Berührte Ortsteile", "Ortsteile touched"),
    "check.area.share_of_area": ("Anteil am Gebiet", "Share of the area"),
    "check.area.share_of_district": ("Anteil des Ortsteils", "Share of the Ortsteil"),
    "check.area.est_residents": ("Einwohner (geschätzt)", "Residents (estimated)"),
    "check.area.qualifies": ("Das Gebiet erfüllt nach der geschätzten Statistik die Bedingungen für",
                             "By the estimated statistics the area meets the conditions for"),
    "check.area.qualifies_none": ("Das Gebiet erfüllt nach der geschätzten Statistik keine Förderkategorie.",
                                  "By the estimated statistics the area meets no funding category."),
    "check.area.designation": ("Offizielle Ausweisungen gelten für ganze Ortsteile; siehe die berührten Ortsteile.",
                               "Official designations apply to whole Ortsteile; see the Ortsteile touched."),
    "scen.title": ("Szenarien", "Scenarios"),
    "scen.none": ("Noch keine gespeicherten Szenarien.", "No stored scenarios yet."),
    "scen.official": ("Offizielle Definition", "Official definition"),
    "scen.draft": ("Entwurf", "Draft"),
    "scen.changes": ("Gebiete, die sich ändern", "Areas that change"),
    "scen.no_changes": ("Keine Änderungen.", "No changes."),
    "scen.gained": ("gewinnt", "gains"),
    "scen.lost": ("verliert", "loses"),
    "scen.budget": ("Budget je Stadt (EUR)", "Budget per city (EUR)"),
    "scen.per_category": ("Je Kategorie", "Per category"),
    "scen.shift": ("Verschiebung", "Shift"),
    "scen.group": ("Stadt", "City"),
    "scen.areas": ("Gebiete", "Areas"),
    "scen.stored": ("Gespeicherte Szenarien", "Stored scenarios"),
    "scen.files": ("Entwurfsdateien", "Draft files"),
    "scen.new": ("Neuen Förderstrang entwerfen", "Draft a new funding strand"),
    "scen.download_yaml": ("Definition als YAML herunterladen", "Download the definition as YAML"),
    "scen.download_xlsx": ("Vergleich als Excel herunterladen", "Download the comparison as Excel"),
    "scen.blocked": ("Was Änderungen begrenzt", "What limits the changes"),
    "scen.unallocated": ("nicht verteilt", "not allocated"),
    "scen.rule.capped": ("erfüllen die Regeln, aber die Bevölkerungsobergrenze ist erreicht",
                         "meet the rules, but the population cap is reached"),
    "scen.rule.too_few_residents": ("erfüllen die Regeln bis auf die Mindestzahl an Einwohnern",
                                    "meet the rules except the minimum number of residents"),
    "scen.rule.enclave": ("kommen über die Enklavenregel hinzu (alle Nachbarn erfüllen die Regel)",
                          "gained by the enclave rule (every neighbour qualifies)"),
    "scen.form.title": ("Förderstrang entwerfen", "Draft a funding strand"),
    "scen.form.intro": ("Der Entwurf beginnt mit der offiziellen Definition. Jede Änderung zeigt sofort, welche "
                        "Gebiete hinzukommen oder wegfallen, wie viele Einwohner betroffen sind und wie sich das "
                        "Budget verschiebt. Gespeichert wird erst mit dem API-Token.",
                        "The draft starts from the official definition. Every change shows at once which areas "
                        "are gained or lost, how many residents are affected and how the budget shifts. Saving "
                        "needs the API token."),
    "scen.form.name": ("Name des Entwurfs", "Name of the draft"),
    "scen.form.default_name": ("Entwurf", "Draft"),
    "scen.form.section.weights": ("Gewichte des Statusindex", "Weights of the status index"),
    "scen.form.section.thresholds": ("Schwellen der Kategorien", "Thresholds of the categories"),
    "scen.form.section.cap": ("Bevölkerungsobergrenze", "Population cap"),
    "scen.form.section.budget": ("Budget je Stadt", "Budget per city"),
    "scen.form.cap": ("Höchstens so viel Prozent der Einwohner einer Stadt in WiN-Gebieten",
                      "At most this share of a city's residents in WiN areas (%)"),
    "scen.form.budget": ("Jahresbudget", "Annual budget"),
    "scen.form.residents": ("Einwohner", "Residents"),
    "scen.form.areas": ("Kategorie", "Category"),
    "scen.form.allocated": ("verteilt", "allocated"),
    "scen.form.unallocated": ("nicht verteilt", "not allocated"),
    "scen.form.total": ("Budget", "Budget"),
    "scen.form.preview": ("Vorschau: Unterschied zur offiziellen Definition",
                          "Preview: difference from the official definition"),
    "scen.form.save": ("Entwurf speichern", "Save the draft"),
    "scen.form.token": ("API-Token", "API token"),
    "scen.form.no_token": ("Auf diesem Server ist kein API-Token eingerichtet: Entwürfe lassen sich ansehen, "
                           "aber nicht speichern.", "No API token is set up on this server: drafts can be previewed "
                           "but not saved."),
    "scen.form.error": ("Der Entwurf kann so nicht berechnet werden:", "The draft cannot be computed:"),
    "scen.form.saved": ("Gespeichert.", "Saved."),
    "scen.form.working": ("Wird berechnet …", "Computing …"),
    "field.population": ("Einwohner", "Residents"),
    "table.title": ("Alle Ortsteile", "All Ortsteile"),
    "table.filter": ("Filtern", "Filter"),
    "table.all_cities": ("alle Städte", "all cities"),
    "table.csv": ("Als CSV herunterladen", "Download as CSV"),
    "table.sort_hint": ("Spaltenköpfe sortieren die Tabelle.", "Column headers sort the table."),
    "table.shown": ("Zeilen angezeigt", "rows shown"),
    "table.year_of": ("{label}: Jahr", "{label}: year"),
    "table.basis": ("Grundlage", "Basis"),
    "table.confidence": ("Sicherheit der Grundlage", "Confidence of the basis"),
}

#: units as words (the registry's and definitions' unit codes)
UNITS: dict[str, tuple[str, str]] = {
    "persons/km²": ("Einw./km²", "residents/km²"),
    "persons": ("Einw.", "residents"),
    "pp": ("Prozentpunkte", "percentage points"),
    "%": ("%", "%"),
    "years": ("Jahre", "years"),
    "m²": ("m²", "m²"),
    "m²/resident": ("m² je Einw.", "m² per resident"),
    "EUR": ("EUR", "EUR"),
    "SD": ("SD", "SD"),
    "%/year": ("% pro Jahr", "% per year"),
    "dwellings": ("Wohnungen", "dwellings"),
}

#: mapclassify scheme names in the legend
SCHEMES: dict[str, tuple[str, str]] = {
    "Quantiles": ("Quantile", "quantiles"),
    "NaturalBreaks": ("natürliche Brüche", "natural breaks"),
    "FisherJenks": ("Fisher-Jenks", "Fisher-Jenks"),
    "EqualInterval": ("gleiche Intervalle", "equal intervals"),
    "BoxPlot": ("Boxplot", "box plot"),
    "StdMean": ("Standardabweichungen", "standard deviations"),
}


def check_lang(lang: str) -> str:
    """``lang`` if supported, else raise ``ValueError`` naming the choices."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, got {lang!r}")
    return lang


def t(key: str, lang: str = "de") -> str:
    """The text of ``key`` in ``lang`` (``"de"`` or ``"en"``)."""
    pair = TEXT.get(key)
    if pair is None:
        return key
    return pair[1] if lang == "en" else pair[0]


def unit_label(unit: str | None, lang: str = "de") -> str:
    """A unit code (``persons/km²``, ``pp``, ``%``) as words in ``lang``; unknown codes unchanged."""
    if not unit:
        return ""
    pair = UNITS.get(unit)
    return unit if pair is None else (pair[1] if lang == "en" else pair[0])


def indicator_label(name: str, lang: str = "de", *, unit: bool = True) -> str:
    """German or English label of an indicator column, with its unit in words (``unit=False``: the label alone,
    e.g. for a chart title whose axis names the unit; qualifiers such as "(unter 65)" stay)."""
    ind = REGISTRY.get(name)
    if ind is None:
        return name
    label = ind.label_en if lang == "en" else ind.label_de
    return f"{label} ({unit_label(ind.unit, lang)})" if unit and ind.unit not in ("persons", "") else label


def reason_text(reason: str | None, lang: str = "de") -> str:
    """Why an area is not classifiable, in words, without the engine's ``not classifiable:`` prefix."""
    text = str(reason or "").removeprefix("not classifiable: ").strip()
    if lang != "de" or not text:
        return text
    m = re.search(r"fewer than (\d+)", text)
    if m:
        return f"weniger als {m.group(1)} Einwohner oder Einwohnerzahl unbekannt"
    if "no district statistics" in text:
        return "keine Ortsteilstatistik veröffentlicht"
    return text


def class_label(field: str, value: str, lang: str = "de") -> str:
    """A class value of ``status_class``/``dynamics_class`` (``very_low``, ``stable``) as a word."""
    prefix = {"status_class": "status", "dynamics_class": "dynamics"}.get(field, field.removesuffix("_class"))
    text = t(f"{prefix}.{value}", lang)
    return value if text == f"{prefix}.{value}" else text


def rule_value(field: str, text: str, lang: str = "de") -> str:
    """A rule condition's non-numeric value or threshold in words: classes (``high;medium`` -> "hoch, mittel"),
    booleans (``true`` -> "ja"), category ids."""
    parts = [p for p in str(text).split(";") if p]
    out = []
    for p in parts:
        if p.lower() in ("true", "false"):
            out.append(t(f"value.{p.lower()}", lang))
        elif field.endswith("_class"):
            out.append(class_label(field, p, lang))
        elif t(f"cat.{p}", lang) != f"cat.{p}":
            out.append(t(f"cat.{p}", lang))
        else:
            out.append(p)
    return ", ".join(out)


def rule_label(field: str, lang: str = "de") -> str | None:
    """Words for a rule field that is not an indicator: ``category:win|kleinstquartier`` -> "Kategorie
    WiN-Gebiet (indiziert) / Kleinstquartier trifft zu"; index and class fields; None when unknown."""
    if field.startswith("category:"):
        names = " / ".join(t(f"cat.{c}", lang) for c in field.split(":", 1)[1].split("|") if c)
        return t("rule.category", lang).format(names=names)
    text = t(f"field.{field}", lang)
    return None if text == f"field.{field}" else text


def operator_label(op: str, lang: str = "de") -> str:
    """A rule operator as shown to people (``>=`` -> "≥", ``in`` -> "eine von")."""
    text = t(f"op.{op}", lang)
    return op if text == f"op.{op}" else text


def scheme_label(scheme: str, lang: str = "de") -> str:
    pair = SCHEMES.get(scheme, (scheme, scheme))
    return pair[1] if lang == "en" else pair[0]


def fmt_number(value: float | None, lang: str = "de", *, decimals: int = 1) -> str:
    """Format a number the German (1.234,5) or English (1,234.5) way; ``None``/NaN -> ``"–"``."""
    if value is None or value != value:
        return "–"
    text = f"{value:,.{decimals}f}"
    if lang == "de":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text
