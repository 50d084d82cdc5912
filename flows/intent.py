"""Understanding free text: which destination a message means, in German or English, despite
typos and inflection. A pure function of the text (`classify`); flows/understand.py runs it.

How a text is read:
1. A case reference ("AH-2026-000003") or a code typed alone goes to the case or the code check.
2. The text is folded and cut into words; at every word the longest phrase of the table that
   starts there is taken (a phrase's words consume the text's words, so "delete my data" is not
   also "my data"). A word matches a table word when one of its forms (the word, its German or
   English stem) is the same, when a long table word is the head or tail of a compound
   ("Hundesteuerbescheid"), or, for a long word, when it is a close typo (rapidfuzz).
3. Each topic adds the weights of its phrases; the kinds of question are found the same way.
4. The best topic above `MIN_SCORE` wins, and the strongest question found picks its answer
   (the dog tax's fees rather than its form). Small talk counts only when nothing else does;
   a question alone ("Öffnungszeiten?") has answers of its own."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process

from flows.intent_table import ACT_ALONE, ACTS, TOPICS, Topic
from flows.registry import REGISTRY
from services import codes, textmatch

MIN_SCORE = 2.0
UNKNOWN = "intent.unknown"
_REFERENCE = re.compile(r"\b[a-z]{2,4}-20\d\d-\d{1,9}\b", re.IGNORECASE)  # in a sentence
_REFERENCE_ALONE = re.compile(r"^\s*[a-z]{2,4}[-\s/]?20\d\d[-\s/]?\d{1,9}\s*$", re.IGNORECASE)
_NEVER_FUZZY = textmatch.GERMAN_MARKERS | textmatch.ENGLISH_MARKERS | textmatch.NEVER_TYPO
_COMPOUND_REST = 3  # a table word is part of a compound when the rest is at least this long
STRONG = 3.5  # a word that names the thing
_META = ("help", "menu")  # topics about the chat itself: small talk may outweigh them
_MEMO_SIZE = 20_000
_STREETS = ("strasse", "str", "weg", "platz", "gasse", "allee", "ring", "damm")
_NAMES = frozenset({"stadtlotse", "lotsi"})  # the bot's name says nothing ("Hallo Stadtlotse")


@dataclass(frozen=True)
class Understood:
    action: str
    arg: str = ""
    topic: str = ""  # the topic's key, "reference", "code", "act:<kind>" or ""
    score: float = 0.0
    ranked: tuple[tuple[str, float], ...] = ()  # (topic key, score), best first
    act: str = ""

    @property
    def destination(self) -> str:
        return f"{self.action}:{self.arg}" if self.arg else self.action


def _split(destination: str) -> tuple[str, str]:
    action, _sep, arg = destination.partition(":")
    return action, arg


@dataclass(frozen=True)
class _Phrase:
    words: tuple[str, ...]
    key: str  # topic key or act kind
    weight: float


class _Index:
    """Phrases by their first word's forms; single table words for compounds and typos.
    `part_min`: how long a table word must be to count as part of a compound (0: never);
    a word that names the thing (weight >= `STRONG`) may be one letter shorter ("Kitagebühren").
    `never`: words that are never read as a typo of a table word."""

    def __init__(
        self,
        entries: Iterable[_Phrase],
        *,
        part_min: int = 5,
        typo_margin: float = 0.0,
        never: frozenset[str] = frozenset(),
    ) -> None:
        self.part_min = part_min
        self.typo_margin = typo_margin
        self.never = _NEVER_FUZZY | never
        self.starts: dict[str, list[_Phrase]] = {}
        self.single: dict[str, float] = {}  # a one-word table entry -> its highest weight
        for phrase in entries:
            # "dog tax" typed as "dogtax" (or "dogtaks") is the same phrase
            joined = [_Phrase(("".join(phrase.words),), phrase.key, phrase.weight)]
            for entry in [phrase] + (joined if len(phrase.words) > 1 else []):
                for form in textmatch.forms(entry.words[0]):
                    self.starts.setdefault(form, []).append(entry)
                if len(entry.words) == 1:
                    word = entry.words[0]
                    self.single[word] = max(self.single.get(word, 0.0), entry.weight)
        for bucket in self.starts.values():
            bucket.sort(key=lambda p: (-len(p.words), -p.weight))
        self.vocabulary = sorted(w for w in self.single if len(w) >= 4)
        self.swapped = {(w[0], "".join(sorted(w))): w for w in self.vocabulary if len(w) == 4}
        self._memo: dict[str, str] = {}  # word -> what it stands for (bounded)

    def known(self, word: str) -> str:
        """The table word a compound's head or tail or a close typo stands for; or ''."""
        if word not in self._memo:
            if len(self._memo) > _MEMO_SIZE:
                self._memo.clear()
            self._memo[word] = self._lookup(word)
        return self._memo[word]

    def _part(self, part: str) -> bool:
        weight = self.single.get(part)
        if weight is None or not self.part_min:
            return False
        return len(part) >= self.part_min or (len(part) == self.part_min - 1 and weight >= STRONG)

    def _lookup(self, word: str) -> str:
        street = word.endswith(_STREETS)  # "Marktstraße" is a place, not a market
        if self.part_min and not street and len(word) >= self.part_min - 1 + _COMPOUND_REST:
            parts = [
                part
                for cut in range(_COMPOUND_REST, len(word) - self.part_min + 2)
                for part in (word[: len(word) - cut], word[cut:])
                if self._part(part)
            ]
            if parts:  # the part that says most ("Kitaanmeldung": kita, not anmeldung)
                return max(parts, key=lambda part: (self.single[part], len(part)))
        if word in self.never or word.isdigit():
            return ""
        if len(word) == 4:  # short words: the same letters, first one kept ("lsot", "hnud")
            return self.swapped.get((word[0], "".join(sorted(word))), "")
        cutoff = textmatch.typo_cutoff(len(word))
        if cutoff is None:
            return ""
        # a typo keeps the first letter and about the length ("gutshein", "vouchre"), so
        # "close" is no "lotse" and "later" no "laterne"
        cutoff += self.typo_margin
        for hit in process.extract(
            word, self.vocabulary, scorer=fuzz.ratio, score_cutoff=cutoff, limit=5
        ):
            known = str(hit[0])
            if known[0] == word[0] and abs(len(known) - len(word)) <= 1 + len(word) // 8:
                return known
        return ""

    def scan(self, tokens: list[str]) -> list[_Phrase]:
        """Longest phrase at each position (every topic that lists it); its words are consumed."""
        found: list[_Phrase] = []
        i = 0
        while i < len(tokens):
            matches = self._at(tokens, i)
            if not matches:
                i += 1
                continue
            found += matches
            i += len(matches[0].words)
        return found

    def _at(self, tokens: list[str], i: int) -> list[_Phrase]:
        matches: list[_Phrase] = []
        for phrase in self._starting(tokens[i]):  # longest first
            if matches and len(phrase.words) < len(matches[0].words):
                break
            fits = len(phrase.words) == 1 or _follows(phrase.words[1:], tokens[i + 1 :])
            if fits and all(m.key != phrase.key for m in matches):
                matches.append(phrase)
        return matches

    def _starting(self, word: str) -> list[_Phrase]:
        """Phrases that may start at `word`, longest first: by its forms, else by what a
        compound part or a typo stands for (one-word phrases only)."""
        buckets = [self.starts[form] for form in textmatch.forms(word) if form in self.starts]
        if len(buckets) == 1:
            return buckets[0]
        if buckets:
            merged = {id(p): p for bucket in buckets for p in bucket}.values()
            return sorted(merged, key=lambda p: (-len(p.words), -p.weight))
        known = self.known(word)
        return [p for p in self.starts.get(known, []) if len(p.words) == 1] if known else []


