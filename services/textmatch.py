"""Free text made comparable: case, umlauts, accents and punctuation folded away, German and
English inflection cut (Snowball), words found despite a typo (rapidfuzz), and a guess of the
language a sentence is written in. Pure functions; nothing is downloaded at run time."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import snowballstemmer

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ẞ": "ss", "’": "'"})
_NOT_WORD = re.compile(r"[^a-z0-9']+")
_GERMAN = snowballstemmer.stemmer("german")
_ENGLISH = snowballstemmer.stemmer("english")


def fold(text: str) -> str:
    """'Wie viel kostet die Hundesteuer?' -> 'wie viel kostet die hundesteuer'."""
    lowered = text.casefold().translate(_UMLAUTS)
    plain = "".join(
        ch for ch in unicodedata.normalize("NFKD", lowered) if not unicodedata.combining(ch)
    )
    spaced = _NOT_WORD.sub(" ", plain).replace("'", "")
    return " ".join(spaced.split())


def words(text: str) -> list[str]:
    return fold(text).split()


@lru_cache(maxsize=8192)
def forms(word: str) -> tuple[str, ...]:
    """The word and its German and English stems, each tagged with its stemmer, so that a
    German stem only meets German stems ('gutscheine' -> gutschein, de:gutschein, en:gutschein).
    Stems shorter than four letters say too little and are left out."""
    found = [word]
    for tag, stemmer in (("de:", _GERMAN), ("en:", _ENGLISH)):
        stem = stemmer.stemWord(word)
        if len(stem) >= 4:
            found.append(tag + stem)
    return tuple(found)


def typo_cutoff(length: int) -> float | None:
    """How similar (rapidfuzz ratio, 0..100) a typed word must be to count as a known word:
    short words must be exact, long ones may have a letter missing, extra or swapped."""
    if length < 5:
        return None
    if length < 7:
        return 80.0
    return 80.0


# ---------------------------------------------------------------- which language?
def word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Words that mark a sentence as German or English, chosen to exist in one language only
# ("was", "will", "am", "die", "hat" are words in both and are left out).
GERMAN_MARKERS = word_set(
    """ich mich mir mein meine meinen meinem meiner du dich dein deine sie ihr ihnen ihre wir uns
    unser der das den dem des ein eine einen einem einer ist sind bin bist war habe hast haben
    hatte kann koennen kannst moechte moechten brauche brauchen wie wo wann warum welche welcher
    wer viel wieviel nicht kein keine keinen und oder aber auch noch schon bitte danke vielen
    gibt es fuer mit von zum zur beim vom ueber nach bei auf aus wegen hallo tschuess moin gerne
    leider hilfe kaputt verloren kostet kosten oeffnungszeiten geoeffnet heute morgen machen
    melden anmelden beantragen zeigen suche finde gefunden"""
)
ENGLISH_MARKERS = word_set(
    """i me my mine you your we our they the a is are been be have has had can could would
    should want need how what where when why which who much many not no and or but please
    thanks thank hello goodbye bye for with from of about at to into this that these there it
    its do does did get show find found lost open opening hours cost costs price help apply
    register buy broken report delete data"""
)
# a few words say more than one: they are hardly ever written in the other language
NEVER_TYPO = word_set("ahaus wuellen alstaette ottenstein graes wessum")  # place names
_STRONG = {
    "thanks": "en",
    "thank": "en",
    "please": "en",
    "hello": "en",
    "goodbye": "en",
    "the": "en",
    "my": "en",
    "danke": "de",
    "bitte": "de",
    "hallo": "de",
    "tschuess": "de",
    "ich": "de",
    "mein": "de",
    "meine": "de",
    "meinen": "de",
    "der": "de",
    "ist": "de",
}


def language_scores(text: str) -> tuple[int, int, int, int]:
    """(German score, English score, German marker words, English marker words); a strong
    marker scores twice."""
    de = en = de_words = en_words = 0
    for word in words(text):
        strong = 2 if word in _STRONG else 1
        if word in GERMAN_MARKERS:
            de += strong if _STRONG.get(word, "de") == "de" else 1
            de_words += 1
        if word in ENGLISH_MARKERS:
            en += strong if _STRONG.get(word, "en") == "en" else 1
            en_words += 1
    return de, en, de_words, en_words


def guess_language(text: str) -> str:
    """'en' or 'de' when the text clearly is one of them (two marker words at least, and three
    times the other language's score), else '' (a single word, mixed, codes)."""
    de, en, de_words, en_words = language_scores(text)
    if en_words >= 2 and en >= 3 and en >= 3 * de:
        return "en"
    if de_words >= 2 and de >= 3 and de >= 3 * en:
        return "de"
    return ""
