"""Realistic campaign traffic for the demo and the chaos run: the action mix of a Write for
Rights day, supporters from many countries with names in many scripts, and the peak of
10 December as a rate curve."""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

# (weight, type) — signatures dominate online; letters and postcards come from events.
ONLINE_MIX = (
    (70, "signature"),
    (10, "email"),
    (8, "tweet"),
    (5, "photo"),
    (4, "solidarity_message"),
    (3, "letter"),
)
# (country, weight, first names, last names) — a few scripts on purpose.
PEOPLE = (
    ("FR", 20, ("Camille", "Léa", "Hugo", "Chloé"), ("Martin", "Bernard", "Dubois")),
    ("SN", 6, ("Awa", "Moussa", "Fatou"), ("Diallo", "Ndiaye", "Sow")),
    ("DE", 10, ("Jonas", "Mia", "Lukas"), ("Müller", "Schmidt", "Weber")),
    ("PL", 8, ("Zofia", "Jakub", "Łucja"), ("Nowak", "Wiśniewska", "Kowalski")),
    ("MX", 7, ("Sofía", "Mateo", "Valentina"), ("García", "Hernández", "López")),
    ("MA", 5, ("يوسف", "فاطمة", "أمين"), ("العلوي", "بنعلي", "الإدريسي")),
    ("RU", 4, ("Анна", "Дмитрий", "Ольга"), ("Иванова", "Смирнов", "Попова")),
    ("GR", 3, ("Ελένη", "Γιώργος", "Μαρία"), ("Παπαδοπούλου", "Νικολάου")),
    ("JP", 4, ("さくら", "太郎", "結衣"), ("佐藤", "鈴木", "高橋")),
    ("KR", 3, ("민준", "서연", "지우"), ("김", "이", "박")),
    ("CA", 8, ("Olivia", "Noah", "Émilie"), ("Tremblay", "Roy", "Smith")),
    ("NG", 4, ("Chinedu", "Amaka", "Tunde"), ("Okafor", "Adeyemi", "Bello")),
    ("IN", 5, ("Priya", "Arjun", "अनन्या"), ("Sharma", "Patel", "सिंह")),
)
MESSAGES = (
    "You are not alone. We stand with you.",
    "Nous pensons à vous et nous ne lâcherons rien.",
    "Estamos contigo, mucha fuerza.",
    "Wir denken an Sie. Bleiben Sie stark.",
)


@dataclass(frozen=True)
class Supporter:
    name: str
    email: str
    country: str


def peak_rate(progress: float, peak: float, base: float) -> float:
    """Actions per second at `progress` (0..1) through the day: a quiet base and a bell
    around the evening of 10 December (0.75 of the day), when events and the press meet."""
    bell = math.exp(-(((progress - 0.75) / 0.12) ** 2))
    return base + (peak - base) * bell


class TrafficMaker:
    def __init__(self, case_ids: list[str], seed: int | None = None) -> None:
        self.case_ids = case_ids
        self.rng = random.Random(seed)
        self.run = uuid.uuid4().hex[:8]

    def supporter(self) -> Supporter:
        country, _, firsts, lasts = self.rng.choices(PEOPLE, [p[1] for p in PEOPLE])[0]
        first, last = self.rng.choice(firsts), self.rng.choice(lasts)
        # Unique mailboxes under the reserved example.org domain: never a real person.
        email = f"demo-{self.run}-{uuid.uuid4().hex[:12]}@example.org"
        return Supporter(f"{first} {last}", email, country)

    def online_action(self) -> dict[str, Any]:
        kind = self.rng.choices([t for _, t in ONLINE_MIX], [w for w, _ in ONLINE_MIX])[0]
        supporter = self.supporter()
        action: dict[str, Any] = {
            "action_id": str(uuid.uuid4()),
            "case_id": self.rng.choice(self.case_ids),
            "type": kind,
            "supporter": {
                "name": supporter.name,
                "email": supporter.email,
                "country": supporter.country,
            },
            "consent": {
                "share_name_with_target": self.rng.random() < 0.8,
                "contact": self.rng.random() < 0.3,
            },
            "occurred_at": datetime.now(UTC).isoformat(),
        }
        if kind == "solidarity_message":
            action["message"] = self.rng.choice(MESSAGES)
        return action

    def tally(self, count: int) -> dict[str, Any]:
        """Handwritten letters counted at a marathon: no supporter, one action, `count`."""
        return {
            "action_id": str(uuid.uuid4()),
            "case_id": self.rng.choice(self.case_ids),
            "type": self.rng.choice(["letter", "postcard"]),
            "count": count,
            "occurred_at": datetime.now(UTC).isoformat(),
        }
