"""Every card of the product, rendered in German, carries no English from the catalog: a
phrase of an English message whose German message says something else must not show up in a
German card (a string built outside the catalog, or a key missing from the German one)."""

from __future__ import annotations

import re

import pytest

from bot.i18n import de, en
from cards.gallery.samples import samples
from tests.support.cards import card_text

PLACEHOLDER = re.compile(r"\{[^}]*\}")
# English words that German uses too (or names): a phrase made only of these is no leak.
SHARED = {"ticket", "tickets", "admin", "admins", "agent", "pipeline", "crm", "teamswork", "utc"}


def english_phrases() -> dict[str, str]:
    """Phrase -> key: the literal parts (3 words or more) of the English messages that the
    German catalog translates differently."""
    phrases: dict[str, str] = {}
    for key, english in en.MESSAGES.items():
        german = de.MESSAGES.get(key, "")
        if key.startswith("manifest.") or german == english:
            continue
        for part in PLACEHOLDER.split(english):
            words = re.findall(r"[A-Za-z']+", part)
            if len(words) >= 3 and not {w.lower() for w in words} <= SHARED:
                phrase = " ".join(words)
                if phrase.lower() not in german.lower():
                    phrases[phrase] = key
    return phrases


PHRASES = english_phrases()


def words_of(text: str) -> str:
    return " ".join(re.findall(r"[A-Za-z']+", text))


def test_the_catalog_has_phrases_to_look_for() -> None:
    assert len(PHRASES) > 200


@pytest.mark.parametrize("locale", ["de-DE", "de-AT", "de-CH"])
def test_no_english_leaks_into_a_german_card(locale: str) -> None:
    leaks: dict[str, list[str]] = {}
    for name, card in samples(locale).items():
        shown = words_of(card_text(card))
        found = [f"{p!r} ({k})" for p, k in PHRASES.items() if p in shown]
        if found:
            leaks[name] = found
    assert not leaks


def test_the_check_finds_english_in_a_german_card() -> None:
    english_card = samples("en-US")["general.help_card: default"]
    shown = words_of(card_text(english_card))
    assert any(p in shown for p in PHRASES)