def _follows(rest: tuple[str, ...], tokens: list[str]) -> bool:
    if len(tokens) < len(rest):
        return False
    return all(
        set(textmatch.forms(want)) & set(textmatch.forms(got))
        for want, got in zip(rest, tokens, strict=False)
    )


def _phrases(spec: str, key: str, weight: float) -> list[_Phrase]:
    found = []
    for raw in spec.split(","):
        words = tuple(textmatch.words(raw))
        if words:
            found.append(_Phrase(words, key, weight))
    return found


@dataclass(frozen=True)
class Tables:
    topics: dict[str, Topic]
    topic_index: _Index
    act_index: _Index
    order: dict[str, int]


@lru_cache(maxsize=1)
def tables() -> Tables:
    """Built on first use, after every flow registered its keywords."""
    topics = {t.key: t for t in TOPICS}
    entries = [
        p for t in TOPICS for weight, spec in t.words.items() for p in _phrases(spec, t.key, weight)
    ]
    listed = {p.words for p in entries}
    # keywords the flows registered and the table does not know lead where the flow said
    for router in REGISTRY.routers.values():
        for word, (action, arg) in router.keywords.items():
            folded = tuple(textmatch.words(word))
            if folded and folded not in listed:
                key = f"kw:{action}:{arg}" if arg else f"kw:{action}"
                topics.setdefault(key, Topic(key, "", key[3:], {}))
                entries.append(_Phrase(folded, key, 2.5))
                listed.add(folded)
    acts = [p for act, spec in ACTS.items() for p in _phrases(spec, act, 1.0)]
    # a question word is no typo of a topic ("Steuersatz" is not "Steueramt")
    topic_index = _Index(entries, never=frozenset(p.words[0] for p in acts if len(p.words) == 1))
    # only long question words end compounds ("Kitagebühren"; "teuer" is no question inside
    # "Hundesteuer"), and their typos must be small
    act_index = _Index(acts, part_min=7, typo_margin=8.0)
    return Tables(topics, topic_index, act_index, {key: n for n, key in enumerate(topics)})


