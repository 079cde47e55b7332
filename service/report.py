"""The programme-year report: one self-contained HTML file for the deputation.

:func:`build_report` takes a loaded snapshot and a programme definition and returns one HTML string with
everything inlined: CSS, SVG charts (:mod:`maps.charts`), the category map and tables. Nothing in the file
requests anything from outside: the interactive map is the folium overview map of :mod:`maps`, rendered into an
``<iframe srcdoc>`` with the vendored Leaflet script and stylesheet inlined (its images as ``data:`` URIs);
``map_mode="static"`` draws a plain SVG map from the geometries instead. Links to sources appear as plain text.

The report only *assembles* results of the library: the classification (the one the build published for the
snapshot's latest year, with its basis evidence and designated-versus-data rows; :func:`geo.classify.classify`
for another year or draws count), the monitoring series (:mod:`geo.analysis.monitoring`) and the evaluation
(:func:`geo.analysis.monitoring.evaluate_funding`). The choices it makes on top (which indicators are charted, the
early-warning thresholds) are the constants below, named and printed in the report itself. Framework-free: no
Flask; :mod:`service.commands.report` is the CLI.
"""

from __future__ import annotations

import base64
import datetime as dt
import math
import os
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from geo.analysis.monitoring.poverty import (
    EARLY_WARNING_PERIODS,
    EARLY_WARNING_STEP_YEARS,
    EARLY_WARNING_THRESHOLDS,
    INEQUALITY_SERIES,
    WEIGHT_BASES,
    need_directions,
)
from geo.errors import Problem, ValidationError

__all__ = [
    "CHART_INDICATORS",
    "EARLY_WARNING_THRESHOLDS",
    "ReportData",
    "build_report",
    "collect_report_data",
    "designation_explanation",
    "render_report",
    "static_map_svg",
    "write_report",
]

TEMPLATES = Path(__file__).resolve().parent / "report_templates"
VENDOR = Path(__file__).resolve().parent / "static" / "vendor"

#: indicators whose inequality between Ortsteile is charted (status proxies of the shipped definition + age)
CHART_INDICATORS: tuple[str, ...] = ("share_foreign_pct", "share_under_18_pct", "share_aged_65_plus_pct")
#: indicator whose Theil index is split into between and within Stadtbezirke
THEIL_INDICATOR = "share_foreign_pct"
#: indicator layers offered on the interactive map besides the programme layers
MAP_INDICATORS: tuple[str, ...] = ("population", "share_foreign_pct", "share_under_18_pct", "share_aged_65_plus_pct")
#: early warning: how far a period change must go against the desired direction (unit per year; %/year for
#: counts) to count as negative; two periods running give a warning. The shares of foreign nationals rose in
#: the whole city by about 1 to 1.7 pp a year in 2021-2023 (arrivals from Ukraine): 1.5 pp/year keeps the list
#: to districts rising faster than that, instead of listing most of the city.
SYNTHETIC_MARKERS = ("synthetic", "synthetisch", "fake", "dummy")

# -- texts -------------------------------------------------------------------------------------------------

