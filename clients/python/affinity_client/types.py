"""The values the client takes and returns (plain, immutable dataclasses).

Field meanings are those of proto/affinity/v1/recommender.proto,
rules.proto, model.proto and rollout.proto; the comments here only say
where the Python form differs.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Optional, Sequence, Tuple


@dataclass(frozen=True)
class ScoredItem:
    item_id: str
    score: float
    # True when the most-popular fallback added the item, not the model.
    from_fallback: bool = False
    # Filled when the request asked for explain=True.
    explanation: str = ""


@dataclass(frozen=True)
class Recommendations:
    """The answer of recommend() and similar()."""
    items: Tuple[ScoredItem, ...]
    model_version: int
    # The A/B arm that answered ("control" without a rollout).
    arm: str
    # True when (some of) the items came from the most-popular fallback.
    fallback: bool
    # Identifies this answer in report_outcome().
    request_id: str

    def item_ids(self):
        return [item.item_id for item in self.items]


class Event(enum.IntEnum):
    IMPRESSION = 1
    CLICK = 2
    CONVERSION = 3


@dataclass(frozen=True)
class Outcome:
    """What a user did with a recommended item. Give request_id (from
    Recommendations.request_id), or else user_id, arm and model_version."""
    item_id: str
    event: Event
    request_id: str = ""
    user_id: str = ""
    arm: str = ""
    model_version: int = 0
    # 0: now (the server's clock).
    at_unix_micros: int = 0
    session_id: str = ""


@dataclass(frozen=True)
class OutcomeResult:
    accepted: int
    duplicates: int


@dataclass(frozen=True)
class Filter:
    """A request-time catalog filter (rules.proto `Filter`). A dict in the
    proto's JSON form, e.g. {"attribute": "price", "max": 50}, works too."""
    attribute: str
    any_of: Sequence[str] = ()
    none_of: Sequence[str] = ()
    min: Optional[float] = None
    max: Optional[float] = None
    equals: Optional[bool] = None
    newer_than: str = ""
    older_than: str = ""
    keep_missing: bool = False


@dataclass(frozen=True)
class CatalogItem:
    """An item of the catalog (model.proto `CatalogItem`). Upserting replaces
    the whole stored item, or with upsert_items(fields=[...]) only the named
    fields. in_stock defaults to True here (the proto's default is false,
    which out-of-stock filters drop)."""
    item_id: str
    title: str = ""
    categories: Sequence[str] = ()
    brand: str = ""
    price: Optional[float] = None
    in_stock: bool = True
    created_at_unix: int = 0
    region: str = ""
    tags: Sequence[str] = ()


@dataclass(frozen=True)
class Arm:
    name: str
    version: int
    # Share of traffic in 1/10000ths.
    basis_points: int


@dataclass(frozen=True)
class RolloutStatus:
    """get_rollout(): the stored state and what the server applies."""
    # Incremented by every change; update_rollout() names the one it read.
    revision: int
    salt: str
    # The stored control version; 0 means "the newest eligible version".
    control_version: int
    # The applied arms with concrete versions; arms[0] is control. Empty
    # when nothing can serve (see unresolved_reason).
    arms: Tuple[Arm, ...]
    shadow_version: int
    shadow_basis_points: int
    warnings: Tuple[str, ...]
    # The store directory the server follows.
    store: str
    unresolved_reason: str
    # The stored affinity.v1.RolloutState message: copy, change and pass it
    # to update_rollout().
    state: object = field(repr=False, compare=False, default=None)


@dataclass(frozen=True)
class RolloutChange:
    """One entry of rollout_history(), newest first."""
    revision: int
    at_unix: int
    by: str
    action: str
    reason: str
