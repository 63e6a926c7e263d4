"""A cheap language guess from stopword counts (good enough to flag non-English leases)."""
from __future__ import annotations

import re

_STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset("the of and to in is that for shall be by this with as or any on such tenant landlord".split()),
    "fr": frozenset("le la les de des du et est que pour dans une un par sur au aux preneur bailleur".split()),
    "de": frozenset("der die das und ist nicht mit den von zu für auf dem ein eine mieter vermieter".split()),
    "es": frozenset("el la los las de del y que en por para con una un arrendatario arrendador".split()),
    "it": frozenset("il lo la gli le di del della e che per con una un conduttore locatore".split()),
    "nl": frozenset("de het een en van dat voor met op te huurder verhuurder".split()),
}
_WORD = re.compile(r"[^\W\d_]+")
_SAMPLE_CHARS = 200_000


def guess_language(text: str) -> str | None:
    """ISO 639-1 code of the most likely language, or None when there are too few words to tell."""
    words = _WORD.findall(text[:_SAMPLE_CHARS].lower())
    if len(words) < 20:
        return None
    scores = {lang: sum(1 for w in words if w in stops) for lang, stops in _STOPWORDS.items()}
    best = max(scores, key=scores.__getitem__)
    return best if scores[best] >= max(3, 0.05 * len(words)) else None