TEXT: dict[str, tuple[str, str]] = {
    "title": ("Lebendige Quartiere – Bericht zum Programmjahr {year}",
              "Lebendige Quartiere – report for the programme year {year}"),
    "subtitle": ("Klassifizierung, Monitoring und Evaluation der Quartiere in Bremen und Bremerhaven",
                 "Classification, monitoring and evaluation of the districts of Bremen and Bremerhaven"),
    "toc": ("Inhalt", "Contents"),
    "sec.summary": ("Zusammenfassung", "Summary"),
    "sec.map": ("Karte der Programmkategorien", "Map of programme categories"),
    "sec.districts": ("Quartiere: Kategorien, Status, Dynamik und Budget",
                      "Districts: categories, status, dynamics and budget"),
    "sec.basis": ("Grundlage der Einstufung", "Basis of the classification"),
    "sec.designations": ("Ausgewiesen und indiziert", "Designated versus indicated"),
    "sec.inequality": ("Ungleichheit zwischen den Ortsteilen im Zeitverlauf", "Inequality between districts over time"),
    "sec.segregation": ("Beschreibende Demografie: Verteilung ausländischer Staatsangehöriger (kein Bedarf)",
                        "Descriptive demography: distribution of foreign nationals (not need)"),
    "sec.warning": ("Frühwarnliste", "Early-warning list"),
    "sec.evaluation": ("Evaluation: geförderte und vergleichbare Quartiere",
                       "Evaluation: funded versus comparable districts"),
    "sec.sources": ("Datenquellen, Methode und Urheberrecht", "Data sources, method and attribution"),
    "disclaimer": ("Die Statistik schlägt vor, entschieden wird politisch. Armut (SGB II) und Arbeitslosigkeit je "
                   "Ortsteil stammen aus dem Bremer Ortsteilatlas und reichen bis 2018 bzw. 2017; jede Zahl nennt "
                   "ihr Jahr. Staatsangehörigkeit und Herkunft beschreiben die Bevölkerung und sind nie Bedarf.",
                   "Statistics suggest, politics decides. Poverty (SGB II) and unemployment per Ortsteil come from "
                   "the Bremer Ortsteilatlas and run to 2018 and 2017; every figure names its year. Nationality and "
                   "origin describe the population and are never need."),
    "sec.poverty": ("Armut: Ungleichheit, Segregation, Frühwarnung und Evaluation",
                    "Poverty: inequality, segregation, early warning and evaluation"),
    "pov.inequality": ("Ungleichheit von Kinderarmut, SGB II und Arbeitslosigkeit zwischen den Ortsteilen",
                       "Inequality of child poverty, SGB II and unemployment between the Ortsteile"),
    "pov.note": ("Ortsteile der Stadt Bremen. Gini: 0 = alle gleich; Theil zwischen + innerhalb der Stadtbezirke "
                 "= gesamt; Dezilverhältnis P90/P10 der Ortsteilwerte (ungewichtet). Gewichtung je Reihe: {w}.",
                 "Ortsteile of the city of Bremen. Gini: 0 = all equal; Theil between + within Stadtbezirke = "
                 "total; decile ratio P90/P10 of the Ortsteil values (unweighted). Weights per series: {w}."),
    "pov.weight": ("Gewichtung", "Weights"),
    "pov.gini": ("Gini-Koeffizient zwischen den Ortsteilen, {y0}–{y1}", "Gini coefficient between the Ortsteile, "
                 "{y0}–{y1}"),
    "pov.theil": ("Theil-Index der Kinderarmut (SGB II unter 15), {y0}–{y1}",
                  "Theil index of child poverty (SGB II under 15), {y0}–{y1}"),
    "pov.seg": ("Segregation der SGB-II-Leistungsberechtigten", "Segregation of SGB II recipients"),
    "pov.seg_note": ("Dissimilaritätsindex der SGB-II-Leistungsberechtigten unter den Einwohnern unter 65, aus "
                     "Anzahlen (Jahre mit beiden Anzahlen: {years}); Isolationsindex: Anteil der "
                     "Leistungsberechtigten im Ortsteil der durchschnittlichen leistungsberechtigten Person.",
                     "Index of dissimilarity of SGB II recipients among residents under 65, from counts (years "
                     "with both counts: {years}); isolation index: share of recipients in the Ortsteil of the "
                     "average recipient."),
    "pov.evaluation": ("Evaluation auf Armut: WiN-Ortsteile und vergleichbare Ortsteile",
                       "Evaluation on poverty: WiN Ortsteile and comparable Ortsteile"),
    "pov.verdict": ("Ergebnis", "Verdict"),
    "pov.limits": ("Grenzen", "Limits"),
    "pov.window": ("Zeitraum", "Period"),
    "pov.treated": ("WiN verglichen / ohne Gegenstück", "WiN compared / no counterpart"),
    "pov.diff": ("Differenz der Veränderung (Pp.)", "Difference of change (pp)"),
    "pov.groups": ("Zufallsgruppen (95 %)", "Random groups (95 %)"),
    "pov.placebo": ("Placebo-Jahr", "Placebo year"),
    "pov.seed": ("Bootstrap mit {n} Ziehungen und {g} Zufallsgruppen, fester Startwert {seed}.",
                 "Bootstrap with {n} draws and {g} random groups, fixed seed {seed}."),
    "theil.between": ("Theil zwischen Stadtbezirken", "Theil between Stadtbezirke"),
    "theil.within": ("Theil innerhalb der Stadtbezirke", "Theil within Stadtbezirke"),
    "decile": ("Dezilverhältnis P90/P10", "Decile ratio P90/P10"),
    "no_synthetic": ("Alle Angaben beruhen auf veröffentlichten amtlichen Daten; synthetische Daten kommen in "
                     "diesem Bericht nicht vor.",
                     "Everything rests on published official data; no synthetic data appear in this report."),
    "synthetic_banner": ("ACHTUNG: Dieser Bericht enthält synthetische (erfundene) Daten. Betroffen:",
                         "WARNING: this report contains synthetic (made-up) data. Affected:"),
    "synthetic": ("synthetisch", "synthetic"),
    "generated": ("Erstellt am {date} aus Datenstand {version}; Programmdefinition {defn} (Version {dver}, "
                  "SHA-256 {hash}).",
                  "Generated on {date} from data version {version}; programme definition {defn} (version {dver}, "
                  "SHA-256 {hash})."),
    "year_note": ("Programmjahr {year}: Bevölkerungsstand 31.12.{year}; Zeitreihen bis {year}.",
                  "Programme year {year}: population on 31 Dec {year}; time series up to {year}."),
    # summary
    "sum.areas": ("Ortsteile insgesamt", "Ortsteile in total"),
    "sum.classifiable": ("davon klassifizierbar", "of which classifiable"),
    "sum.not_classifiable": ("nicht klassifizierbar (Bremerhaven: keine Ortsteilstatistik; unter 300 Einwohnern)",
                             "not classifiable (Bremerhaven: no district statistics; under 300 residents)"),
    "sum.category": ("Kategorie", "Category"),
    "sum.count": ("Gebiete", "Areas"),
    "sum.residents": ("Einwohner", "Residents"),
    "sum.budget": ("Budget (datenbasiert)", "Budget (data-driven)"),
    "sum.city": ("Stadt", "City"),
    "sum.total": ("Jahresbudget", "Annual budget"),
    "sum.allocated": ("verteilt", "allocated"),
    "sum.unallocated": ("nicht verteilt", "not allocated"),
    "sum.note": ("Hinweis", "Note"),
    "sum.no_area_note": ("kein Gebiet statistisch indiziert: Budget wird politisch vergeben",
                         "no area indicated by the statistics: the budget is allocated politically"),
    "sum.points": ("Das Wichtigste", "Key points"),
    "pt.categories": ("{n} Ortsteile erfüllen mindestens eine Förderkategorie; {w} davon als WiN-Gebiet.",
                      "{n} Ortsteile meet at least one funding category; {w} of them as WiN area."),
    "pt.designations": ("Von {d} offiziell ausgewiesenen Ortsteilen sind {both} auch statistisch indiziert; {new} "
                        "indizierte Ortsteile sind nicht ausgewiesen, {old} ausgewiesene nicht (mehr) indiziert.",
                        "Of {d} officially designated Ortsteile, {both} are also indicated by the statistics; {new} "
                        "indicated Ortsteile are not designated, {old} designated ones are no longer indicated."),
    "pt.inequality": ("Ungleichheit der Kinderarmut (SGB II unter 15, Gini): {g0} ({y0}) → {g1} ({y1}); {b} % der "
                      "Ungleichheit (Theil) liegt {y1} zwischen den Stadtbezirken, der Rest innerhalb.",
                      "Inequality of child poverty (SGB II under 15, Gini): {g0} ({y0}) → {g1} ({y1}); {b} % of "
                      "the inequality (Theil) lies between the Stadtbezirke in {y1}, the rest within them."),
    "pt.segregation": ("Dissimilaritätsindex der SGB-II-Leistungsberechtigten {d0} ({y0}) → {d1} ({y1}); "
                       "räumliche Häufung (Moran's I) {m1} im Jahr {y1}.",
                       "Index of dissimilarity of SGB II recipients {d0} ({y0}) → {d1} ({y1}); spatial clustering "
                       "(Moran's I) {m1} in {y1}."),
    "pt.warning": ("{n} Ortsteile stehen auf der Frühwarnliste (zwei Perioden in Folge negative Entwicklung).",
                   "{n} Ortsteile are on the early-warning list (negative change two periods running)."),
    "pt.evaluation": ("Evaluation: {s} von {n} Ergebnissen lassen einen Schluss zu; für die übrigen sind die "
                      "Daten zu dünn.",
                      "Evaluation: {s} of {n} results support a conclusion; for the others the data are too thin."),
    "pt.borderline": ("{n} klassifizierte Ortsteile sind Grenzfälle (weniger als {p} % der Simulationen mit "
                      "gleichem Ergebnis).",
                      "{n} classified Ortsteile are borderline (fewer than {p} % of simulations give the same "
                      "result)."),
    # map
    "map.note": ("Interaktive Karte (ohne Internetverbindung): Ebene oben rechts wählbar; Gebiete mit mehreren "
                 "Kategorien zeigen die erste. Bremerhaven: keine Ortsteilstatistik veröffentlicht.",
                 "Interactive map (works offline): choose the layer top right; areas with several categories "
                 "show the first. Bremerhaven: no district statistics published."),
    "map.static_note": ("Gebiete mit mehreren Kategorien zeigen die erste. Bremerhaven: keine Ortsteilstatistik "
                        "veröffentlicht.",
                        "Areas with several categories show the first. Bremerhaven: no district statistics "
                        "published."),
    "map.iframe_title": ("Karte der Programmkategorien", "Map of programme categories"),
    # districts table
    "col.key": ("Schlüssel", "Key"),
    "col.name": ("Ortsteil", "Ortsteil"),
    "col.city": ("Stadt", "City"),
    "col.population": ("Einwohner", "Residents"),
    "col.status": ("Status", "Status"),
    "col.status_index": ("Statusindex", "Status index"),
    "col.dynamics": ("Dynamik", "Dynamics"),
    "col.categories": ("Kategorien (Statistik)", "Categories (statistics)"),
    "col.stability": ("Stabilität", "Stability"),
    "col.budget": ("Budget (EUR)", "Budget (EUR)"),
    "col.designated": ("Ausgewiesen", "Designated"),
    "col.programmes": ("Programme", "Programmes"),
    "col.confidence": ("Quelle der Zuordnung", "Source of the assignment"),
    "col.verdict": ("Abgleich", "Check"),
    "col.indicator": ("Indikator", "Indicator"),
    "col.periods": ("Letzte Perioden (je Jahr)", "Latest periods (per year)"),
    "col.run": ("Perioden in Folge", "Periods running"),
    "col.start": ("Start", "Start"),
    "col.outcome": ("Ergebnisgröße", "Outcome"),
    "col.estimate": ("Schätzung (DiD)", "Estimate (DiD)"),
    "col.interval": ("95-%-Intervall", "95 % interval"),
    "col.treated": ("gefördert", "funded"),
    "col.controls": ("Vergleich", "comparison"),
    "col.pretrend": ("Vorher-Trend", "Pre-trend"),
    "col.reason": ("Begründung", "Reason"),
    "col.year": ("Jahr", "Year"),
    "col.file": ("Datei", "File"),
    "col.bytes": ("Bytes", "Bytes"),
    "districts.note": ("Sortiert nach Stadt und Statusindex (höher = größere soziale Herausforderung, in "
                       "Standardabweichungen). Stabilität: Anteil von {draws} Simulationen mit veränderten Gewichten "
                       "und Schwellen, die dasselbe Ergebnis liefern; ⚠ = Grenzfall.",
                       "Sorted by city and status index (higher = more social challenge, in standard deviations). "
                       "Stability: share of {draws} simulations with changed weights and thresholds that give the "
                       "same result; ⚠ = borderline."),
    "designations.note": ("Ausweisungen aus der handrecherchierten Liste der Fördergebiete (Quelle und Sicherheit "
                          "der Zuordnung je Zeile); Indikation aus der Statistik. Nur Ortsteile, bei denen "
                          "mindestens eines zutrifft.",
                          "Designations from the hand-compiled list of funding areas (source and confidence of "
                          "the assignment per row); indication from the statistics. Only Ortsteile where at least "
                          "one applies."),
    # basis of the classification (programme definition, published proxy evidence: geo.analysis.proxies)
    "basis.note": ("Je Stadt: worauf der Statusindex beruht, wie sicher diese Grundlage ist und mit welchem Gewicht "
                   "jeder Indikator eingeht (Beschreibung der Grundlage aus der Programmdefinition).",
                   "Per city: what the status index rests on, how confident that basis is and the weight of each "
                   "indicator (description of the basis from the programme definition)."),
    "basis.programme": ("Programmgrundlage", "programme basis"),
    "basis.own": ("eigene Grundlage", "own basis"),
    "basis.weight": ("Gewicht", "weight"),
    "basis.evidence": ("Belege für die Grundlage von {city}", "Evidence for the basis of {city}"),
    "basis.rule": ("Spearmans Rangkorrelation (rho) jeder Reihe, die es für {apply} gibt, mit {target} über die "
                   "Ortsteile von {fit}; 95-%-Intervall aus {boot} Bootstrap-Ziehungen. Regel: |rho| ≥ {strong} und "
                   "das Intervall bleibt jenseits von {weak} → verwendet (volles Gewicht); {weak} ≤ |rho| < {strong} "
                   "(oder das Intervall reicht unter {weak}) → schwach (halbes Gewicht); sonst, oder mit einem "
                   "Vorzeichen gegen die Richtung der Reihe → verworfen.",
                   "Spearman's rank correlation (rho) of every series {apply} has with {target} across the "
                   "Ortsteile of {fit}; 95 % interval from {boot} bootstrap draws. Rule: |rho| ≥ {strong} and the "
                   "interval stays beyond {weak} → used (full weight); {weak} ≤ |rho| < {strong} (or the interval "
                   "reaches below {weak}) → weak (half weight); otherwise, or with a sign against the series' "
                   "direction → rejected."),
    "basis.coverage": ("{n} von {m} Ortsteilen", "{n} of {m} Ortsteile"),
    "basis.no_evidence": ("Der Datenstand enthält keine Belege für die eigene Grundlage (neu bauen: quartiere "
                          "build).", "The data version holds no evidence for the own basis (rebuild: quartiere "
                          "build)."),
    "col.basis": ("Grundlage", "Basis"),
    "col.basis_confidence": ("Sicherheit", "Confidence"),
    "col.components": ("Statusindex aus (Gewicht)", "Status index from (weight)"),
    "col.data_year": ("Datenjahr / Zieljahr", "Data year / target year"),
    "col.rho": ("rho [95-%-Intervall]", "rho [95 % interval]"),
    "col.coverage": ("Abdeckung in {city}", "Coverage in {city}"),
    "col.proxy_verdict": ("Urteil", "Verdict"),
    "proxy.use": ("verwendet (volles Gewicht)", "used (full weight)"),
    "proxy.weak": ("schwach (halbes Gewicht)", "weak (half weight)"),
    "proxy.reject": ("verworfen", "rejected"),
    "col.explanation": ("Erklärung", "Explanation"),
    "col.alternative": ("Demografischer Vergleich", "Demographic comparison"),
    "designations.alt_note": ("Demografischer Vergleich: was die frühere demografische Definition ({alt}) für "
                              "denselben Ortsteil ergibt und was sich gegenüber ihr geändert hat.",
                              "Demographic comparison: what the former demographic definition ({alt}) gives for "
                              "the same Ortsteil and what changed against it."),
    "designations.summary": ("Erklärungen: {parts}.", "Explanations: {parts}."),
    "designations.none": ("Der Datenstand enthält keine Liste der Fördergebiete.",
                          "The data version holds no list of funding areas."),
    "ineq.note": ("Ortsteile der Stadt Bremen (Bremerhaven veröffentlicht keine Ortsteilstatistik), gewichtet mit "
                  "der Einwohnerzahl. Gini: 0 = alle Ortsteile gleich; Theil-Index zerlegt in Unterschiede "
                  "zwischen und innerhalb der Stadtbezirke (zwischen + innerhalb = gesamt). Ab 2016 sind die "
                  "Bevölkerungszahlen nur bedingt mit früheren Jahren vergleichbar (Methodenwechsel).",
                  "Ortsteile of the city of Bremen (Bremerhaven publishes no district statistics), weighted by "
                  "residents. Gini: 0 = all Ortsteile equal; the Theil index is split into differences between "
                  "and within the Stadtbezirke (between + within = total). From 2016 on the population figures "
                  "are only conditionally comparable with earlier years (method change)."),
    "chart.gini": ("Gini-Koeffizient zwischen den Ortsteilen", "Gini coefficient between Ortsteile"),
    "chart.theil": ("Theil-Index: {ind}", "Theil index: {ind}"),
    "chart.total": ("gesamt", "total"),
    "chart.between": ("zwischen", "between"),
    "chart.within": ("innerhalb", "within"),
    "chart.between_long": ("zwischen den Stadtbezirken", "between Stadtbezirke"),
    "chart.within_long": ("innerhalb der Stadtbezirke", "within Stadtbezirke"),
    "chart.seg": ("Segregation ausländischer Staatsangehöriger", "Segregation of foreign nationals"),
    "chart.dissimilarity": ("Dissimilarität", "Dissimilarity"),
    "chart.isolation": ("Isolation", "Isolation"),
    "chart.share": ("Anteil in der Stadt", "City-wide share"),
    "chart.moran": ("Räumliche Häufung des Ausländeranteils (Moran's I)",
                    "Spatial clustering of the share of foreign nationals (Moran's I)"),
    "chart.moran_series": ("Moran's I", "Moran's I"),
    "seg.note": ("Dissimilarität: Anteil der ausländischen Staatsangehörigen, der umziehen müsste, damit alle "
                 "Ortsteile denselben Anteil hätten (0 bis 1). Isolation: Anteil ausländischer Staatsangehöriger im "
                 "Ortsteil der durchschnittlichen ausländischen Person (Untergrenze: der Anteil in der Stadt). "
                 "Moran's I: > 0 heißt, ähnliche Ortsteile liegen nebeneinander (Permutationstest, p-Wert in der "
                 "Tabelle).",
                 "Dissimilarity: share of foreign nationals who would have to move for every Ortsteil to have the "
                 "same share (0 to 1). Isolation: share of foreign nationals in the Ortsteil of the average "
                 "foreign national (floor: the city-wide share). Moran's I: > 0 means similar Ortsteile lie next "
                 "to each other (permutation test, p-value in the table)."),
    "warning.note": ("Ortsteile mit mindestens 300 Einwohnern, deren Bedarfsquote in jeder der letzten {p} Perioden "
                     "von {step} Jahren um mehr als die Schwelle stieg (Annahmen): {thr}. Richtungen aus dem "
                     "Bedarfskatalog; Anteile nach Staatsangehörigkeit oder Alter sind nie Kriterien.",
                     "Ortsteile with at least 300 residents whose need rate rose in each of the last {p} periods of "
                     "{step} years by more than the threshold (assumptions): {thr}. Directions from the need "
                     "catalogue; shares by nationality or age are never criteria."),
    "warning.none": ("Keine Ortsteile auf der Frühwarnliste.", "No Ortsteile on the early-warning list."),
    "eval.note": ("Für ausgewiesene Ortsteile wird je Startjahr verglichen, wie sie sich nach dem Start verändert "
                  "haben, verglichen mit den ähnlichsten nicht ausgewiesenen Ortsteilen vor dem Start "
                  "(Differenz-von-Differenzen, Prozentpunkte; 95-%-Bootstrap-Intervall). Ein Schluss ist nur "
                  "möglich, wenn das Intervall 0 ausschließt, genug Gebiete und Jahre vorliegen und sich beide "
                  "Gruppen vor dem Start nicht schon unterschiedlich entwickelten.",
                  "For designated Ortsteile, per start year: how they changed after the start compared with the "
                  "most similar undesignated Ortsteile before the start (difference-in-differences, percentage "
                  "points; 95 % bootstrap interval). A conclusion is possible only when the interval excludes 0, "
                  "there are enough areas and years, and both groups had not already diverged before the start."),
    "eval.caveats": ("Grenzen der Auswertung", "Limits of the evaluation"),
    "eval.supports": ("lässt einen Schluss zu", "supports a conclusion"),
    "eval.too_thin": ("Daten zu dünn für einen Schluss", "data too thin to conclude"),
    "src.data": ("Daten", "Data"),
    "src.attribution": ("Urheberrecht und Lizenzen", "Attribution and licences"),
    "src.stat": ("© Statistisches Landesamt Bremen – Bevölkerung nach Ortsteilen (Tabellen 12411-03-03, 173-22, "
                 "173-55, 173-97), Datenlizenz Deutschland – Namensnennung – 2.0.",
                 "© Statistisches Landesamt Bremen – population by Ortsteil (tables 12411-03-03, 173-22, 173-55, "
                 "173-97), Data licence Germany – attribution – 2.0."),
    "src.geo": ("© GeoInformation Bremen – Verwaltungsgrenzen (Stadtbezirke, Stadtteile, Ortsteile), "
                "Datenlizenz Deutschland – Namensnennung – 2.0.",
                "© GeoInformation Bremen – administrative boundaries (Stadtbezirke, Stadtteile, Ortsteile), "
                "Data licence Germany – attribution – 2.0."),
    "src.designations": ("Liste der Fördergebiete: von Hand aus öffentlichen Quellen zusammengestellt (Quellen je "
                         "Gebiet unten, als Text).",
                         "List of funding areas: compiled by hand from public sources (sources per area below, as "
                         "text)."),
    "src.leaflet": ("Kartenbibliothek Leaflet 1.9.4 (BSD-2-Clause), eingebettet.",
                    "Map library Leaflet 1.9.4 (BSD-2-Clause), embedded."),
    "src.inputs": ("Eingabedateien des Datenstands (mit Prüfsummen im Manifest)",
                   "Input files of the data version (with checksums in the manifest)"),
    "src.method": ("Methode", "Method"),
    "src.assumptions": ("Die Programmdefinition ist unsere Annahme, nicht das amtliche Bremer Monitoring (dessen "
                        "Gewichte und Schwellen nicht veröffentlicht sind). Jede Zahl darin ist benannt und "
                        "änderbar.",
                        "The programme definition is our assumption, not Bremen's official monitoring (whose "
                        "weights and thresholds are not published). Every number in it is named and can be "
                        "changed."),
    "src.policy": ("Regeln für Gleichstände, fehlende Werte und Sonderfälle", "Policy for ties, missing values and "
                   "degenerate data"),
    "src.sources_list": ("Quellen der Ausweisungen", "Sources of the designations"),
    "yes": ("ja", "yes"),
    "no": ("nein", "no"),
    "none": ("–", "–"),
    "footer": ("Lebendige Quartiere · Bericht ohne Internetverbindung lesbar · keine externen Inhalte",
               "Lebendige Quartiere · readable offline · no external content"),
}

