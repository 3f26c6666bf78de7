"""What a risk assessment says: whether a text is flagged, how urgently, and why.

Why a module of its own: the rule detector, the learned model and their combination all speak
these types, and the gateway stores them; none of them should import another to get them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

SEVERITIES = ("immediate", "concern", "review")


@dataclass(frozen=True)
class Evidence:
    """Why a text was flagged: the span (character offsets), its text, category and rule."""

    start: int
    end: int
    text: str
    category: str
    rule: str


@dataclass(frozen=True)
class Assessment:
    """The verdict on one text. ``severity`` is "immediate" (danger now), "concern" or
    "review" (a lower-confidence flag a lead reads the same day) when flagged; ``model`` names
    the model version that took part (None for the rules alone)."""

    flagged: bool
    severity: str | None
    categories: tuple[str, ...]
    evidence: tuple[Evidence, ...]
    model: str | None = None

    def to_json(self, id: object = None) -> dict:
        """The JSON shape of ``intake risk score`` output lines."""
        return {
            "id": id,
            "flagged": self.flagged,
            "severity": self.severity,
            "categories": list(self.categories),
            "evidence": [asdict(e) for e in self.evidence],
            "model": self.model,
        }


NOT_FLAGGED = Assessment(False, None, (), ())