@lru_cache(maxsize=32)
def topic_words(key: str) -> frozenset[str]:
    """Every form of every word of one topic."""
    topic = next(t for t in TOPICS if t.key == key)
    return frozenset(
        form
        for spec in topic.words.values()
        for phrase in _phrases(spec, key, 0.0)
        for word in phrase.words
        for form in textmatch.forms(word)
    )


def reference_in(text: str) -> str:
    """A case reference: alone, however written ("ah 2026 12"), or as printed in a sentence."""
    if _REFERENCE_ALONE.match(text):
        return text.strip()
    found = _REFERENCE.search(text)
    return found.group(0) if found else ""


def code_alone(text: str) -> str:
    """The text is one bearer code (voucher, ticket, gift, pickup): 14 symbols (13 for codes
    issued before, whose check character may be one of "*~$=U"), written in one piece with a
    digit in it, or grouped in fours as the bot shows them ("ABCD-EFGH-JKMN-PQ")."""
    parts = [p for p in re.split(r"[\s\-]+", text.strip()) if p]
    symbols = "".join(parts)
    if not parts or not (symbols[:-1].isalnum() and symbols.isascii()):
        return ""
    if not (symbols[-1].isalnum() or symbols[-1] in codes.LEGACY_CHECK_ALPHABET):  # "*~$="
        return ""
    grouped = len(parts) > 1 and all(len(p) == 4 for p in parts[:-1])
    if len(parts) > 1 and not grouped:
        return ""
    if len(parts) == 1 and not any(ch.isdigit() for ch in parts[0]):
        return ""
    code = codes.normalise("".join(parts))
    body = {13: code[:-1], 14: code}.get(len(code))  # legacy: any check character
    if body is None or any(ch not in codes.ALPHABET for ch in body):
        return ""
    return code


def classify(text: str) -> Understood:
    reference = reference_in(text)
    if reference and len(textmatch.words(text)) <= 8:
        return Understood("case.find", reference, "reference", 10.0)
    code = code_alone(text)
    if code:
        return Understood("code.check", code, "code", 10.0)
    built = tables()
    tokens = [w for w in textmatch.words(text) if w not in _NAMES]
    if not tokens and "?" in text:  # a question mark alone asks what the chat can do
        return Understood("help.show", "", "help", 1.0)
    scores: dict[str, float] = {}
    for phrase in built.topic_index.scan(tokens):
        scores[phrase.key] = scores.get(phrase.key, 0.0) + phrase.weight
    acts = [p.key for p in built.act_index.scan(tokens)]
    act = next((kind for kind in ACTS if kind in acts), "")
    ranked = tuple(
        sorted(scores.items(), key=lambda item: (-item[1], built.order.get(item[0], 999)))
    )
    serious = [(key, score) for key, score in ranked if not built.topics[key].social]
    social = [(key, score) for key, score in ranked if built.topics[key].social]
    if social and serious and serious[0][0] in _META and social[0][1] >= serious[0][1]:
        serious = []  # "Danke für die Hilfe" thanks; it asks for no help
    if serious and built.topics[serious[0][0]].generic:
        specific = [(k, v) for k, v in serious if not built.topics[k].generic and v >= 1.5]
        serious = specific + serious if specific else serious
    if serious and serious[0][1] >= MIN_SCORE:
        key, score = serious[0]
        topic = built.topics[key]
        action, arg = _split(topic.acts.get(act, topic.go) if act else topic.go)
        return Understood(action, arg, key, score, ranked, act)
    if act and act in ACT_ALONE and (not social or act != "how"):
        action, arg = _split(ACT_ALONE[act])
        return Understood(action, arg, f"act:{act}", 1.0, ranked, act)
    if social:
        key, score = social[0]
        action, arg = _split(built.topics[key].go)
        return Understood(action, arg, key, score, ranked, act)
    return Understood(UNKNOWN, "", "", 0.0, ranked, act)


def suggestions(text: str, understood: Understood, limit: int = 3) -> list[Topic]:
    """The closest topics to a text that was not understood: the weak candidates first, then the
    table phrases most like the text."""
    built = tables()
    chosen: list[str] = []
    for key, _score in understood.ranked:
        if built.topics[key].label and not built.topics[key].social and key not in chosen:
            chosen.append(key)
    if len(chosen) < limit:
        folded = textmatch.fold(text)
        phrases = _all_phrases()
        if folded:
            for hit in process.extract(folded, list(phrases), scorer=fuzz.WRatio, limit=12):
                key = phrases[str(hit[0])]
                topic = built.topics[key]
                if topic.label and not topic.social and key not in chosen:
                    chosen.append(key)
    return [built.topics[key] for key in chosen[:limit]]


@lru_cache(maxsize=1)
def _all_phrases() -> dict[str, str]:
    return {
        " ".join(p.words): p.key
        for t in TOPICS
        if not t.social
        for weight, spec in t.words.items()
        for p in _phrases(spec, t.key, weight)
    }