VERDICTS: dict[str, tuple[str, str]] = {
    "designated and indicated": ("ausgewiesen und indiziert", "designated and indicated"),
    "designated, not indicated (phase-out candidate)": ("ausgewiesen, nicht (mehr) indiziert (Auslaufkandidat)",
                                                        "designated, not indicated (phase-out candidate)"),
    "indicated, not designated (new candidate)": ("indiziert, nicht ausgewiesen (neuer Kandidat)",
                                                  "indicated, not designated (new candidate)"),
}

#: German renderings of the evaluation's reason phrases (English originals from geo.analysis.monitoring.evaluation)
_REASON_DE: list[tuple[str, str]] = [
    (r"^(\d+) funded districts with complete pre-start data \(need (\d+)\)$",
     r"nur \1 geförderte Ortsteile mit vollständigen Daten vor dem Start (nötig: \2)"),
    (r"^(\d+) comparison districts \(need (\d+)\)$", r"nur \1 Vergleichsortsteile (nötig: \2)"),
    (r"^(\d+) years before the start (\d+) \((.*); need (\d+)\)$",
     r"nur \1 Jahre vor dem Start \2 (\3; nötig: \4)"),
    (r"^(\d+) years from the start on \(need (\d+)\)$", r"nur \1 Jahre ab dem Start (nötig: \2)"),
    (r"^too few funded districts for an interval$", "zu wenige geförderte Ortsteile für ein Intervall"),
    (r"^the (\d+) ?% interval includes 0$", r"das \1-%-Intervall schließt 0 ein"),
    (r"^funded and comparison districts already diverged before (\d+) \((.*)\)$",
     r"geförderte und Vergleichsortsteile entwickelten sich schon vor \1 auseinander (\2)"),
    (r"pre-trend", "Vorher-Trend"),
    (r"^no pre-trend check possible \(fewer than 2 years before the start\)$",
     "keine Prüfung des Vorher-Trends möglich (weniger als 2 Jahre vor dem Start)"),
    (r"^no matched comparison$", "kein Vergleich gefunden"),
]
_CAVEAT_DE: list[tuple[str, str]] = [
    ("Start years are assumptions", "Die Startjahre sind Annahmen aus der Programmgeschichte ({rest}), nicht aus der "
     "Liste der Fördergebiete."),
    ("The designation list is current", "Die Liste der Fördergebiete ist aktuell; früher geförderte und "
     "inzwischen beendete Gebiete zählen als Vergleichsgebiete."),
    ("Outcomes are demographic", "Die Ergebnisgrößen sind demografisch; Armuts- und Bildungsreihen je Ortsteil "
     "werden nicht veröffentlicht."),
    ("Matched controls are drawn", "Vergleichsgebiete werden mit Zurücklegen gezogen; der Bootstrap zieht nur die "
     "geförderten Ortsteile neu."),
    ("The population statistics changed method", "Die Bevölkerungsstatistik hat 2016 die Methode gewechselt; der "
     "Vergleich nimmt an, dass der Bruch geförderte und Vergleichsgebiete gleich trifft."),
]


