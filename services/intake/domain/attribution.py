"""What an action may say about where it came from (contract v2, "Partners"): the
supporter's language and the page's tracking fields (model.TrackingIn). Both optional,
both kept with the action on the topic."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from babel import Locale, UnknownLocaleError
from pydantic import AfterValidator, Field

from services.intake.domain import text

# RFC 5646 asks every implementation to take tags of at least 35 characters.
MAX_LANGUAGE_TAG = 35
MAX_TRACKING = 200


@lru_cache(maxsize=4_096)  # a campaign sees few distinct tags
def language_tag(tag: str) -> str:
    """A BCP 47 tag of a language CLDR knows (babel, already used for the dossiers' cover
    letters), in its canonical form (`EN-us` → `en-US`, `zh-CN` → `zh-Hans-CN`). A
    variant (`de-CH-1996`) is dropped; extensions and private-use tags are refused."""
    try:
        locale = Locale.parse(tag.strip(), sep="-")
    except (ValueError, UnknownLocaleError):
        raise text.invalid("invalid_language", "is not a BCP 47 language tag") from None
    parts = (locale.language, locale.script, locale.territory)
    return "-".join(part for part in parts if part)


Language = Annotated[
    str, Field(min_length=2, max_length=MAX_LANGUAGE_TAG), AfterValidator(language_tag)
]
TrackingText = Annotated[str, Field(max_length=MAX_TRACKING), AfterValidator(text.check_text)]