def _t(key: str, lang: str, **kw: Any) -> str:
    de, en = TEXT[key]
    text = de if lang == "de" else en
    return text.format(**kw) if kw else text


def _reason_text(reason: str, lang: str) -> str:
    if lang != "de" or not reason:
        return reason
    out = []
    for part in (p.strip() for p in re.split(r";\s*(?![^()\[\]]*[)\]])", reason)):
        if not part:
            continue
        for pat, rep in _REASON_DE[:-1]:
            if re.match(pat, part):
                part = re.sub(pat, rep, part)
                break
        out.append(re.sub(*_REASON_DE[-1], part))
    return "; ".join(out)


def _caveat_text(caveat: str, lang: str) -> str:
    if lang != "de":
        return caveat
    for prefix, text in _CAVEAT_DE:
        if caveat.startswith(prefix):
            rest = caveat[caveat.find("(") + 1: caveat.find(")")] if "(" in caveat else ""
            return text.format(rest=rest)
    return caveat


# -- data -------------------------------------------------------------------------------------------------


@dataclass
class ReportData:
    """Everything the report shows, computed once (inspect it in tests and notebooks without HTML).

    Attributes
    ----------
    year
        The programme year (data year of the classification; the series run up to it).
    wide
        The snapshot's wide Ortsteil table of ``year`` (GeoDataFrame, EPSG:25832).
    result
        The :class:`geo.classify.ClassificationResult`.
    inequality, segregation
        :func:`geo.analysis.monitoring.inequality_series` of :data:`CHART_INDICATORS` and the segregation of foreign
        nationals (descriptive demography) up to ``year``.
    warnings
        Early-warning rows on need series (``warning`` true only) of districts classifiable in ``year``, with
        ``name`` (:func:`geo.analysis.monitoring.need_early_warning`).
    evaluation
        :class:`geo.analysis.monitoring.EvaluationResult` of the need series (cohorts by start year).
    poverty_inequality, poverty_segregation, comparison
        :func:`geo.analysis.monitoring.poverty_inequality`, :func:`geo.analysis.monitoring.sgb2_segregation` and the
        :class:`geo.analysis.monitoring.ChangeComparison` of the WiN Ortsteiles (the same functions as the build's
        monitoring product, so page and report agree).
    synthetic
        What in the inputs is marked synthetic (empty with the real data).
    """

    snapshot: Any
    definition: Any
    year: int
    wide: Any
    result: Any
    inequality: pd.DataFrame
    segregation: pd.DataFrame
    warnings: pd.DataFrame
    directions: dict[str, int]
    evaluation: Any
    synthetic: list[str] = field(default_factory=list)
    poverty_inequality: pd.DataFrame = field(default_factory=pd.DataFrame)
    poverty_segregation: pd.DataFrame = field(default_factory=pd.DataFrame)
    comparison: Any = None


def find_synthetic(snapshot: Any) -> list[str]:
    """Inputs, indicator sources or designation sources of ``snapshot`` that are marked synthetic."""
    found: list[str] = []

    def marked(text: object) -> bool:
        low = str(text).lower()
        return any(m in low for m in SYNTHETIC_MARKERS)

    for item in snapshot.manifest.get("inputs", []):
        if marked(item.get("path", "")):
            found.append(str(item["path"]))
    if snapshot.manifest.get("synthetic"):
        found.append(f"manifest: {snapshot.manifest['synthetic']}")
    ind = snapshot.indicators
    if "source" in ind.columns:
        for src in ind["source"].dropna().astype(str).unique():
            if marked(src):
                found.append(f"indicator source: {src}")
    des = snapshot.designations
    for col in ("sources", "confidence", "status"):
        if col in getattr(des, "columns", []):
            for val in des[col].dropna().astype(str).unique():
                if marked(val):
                    found.append(f"designations {col}: {val}")
    return found


def _check_year(snapshot: Any, year: int | None) -> int:
    years = sorted(int(y) for y in snapshot.manifest.get("years", []))
    if year is None:
        return int(snapshot.latest_year)
    if int(year) not in years:
        raise ValidationError(f"no data for the programme year {year} in snapshot {snapshot.version}",
                              problems=[Problem("year", f"--year must be one of {', '.join(map(str, years))}, "
                                                f"got {year}")])
    return int(year)


#: published meta entries that hold for another draws count of the same year (draws change only the stability)
_SAME_YEAR_META = ("basis_evidence", "designations_versus_data")
#: published meta entries that describe the definition's basis whatever the year
_ANY_YEAR_META = ("basis_evidence",)


def _classification(snapshot: Any, defn: Any, wide: Any, *, year: int, draws: int | None) -> Any:
    """The classification the build published for ``defn`` when it is the one asked for (the snapshot's latest
    year, the definition's draws); otherwise classified here, with the published evidence that still holds
    (the proxy evidence always; designated versus indicated for the latest year only)."""
    from geo.classify import classify
    from geo.errors import ProductMissingError, SnapshotError
    from geo.pipeline.products import read_classification

    meta = {"snapshot_version": snapshot.version, "level": "ortsteil", "year": year}
    published = None
    if getattr(snapshot, "path", None) is not None:
        try:
            published = read_classification(Path(snapshot.path), snapshot.manifest, defn)
        except (ProductMissingError, SnapshotError):
            published = None
    latest = year == int(snapshot.latest_year)
    if published is not None and latest and draws in (None, defn.robustness.draws):
        published.meta.update(meta)
        return published
    result = classify(wide, defn, draws=draws, meta=meta)
    if published is not None:
        for name in _SAME_YEAR_META if latest else _ANY_YEAR_META:
            if name in published.meta:
                result.meta[name] = published.meta[name]
    return result


def collect_report_data(snapshot: Any, definition: Any, *, year: int | None = None, draws: int | None = None,
                        permutations: int = 999) -> ReportData:
    """Read (or, for another year or draws count, run) the classification and run the monitoring for ``year``
    (default: the snapshot's latest year).

    Parameters
    ----------
    snapshot
        A loaded :class:`geo.pipeline.snapshot.Snapshot`.
    definition
        A :class:`geo.classify.Definition`, a mapping or the path of a YAML file.
    year
        Programme year; must be a year of the snapshot.
    draws
        Monte Carlo draws (default: the definition's).
    permutations
        Permutations of the Moran's I tests.
    """
    from geo.analysis import monitoring
    from geo.classify import load_definition

    defn = definition if hasattr(definition, "indicators") else load_definition(definition)
    year = _check_year(snapshot, year)
    wide = snapshot.wide("ortsteil", year)
    result = _classification(snapshot, defn, wide, year=year, draws=draws)
    long = snapshot.indicators[snapshot.indicators["year"] <= year]
    groups = monitoring.parent_map(wide)
    inequality = monitoring.inequality_series(long, groups=groups, indicators=list(CHART_INDICATORS))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        segregation = monitoring.segregation_series(long, districts=snapshot.layer("ortsteil"),
                                                    permutations=permutations)
    directions = need_directions()
    ew = monitoring.need_early_warning(long)
    table = result.table.set_index("key")
    ok = set(table.index[table["classifiable"]])
    ew = ew[ew["warning"] & ew["key"].isin(ok)].copy()
    ew["name"] = ew["key"].map(table["name"])
    ew["population"] = ew["key"].map(table["population"])
    evaluation = comparison = None
    if len(snapshot.designations):
        comparison, cohorts = monitoring.need_evaluation(long, snapshot.designations)
        evaluation = monitoring.EvaluationResult(
            outcomes=pd.concat([c.outcomes for c in cohorts], ignore_index=True),
            matches=pd.concat([c.matches for c in cohorts], ignore_index=True),
            treated=cohorts[0].treated, caveats=cohorts[0].caveats) if cohorts else None
    pov_ineq = monitoring.poverty_inequality(long, groups=groups)
    pov_seg = monitoring.sgb2_segregation(long, districts=snapshot.layer("ortsteil"), permutations=permutations)
    return ReportData(snapshot=snapshot, definition=defn, year=year, wide=wide, result=result,
                      inequality=inequality, segregation=segregation, warnings=ew.reset_index(drop=True),
                      directions=directions, evaluation=evaluation, synthetic=find_synthetic(snapshot),
                      poverty_inequality=pov_ineq, poverty_segregation=pov_seg, comparison=comparison)


# -- maps -------------------------------------------------------------------------------------------------


def _data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def inline_leaflet() -> tuple[str, str]:
    """The vendored Leaflet script and stylesheet, the stylesheet's images turned into ``data:`` URIs."""
    js_path, css_path = VENDOR / "leaflet" / "leaflet.js", VENDOR / "leaflet" / "leaflet.css"
    if not js_path.is_file() or not css_path.is_file():
        raise FileNotFoundError(f"vendored Leaflet not found under {VENDOR / 'leaflet'}")
    css = css_path.read_text(encoding="utf-8")
    css = re.sub(r"url\((['\"]?)images/([\w.-]+\.png)\1\)",
                 lambda m: f"url({_data_uri(VENDOR / 'leaflet' / 'images' / m.group(2))})", css)
    js = js_path.read_text(encoding="utf-8").replace("</script", "<\\/script")
    return js, css


def interactive_map_document(data: ReportData, lang: str) -> str:
    """A complete HTML document with the folium overview map and Leaflet inlined (for ``<iframe srcdoc>``)."""
    from maps import map_parts, overview_map

    js, css = inline_leaflet()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = overview_map(data.wide, classification=data.result.table, lang=lang, asset_base="__VENDOR__",
                         profile_url="#d-__KEY__", use_hash=False, initial_layer="categories",
                         config={"indicators": list(MAP_INDICATORS)})
        parts = map_parts(m)
    head = re.sub(r'<script src="__VENDOR__/[^"]*"></script>', "", str(parts.head))
    head = re.sub(r'<link rel="stylesheet" href="__VENDOR__/[^"]*"\s*/?>', "", head)
    if "__VENDOR__" in head:  # pragma: no cover - a new asset the maps engineer added
        raise RuntimeError("the map needs an asset the report does not inline")
    # the srcdoc document may run its script before the iframe is laid out: fit the view again once loaded
    # (first view: the city of Bremen, where the statistics are; the map's buttons show both cities)
    # (Ortsteil 04011123 belongs to Bremen but lies inside Bremerhaven and has no statistics: left out of the fit)
    has = data.wide["has_statistics"].astype(bool) if "has_statistics" in data.wide else None
    focus = data.wide[has] if has is not None and has.any() else data.wide
    minx, miny, maxx, maxy = (round(float(v), 5) for v in focus.to_crs(4326).total_bounds)
    refit = ("<script>(function(){var m=window['" + parts.name + "'],done=false;function fit(){var c=m.getContainer();"
             "if(done||!c.clientWidth||!c.clientHeight){return;}done=true;m.invalidateSize();"
             f"m.fitBounds([[{miny},{minx}],[{maxy},{maxx}]],{{animate:false}});}}"
             "if(window.ResizeObserver){new ResizeObserver(fit).observe(m.getContainer());}"
             "window.addEventListener('load',fit);fit();})();</script>")
    return ("<!DOCTYPE html><html lang=\"" + lang + "\"><head><meta charset=\"utf-8\">"
            f"<style>{css}</style><script>{js}</script>{head}</head>"
            f"<body>{parts.body}{parts.script}{refit}</body></html>")


def primary_category(categories: Sequence[str] | None, classifiable: bool) -> str:
    """The category shown on a map for a district (the first in the map's order), ``none`` or
    ``not_classifiable``."""
    from maps.overview import CATEGORY_ORDER

    if not classifiable:
        return "not_classifiable"
    cats = set(categories or [])
    for c in CATEGORY_ORDER:
        if c in cats:
            return c
    return "none"


def static_map_svg(data: ReportData, lang: str, *, width: int = 900, tolerance_m: float = 40.0) -> Markup:
    """A static SVG map of the categories: the city of Bremen and Bremerhaven side by side, with a legend."""
    from maps import palettes
    from maps.i18n import t

    table = data.result.table.set_index("key")
    frame = data.wide[["key", "name", "city", "geometry"]].copy()
    frame["cat"] = [primary_category(table.at[k, "categories"] if k in table.index else None,
                                     bool(table.at[k, "classifiable"]) if k in table.index else False)
                    for k in frame["key"]]
    frame["geometry"] = frame.geometry.simplify(tolerance_m, preserve_topology=True)
    panels = [(c, frame[frame["city"] == c]) for c in ("Bremen", "Bremerhaven") if (frame["city"] == c).any()]
    # one common scale: metres per pixel
    gap, pad, legend_w = 20, 10, 210
    spans = [(p.total_bounds[2] - p.total_bounds[0], p.total_bounds[3] - p.total_bounds[1]) for _, p in panels]
    total_w = sum(s[0] for s in spans)
    scale = (width - legend_w - gap * (len(panels) - 1) - 2 * pad) / total_w
    height = int(max(s[1] for s in spans) * scale + 2 * pad + 24)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="q-map" viewBox="0 0 {width} {height}" '
           f'width="100%" role="img" aria-labelledby="static-map-title">',
           f'<title id="static-map-title">{escape(_t("sec.map", lang))}</title>']
    x_off = pad
    for (city, part), (sw, _sh) in zip(panels, spans, strict=True):
        minx, _miny, _maxx, maxy = part.total_bounds
        out.append(f'<text x="{x_off:.0f}" y="16" font-size="13" font-weight="600" fill="#222">{escape(city)}</text>')

        def project(x: float, y: float, x0: float = x_off, left: float = minx,
                    top: float = maxy) -> tuple[float, float]:
            return x0 + (x - left) * scale, 24 + pad + (top - y) * scale

        for row in part.itertuples():
            colour = palettes.CATEGORY_COLOURS.get(row.cat, palettes.NO_DATA)
            d = _svg_path(row.geometry, project)
            label = f"{row.name} ({row.key}): {t(f'cat.{row.cat}', lang)}"
            out.append(f'<path d="{d}" fill="{colour}" stroke="#555" stroke-width="0.5" fill-rule="evenodd">'
                       f"<title>{escape(label)}</title></path>")
        x_off += sw * scale + gap
    ly = 40
    lx = width - legend_w + 10
    counts = frame["cat"].value_counts()
    for cat, colour in palettes.CATEGORY_COLOURS.items():
        n = int(counts.get(cat, 0))
        if not n and cat not in ("none", "not_classifiable"):
            continue
        out.append(f'<rect x="{lx}" y="{ly - 11}" width="14" height="14" fill="{colour}" stroke="#555"/>'
                   f'<text x="{lx + 20}" y="{ly}" font-size="12" fill="#222">{escape(t(f"cat.{cat}", lang))} '
                   f"({n})</text>")
        ly += 20
    out.append("</svg>")
    return Markup("".join(out))


def _svg_path(geom: Any, project: Any) -> str:
    parts = []
    polys = getattr(geom, "geoms", [geom])
    for poly in polys:
        if poly.is_empty:
            continue
        for ring in [poly.exterior, *poly.interiors]:
            pts = [project(x, y) for x, y in ring.coords]
            parts.append("M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in pts) + "Z")
    return "".join(parts)


# -- rendering --------------------------------------------------------------------------------------------


def _num(v: Any, lang: str, decimals: int = 0) -> str:
    from maps.i18n import fmt_number

    try:
        f = float(v)
    except (TypeError, ValueError):
        return "–"
    if not math.isfinite(f):
        return "–"
    return fmt_number(f, lang, decimals=decimals)


def _signed(v: Any, lang: str, decimals: int = 2) -> str:
    """A number with its sign: ``+0,60``, ``−0,88`` (typographic minus), ``0,00``; ``–`` when missing."""
    text = _num(v, lang, decimals)
    if text == "–":
        return text
    digits = text.lstrip("-")
    if not digits.strip("0,."):
        return digits
    return ("−" + digits) if text.startswith("-") else ("+" + digits)


def _split_tags(value: Any) -> list[str]:
    if isinstance(value, list | tuple):
        return [str(v) for v in value if str(v)]
    return [c for c in str(value or "").split(";") if c]


def designation_explanation(row: Mapping[str, Any], lang: str = "de", *, reason: str | None = None) -> str:
    """Why a designated or indicated Ortsteil stands where it does, in words (report and profile page).

    Built from one row of the published ``designations_versus_data`` (:mod:`geo.classify.designations`): the
    ``explanation`` code with ``status_index``, ``shortfall_sd``, ``designation_areas`` and
    ``indicated_categories``, never from the English ``detail``. ``reason`` is the engine's
    not-classifiable reason for ``no_data`` rows. An empty string when there is nothing to explain.
    """
    from maps.i18n import reason_text, t

    code = str(row.get("explanation") or "")
    cats = _category_labels(_split_tags(row.get("indicated_categories")), lang) or t("cat.none", lang)
    areas = str(row.get("designation_areas") or "").strip() or str(row.get("name") or "")
    values = {"cats": cats, "areas": areas, "status": _signed(row.get("status_index"), lang, 2),
              "gap": _num(row.get("shortfall_sd"), lang, 2)}
    if code == "no_data":
        why = reason_text(reason, lang) if reason else ""
        return t("explain.no_data", lang) + (f": {why}" if why else "")
    if code in ("agree", "near_miss", "sub_ortsteil_estate", "outdated_designation", "new_candidate"):
        return t(f"explain.{code}", lang).format(**values)
    if not code and row.get("indicated_alternative"):
        return t("explain.alternative_only", lang)
    return ""


def _explanation_code(row: Mapping[str, Any]) -> str:
    code = str(row.get("explanation") or "")
    return code or ("alternative_only" if row.get("indicated_alternative") else "")


def _series(frame: pd.DataFrame, column: str) -> list[tuple[int, float]]:
    return [(int(y), float(v)) for y, v in zip(frame["year"], frame[column], strict=True)]


def _charts(data: ReportData, lang: str) -> dict[str, Markup]:
    from maps.charts import line_chart
    from maps.i18n import indicator_label

    ineq = data.inequality
    gini = {indicator_label(ind, lang): _series(ineq[ineq["indicator"] == ind], "gini") for ind in CHART_INDICATORS}
    th = ineq[ineq["indicator"] == THEIL_INDICATOR]
    theil = {_t("chart.total", lang): _series(th, "theil"),
             _t("chart.between_long", lang): _series(th, "theil_between"),
             _t("chart.within_long", lang): _series(th, "theil_within")}
    seg = data.segregation
    segc = {_t("chart.dissimilarity", lang): _series(seg, "dissimilarity"),
            _t("chart.isolation", lang): _series(seg, "isolation"),
            _t("chart.share", lang): _series(seg, "group_share")}
    moran = {_t("chart.moran_series", lang): _series(seg, "morans_i")}
    kw: dict[str, Any] = {"lang": lang, "width": 540, "height": 250}
    charts = {
        "gini": line_chart(gini, title=_t("chart.gini", lang), decimals=2, **kw),
        "theil": line_chart(theil, title=_t("chart.theil", lang, ind=indicator_label(THEIL_INDICATOR, lang)),
                            decimals=3, **kw),
        "segregation": line_chart(segc, title=_t("chart.seg", lang), decimals=2, **kw),
        "moran": line_chart(moran, title=_t("chart.moran", lang), decimals=2, **kw),
    }
    return charts


def _poverty_context(data: ReportData, lang: str) -> dict[str, Any]:
    """Tables, charts and the evaluation verdict of the poverty section."""
    from geo.analysis.monitoring.poverty import (
        EVALUATION_BOOT,
        EVALUATION_PLACEBO_GROUPS,
        EVALUATION_SEED,
        verdict_text,
    )
    from geo.pipeline.indicators import REGISTRY
    from maps.charts import line_chart
    from maps.i18n import indicator_label

    pin = data.poverty_inequality
    kw: dict[str, Any] = {"lang": lang, "width": 540, "height": 250}
    charts: dict[str, Any] = {}
    rows = []
    if len(pin):
        ok = pin[pin["gini"].notna()]
        y0, y1 = int(ok["year"].min()), int(ok["year"].max())
        charts["gini"] = line_chart({indicator_label(n, lang): _series(pin[pin["indicator"] == n], "gini")
                                     for n in INEQUALITY_SERIES if (pin["indicator"] == n).any()},
                                    title=_t("pov.gini", lang, y0=y0, y1=y1), decimals=2, **kw)
        u15 = pin[pin["indicator"] == "sgb2_u15_pct"]
        if len(u15):
            charts["theil"] = line_chart({_t("chart.total", lang): _series(u15, "theil"),
                                          _t("chart.between_long", lang): _series(u15, "theil_between"),
                                          _t("chart.within_long", lang): _series(u15, "theil_within")},
                                         title=_t("pov.theil", lang, y0=int(u15["year"].min()),
                                                  y1=int(u15["year"].max())), decimals=3, **kw)
        for r in pin.itertuples():
            wt = ("Nenner" if lang == "de" else "denominator") if r.weight_basis == "denominator" else (
                f"{int(r.weight_year)}" if r.weight_year == r.weight_year else
                ("gleiches Jahr" if lang == "de" else "same year"))
            rows.append({"indicator": indicator_label(r.indicator, lang), "year": r.year, "n": r.n_districts,
                         "gini": _num(r.gini, lang, 3), "theil": _num(r.theil, lang, 3),
                         "between": _num(r.theil_between, lang, 3), "within": _num(r.theil_within, lang, 3),
                         "p90": _num(r.p90_p10_ratio, lang, 1), "cv": _num(r.cv, lang, 2), "weight": wt})
    weights = "; ".join(f"{indicator_label(n, lang)}: {b[1] if lang == 'de' else b[2]}"
                        for n, b in WEIGHT_BASES.items())
    pseg = data.poverty_segregation
    seg_rows = [{"year": r.year, "n": r.n_districts, "share": _num(100 * r.group_share, lang, 1),
                 "dissimilarity": _num(r.dissimilarity, lang, 3), "isolation": _num(r.isolation, lang, 3),
                 "moran": _num(r.morans_i, lang, 2)} for r in pseg.itertuples()] if len(pseg) else []
    if len(pseg):
        charts["seg"] = line_chart({_t("chart.dissimilarity", lang): _series(pseg, "dissimilarity"),
                                    _t("chart.isolation", lang): _series(pseg, "isolation"),
                                    _t("chart.share", lang): _series(pseg, "group_share")},
                                   title=f"{_t('pov.seg', lang)}, {int(pseg['year'].min())}–"
                                         f"{int(pseg['year'].max())}", decimals=2, **kw)
    verdict: dict[str, Any] | None = None
    comp_rows = []
    if data.comparison is not None:
        labels = {n: (REGISTRY[n].label_de, REGISTRY[n].label_en) for n in data.comparison.outcomes["outcome"]
                  if n in REGISTRY}
        verdict = verdict_text(data.comparison, labels=labels, lang=lang)
        for r in data.comparison.outcomes.itertuples():
            comp_rows.append({
                "outcome": indicator_label(r.outcome, lang), "window": f"{r.base_year}–{r.end_year}",
                "treated": f"{r.n_treated} / {r.n_outside_support}", "estimate": _num(r.estimate, lang, 2),
                "interval": f"[{_num(r.ci_low, lang, 2)}; {_num(r.ci_high, lang, 2)}]",
                "groups": f"[{_num(r.placebo_groups_low, lang, 2)}; {_num(r.placebo_groups_high, lang, 2)}]",
                "placebo": (f"{r.placebo_year}: {_num(r.placebo_estimate, lang, 2)} "
                            f"[{_num(r.placebo_ci_low, lang, 2)}; {_num(r.placebo_ci_high, lang, 2)}]")})
    return {"pov_rows": rows, "pov_charts": charts, "pov_weights": weights, "pov_seg_rows": seg_rows,
            "pov_seg_years": ", ".join(str(r["year"]) for r in seg_rows), "pov_verdict": verdict,
            "pov_comp_rows": comp_rows,
            "pov_seed": _t("pov.seed", lang, n=EVALUATION_BOOT, g=EVALUATION_PLACEBO_GROUPS, seed=EVALUATION_SEED)}


def _category_labels(cats: Sequence[str], lang: str) -> str:
    from maps.i18n import t

    return ", ".join(t(f"cat.{c}", lang) for c in cats) if len(cats) else ""


def _status_components(definition: Any) -> list[Any]:
    """The components of ``definition``'s status index (its first index when none is called status)."""
    specs = [spec for spec in definition.indices if spec.name == "status"] or list(definition.indices[:1])
    return list(specs[0].components) if specs else []


def _basis_context(data: ReportData, lang: str) -> dict[str, Any]:
    """Per city the basis of its classification, and the published evidence for a basis of its own."""
    from maps.i18n import indicator_label, t

    res, defn = data.result, data.definition
    published = res.meta.get("bases") or {}
    table = res.table[~res.table["is_extra"]] if "is_extra" in res.table else res.table
    rows = []
    for city in dict.fromkeys(str(c) for c in table["city"]):
        sub = defn.basis_for(city)
        own = sub is not defn
        info = published.get(city) if own else published.get("default")
        info = dict(info or sub.basis or {})
        conf = str(info.get("confidence") or "")
        comps = [f"{indicator_label(c.indicator, lang)} – {_t('basis.weight', lang)} {_num(c.weight, lang, 1)}"
                 for c in _status_components(sub)]
        uses = {c.indicator for c in _status_components(sub)}
        missing = [indicator_label(c.indicator, lang) for c in _status_components(defn) if c.indicator not in uses]
        rows.append({"city": city, "kind": _t("basis.own" if own else "basis.programme", lang),
                     "label": str(info.get("label") or ""), "description": str(info.get("description") or ""),
                     "confidence": t(f"confidence_level.{conf}", lang) if conf else "–", "components": comps,
                     "not_published": t("basis.not_published", lang).format(city=city, names=", ".join(missing))
                     if own and missing else ""})
    ev = res.meta.get("basis_evidence") or None
    evidence: dict[str, Any] | None = None
    if ev:
        apply_city = str(ev.get("apply_city", ""))
        ev_rows = []
        for r in ev.get("rows") or []:
            verdict = str(r.get("verdict") or "")
            n_other = r.get("n_other_city")
            ev_rows.append({
                "indicator": str(r.get("label_en" if lang == "en" else "label_de") or r.get("indicator")),
                "years": f"{r.get('year') or '–'} / {r.get('target_year') or '–'}", "n": r.get("n") or "–",
                "rho": f"{_signed(r.get('rho'), lang)} [{_signed(r.get('ci_low'), lang)}; "
                       f"{_signed(r.get('ci_high'), lang)}]",
                "coverage": _t("basis.coverage", lang, n=r.get("coverage_other_city") or 0, m=n_other)
                if n_other else "–",
                "verdict": _t(f"proxy.{verdict}", lang) if f"proxy.{verdict}" in TEXT else verdict,
                "verdict_id": verdict})
        evidence = {
            "title": _t("basis.evidence", lang, city=apply_city),
            "coverage_col": _t("col.coverage", lang, city=apply_city), "rows": ev_rows,
            "rule": _t("basis.rule", lang, apply=apply_city, fit=ev.get("fit_city", ""),
                       target=indicator_label(str(ev.get("target", "")), lang),
                       boot=_num(ev.get("bootstrap"), lang), strong=_num(ev.get("strong"), lang, 1),
                       weak=_num(ev.get("weak"), lang, 1)),
            "note": str(ev.get("note") or "")}
    return {"basis_rows": rows, "basis_evidence": evidence,
            "needs_evidence": evidence is None and any(defn.bases)}


def _designation_context(data: ReportData, lang: str) -> dict[str, Any]:
    """The designations table: the published designated-versus-data rows with their explanations, or (older
    products) the engine's designation check."""
    from maps.i18n import t

    res = data.result
    dc = res.designation_check
    def programme_words(text: Any) -> str:
        words = [t(f"programme.{p}", lang) for p in _split_tags(text)]
        return ", ".join(w.removeprefix("programme.") for w in words)

    programmes = {str(r.key): programme_words(r.designation_programmes) for r in dc.itertuples()} \
        if len(dc) and "designation_programmes" in dc else {}

    def confidence(code: Any) -> str:
        code = str(code or "")
        word = t(f"confidence.{code}", lang)
        return code if word == f"confidence.{code}" else word

    dvd = res.meta.get("designations_versus_data") or None
    if dvd and dvd.get("rows") is not None:
        reasons = res.table.set_index("key")["classifiable_reason"] if "classifiable_reason" in res.table \
            else pd.Series(dtype=object)
        alt = dvd.get("alternative")
        rows: list[dict[str, Any]] = []
        counts: dict[str, int] = {}
        for r in dvd["rows"]:
            key = str(r.get("key"))
            code = _explanation_code(r)
            counts[code] = counts.get(code, 0) + 1
            alt_text = "–"
            if alt:
                change = str(r.get("change_from_alternative") or "")
                word = t(f"change.{change}", lang)
                alt_cats = _category_labels(_split_tags(r.get("alternative_categories")), lang) or t("cat.none", lang)
                alt_text = f"{alt_cats} ({word})" if change else alt_cats
            rows.append({
                "key": key, "name": r.get("name", ""), "designated": _t("yes" if r.get("designated") else "no", lang),
                "programmes": programmes.get(key, ""), "confidence": confidence(r.get("designation_confidence")),
                "indicated": _category_labels(_split_tags(r.get("indicated_categories")), lang) or "–",
                "explanation": designation_explanation(r, lang, reason=reasons.get(key)) or "–",
                "explanation_id": code, "alternative": alt_text,
                "agree": bool(r.get("designated")) == bool(r.get("indicated"))})
        order = ("agree", "near_miss", "sub_ortsteil_estate", "outdated_designation", "new_candidate", "no_data",
                 "alternative_only")
        parts = [f"{counts[c]} {t(f'explain_short.{c}', lang)}" for c in order if counts.get(c)]
        return {"des_rows": rows, "has_designations": bool(rows), "has_explanations": True,
                "has_alternative": bool(alt), "des_alt_note": _t("designations.alt_note", lang, alt=alt) if alt
                else "", "des_summary": _t("designations.summary", lang, parts=", ".join(parts)) if parts else ""}
    rows = [{"key": r.key, "name": r.name, "city": r.city, "designated": _t("yes" if r.designated else "no", lang),
             "programmes": programmes.get(str(r.key), ""), "confidence": confidence(r.designation_confidence),
             "indicated": _category_labels([c for c in str(r.indicated_categories or "").split(";") if c], lang)
             or "–",
             "verdict": VERDICTS.get(r.verdict, (r.verdict, r.verdict))[0 if lang == "de" else 1],
             "agree": bool(r.designated) == bool(r.indicated)} for r in dc.itertuples()]
    return {"des_rows": rows, "has_designations": len(dc) > 0, "has_explanations": False, "has_alternative": False,
            "des_alt_note": "", "des_summary": ""}


def _context(data: ReportData, lang: str, map_mode: str) -> dict[str, Any]:
    from maps.i18n import indicator_label, reason_text, t

    res, snap, defn = data.result, data.snapshot, data.definition
    table = res.table[~res.table["is_extra"]].copy()
    table["status_index_sort"] = table["status_index"].fillna(-99)
    table = table.sort_values(["city", "status_index_sort", "key"], ascending=[True, False, True])
    cat_ids = list(defn.category_ids)

    def cls_label(prefix: str, v: Any) -> str:
        return t(f"{prefix}.{v}", lang) if isinstance(v, str) and v else "–"

    def reason_label(reason: str) -> str:
        text = reason_text(reason, lang)
        return f"{t('cat.not_classifiable', lang)}: {text}" if text else ""

    district_rows = []
    for r in table.itertuples():
        district_rows.append({
            "key": r.key, "name": r.name, "city": r.city, "population": _num(r.population, lang),
            "status": cls_label("status", r.status_class), "status_class": r.status_class or "",
            "status_index": _num(r.status_index, lang, 2), "dynamics": cls_label("dynamics", r.dynamics_class),
            "dynamics_class": r.dynamics_class or "",
            "categories": _category_labels(list(r.categories), lang) or (reason_label(r.classifiable_reason)
                                                                          if not r.classifiable else "–"),
            "cat_ids": list(r.categories), "classifiable": bool(r.classifiable),
            "stability": (_num(100 * r.stability, lang) + " %") if r.stability == r.stability else "–",
            "borderline": bool(r.borderline), "budget": _num(r.budget_eur, lang) if r.budget_eur == r.budget_eur
            else "",
        })
    # summary per category
    cat_rows = []
    for cid in cat_ids:
        sel = table[table[f"is_{cid}"]]
        cat_rows.append({"id": cid, "label": t(f"cat.{cid}", lang), "n": len(sel),
                         "residents": _num(sel["population"].sum(), lang),
                         "budget": _num(sel["budget_eur"].sum(), lang) if sel["budget_eur"].notna().any() else "–"})
    budget_rows = [{"group": b.group, "total": _num(b.total_eur, lang), "allocated": _num(b.allocated_eur, lang),
                    "unallocated": _num(b.unallocated_eur, lang),
                    "note": _t("sum.no_area_note", lang) if b.note.startswith("no qualifying") and lang == "de"
                    else b.note} for b in res.budget.itertuples()]
    # designation check (counts for the key points; the table: _designation_context)
    dc = res.designation_check
    n_des = int(dc["designated"].sum()) if len(dc) else 0
    both = int((dc["designated"] & dc["indicated"]).sum()) if len(dc) else 0
    new = int((~dc["designated"].astype(bool) & dc["indicated"].astype(bool)).sum()) if len(dc) else 0
    old = int((dc["designated"].astype(bool) & ~dc["indicated"].astype(bool)).sum()) if len(dc) else 0
    # inequality / segregation tables
    ineq = data.inequality
    ineq_rows = [{"indicator": indicator_label(r.indicator, lang), "year": r.year, "n": r.n_districts,
                  "gini": _num(r.gini, lang, 3), "theil": _num(r.theil, lang, 3),
                  "between": _num(r.theil_between, lang, 3), "within": _num(r.theil_within, lang, 3),
                  "share": _num(100 * r.theil_between_share, lang, 1), "cv": _num(r.cv, lang, 2),
                  "p90": _num(r.p90_p10_ratio, lang, 1)} for r in ineq.itertuples()]
    seg = data.segregation
    seg_rows = [{"year": r.year, "n": r.n_districts, "share": _num(100 * r.group_share, lang, 1),
                 "dissimilarity": _num(r.dissimilarity, lang, 3), "isolation": _num(r.isolation, lang, 3),
                 "moran": _num(r.morans_i, lang, 3), "p": _num(r.morans_p_sim, lang, 3)} for r in seg.itertuples()]
    # early warning
    per_year = "Jahr" if lang == "de" else "year"
    thr_text = ", ".join(f"{indicator_label(k, lang)} {_num(v, lang, 1)} {'Pp.' if lang == 'de' else 'pp'}/{per_year}"
                         for k, v in EARLY_WARNING_THRESHOLDS.items() if k in data.directions)
    warn_rows = [{"key": r.key, "name": r.name, "population": _num(r.population, lang),
                  "indicator": indicator_label(r.indicator, lang), "periods": r.last_periods, "run": r.run_length}
                 for r in data.warnings.sort_values(["key", "indicator"]).itertuples()]
    # evaluation
    ev = data.evaluation
    eval_rows, caveats = [], []
    n_support = n_eval = 0
    if ev is not None:
        from geo.analysis.monitoring.evaluation import SUPPORTS

        for r in ev.outcomes.itertuples():
            ok = r.verdict == SUPPORTS
            n_support += ok
            n_eval += 1
            eval_rows.append({
                "start": r.start_year, "outcome": indicator_label(r.outcome, lang),
                "estimate": _num(r.estimate, lang, 2), "interval": (f"[{_num(r.ci_low, lang, 2)}; "
                                                                   f"{_num(r.ci_high, lang, 2)}]"
                                                                   if r.ci_low == r.ci_low else "–"),
                "treated": r.n_treated, "controls": r.n_controls_matched,
                "pretrend": (f"{_num(r.pretrend_estimate, lang, 2)} [{_num(r.pretrend_ci_low, lang, 2)}; "
                             f"{_num(r.pretrend_ci_high, lang, 2)}]") if r.pretrend_ci_low == r.pretrend_ci_low
                else _num(r.pretrend_estimate, lang, 2),
                "verdict": _t("eval.supports" if ok else "eval.too_thin", lang), "supports": ok,
                "reason": _reason_text(r.reason, lang)})
        caveats = [_caveat_text(c, lang) for c in ev.caveats]
    # key points
    cls = table[table["classifiable"]]
    indicated = table[table[[f"is_{c}" for c in defn.indicating_categories]].any(axis=1)] \
        if defn.indicating_categories else table.iloc[0:0]
    points = [_t("pt.categories", lang, n=len(indicated), w=int(table["is_win"].sum()) if "is_win" in table else 0)]
    if len(dc):
        points.append(_t("pt.designations", lang, d=n_des, both=both, new=new, old=old))
    pin = data.poverty_inequality
    th = (pin[(pin["indicator"] == "sgb2_u15_pct") & pin["gini"].notna()] if len(pin) else pin)
    if len(th):
        points.append(_t("pt.inequality", lang, g0=_num(th["gini"].iloc[0], lang, 2), y0=int(th["year"].iloc[0]),
                         g1=_num(th["gini"].iloc[-1], lang, 2), y1=int(th["year"].iloc[-1]),
                         b=_num(100 * th["theil_between_share"].iloc[-1], lang, 0)))
    pseg = data.poverty_segregation
    sg = pseg[pseg["dissimilarity"].notna()] if len(pseg) else pseg
    if len(sg):
        points.append(_t("pt.segregation", lang, d0=_num(sg["dissimilarity"].iloc[0], lang, 2),
                         y0=int(sg["year"].iloc[0]), d1=_num(sg["dissimilarity"].iloc[-1], lang, 2),
                         y1=int(sg["year"].iloc[-1]), m1=_num(sg["morans_i"].iloc[-1], lang, 2)))
    points.append(_t("pt.warning", lang, n=data.warnings["key"].nunique()))
    points.append(_t("pt.borderline", lang, n=int(cls["borderline"].sum()),
                     p=_num(100 * defn.robustness.stability_threshold, lang)))
    if ev is not None:
        points.append(_t("pt.evaluation", lang, s=n_support, n=n_eval))
    # sources
    inputs = [{"path": i["path"], "bytes": _num(i.get("bytes"), lang),
               "synthetic": any(m in i["path"].lower() for m in SYNTHETIC_MARKERS)}
              for i in snap.manifest.get("inputs", [])]
    des_sources = []
    if len(snap.designations) and "sources" in snap.designations.columns:
        for area, src in snap.designations[["area", "sources"]].drop_duplicates("area").itertuples(index=False):
            des_sources.append({"area": area, "sources": [s.strip() for s in str(src).split("|") if s.strip()]})
    interactive = static = None
    map_note = _t("map.static_note", lang)
    if map_mode == "interactive":
        try:
            interactive = interactive_map_document(data, lang)
            map_note = _t("map.note", lang)
        except FileNotFoundError:
            static = static_map_svg(data, lang)
    else:
        static = static_map_svg(data, lang)
    return {
        "lang": lang, "t": lambda key, **kw: _t(key, lang, **kw), "year": data.year,
        "generated": _t("generated", lang, date=dt.date.today().isoformat(), version=snap.version, defn=defn.id,
                        dver=defn.version, hash=defn.hash[:12]),
        "n_areas": len(table), "n_classifiable": int(table["classifiable"].sum()),
        "n_not_classifiable": int((~table["classifiable"]).sum()),
        "points": points, "cat_rows": cat_rows, "budget_rows": budget_rows, "district_rows": district_rows,
        "draws": res.meta.get("draws", defn.robustness.draws),
        **_basis_context(data, lang), **_designation_context(data, lang), "ineq_rows": ineq_rows, "seg_rows": seg_rows,
        "charts": _charts(data, lang), "warn_rows": warn_rows, "warn_note": _t(
            "warning.note", lang, p=EARLY_WARNING_PERIODS, step=EARLY_WARNING_STEP_YEARS, thr=thr_text),
        **_poverty_context(data, lang),
        "eval_rows": eval_rows, "caveats": caveats, "has_evaluation": ev is not None,
        "inputs": inputs, "des_sources": des_sources, "policy": res.policy.splitlines(),
        "synthetic": data.synthetic, "interactive_map": interactive, "static_map": static, "map_note": map_note,
        "definition_title": defn.title,
    }


def _palette_css() -> str:
    """CSS rules for the category, status and dynamics colours, from :mod:`maps.palettes` (one source)."""
    from maps import palettes

    rules = [f".cat-{k}{{background:{v}}}" for k, v in palettes.CATEGORY_COLOURS.items()]
    rules += [f".status-{k}{{background:{v}}}" for k, v in palettes.STATUS_COLOURS.items()]
    rules += [f".dyn-{k}{{background:{v}}}" for k, v in palettes.DYNAMICS_COLOURS.items()]
    return "\n" + "\n".join(rules) + "\n"


def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(default=True),
                       trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def render_report(data: ReportData, *, lang: str = "de", map_mode: str = "interactive") -> str:
    """Render :class:`ReportData` into one self-contained HTML string."""
    from maps.i18n import check_lang

    check_lang(lang)
    if map_mode not in ("interactive", "static"):
        raise ValidationError("invalid map mode", problems=[Problem("map", f"map mode must be 'interactive' or "
                                                                   f"'static', got {map_mode!r}")])
    env = _environment()
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8") + _palette_css()
    return env.get_template("report.html").render(**_context(data, lang, map_mode), css=Markup(css))


def build_report(snapshot: Any, definition: Any, *, year: int | None = None, lang: str = "de",
                 map_mode: str = "interactive", draws: int | None = None) -> str:
    """Classify, monitor and evaluate for ``year`` and return the report as one HTML string.

    Parameters
    ----------
    snapshot
        A loaded snapshot (:func:`geo.pipeline.snapshot.load_snapshot`).
    definition
        Programme definition (object, mapping or YAML path).
    year
        Programme year (default: the latest year of the snapshot).
    lang
        ``"de"`` (default) or ``"en"``.
    map_mode
        ``"interactive"`` (Leaflet map inlined in an ``<iframe srcdoc>``) or ``"static"`` (SVG map).
    draws
        Monte Carlo draws of the robustness analysis (default: the definition's).
    """
    from maps.i18n import check_lang

    check_lang(lang)
    data = collect_report_data(snapshot, definition, year=year, draws=draws)
    return render_report(data, lang=lang, map_mode=map_mode)


def write_report(snapshots: str | os.PathLike[str], programme: str | os.PathLike[str],
                 out: str | os.PathLike[str], *, version: str | None = None, year: int | None = None,
                 lang: str = "de", map_mode: str = "interactive") -> Path:
    """Load the snapshot and the definition, build the report and write it (UTF-8) to ``out``."""
    from geo.classify import load_definition
    from geo.pipeline.snapshot import load_snapshot

    definition = load_definition(programme)  # fails first: cheaper than loading the snapshot
    snapshot = load_snapshot(snapshots, version)
    html = build_report(snapshot, definition, year=year, lang=lang, map_mode=map_mode)
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(path)
    return path
