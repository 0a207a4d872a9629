"""The category taxonomy: which of a retailer's categories are clothing, shoes or pet food, and for which pet.

A drop may carry ``categories.csv`` with the header ``category,group,pet``: ``group`` is one of
:data:`GROUPS`, ``pet`` names the animal a ``pet_food`` category is for (any word: dog, cat,
bird, rabbit, ...). Without the file :data:`DEFAULT_CATEGORIES` apply. Sizes and pets are derived
through the taxonomy (``profile_api.attributes``); a category it does not name counts as ``other``,
and the run lists those categories with their interaction counts (:func:`unplaced_categories`) so
that the retailer sees what the taxonomy misses.
"""

from __future__ import annotations

import pandas as pd

CATEGORY_COLUMNS: tuple[str, ...] = ("category", "group", "pet")
GROUPS: tuple[str, ...] = ("clothing", "shoes", "pet_food", "other")

# The built-in taxonomy: the category names herken knew before a drop could name its own.
DEFAULT_CATEGORIES: tuple[tuple[str, str, str | None], ...] = (
    ("womens_clothing", "clothing", None),
    ("mens_clothing", "clothing", None),
    ("shoes", "shoes", None),
    ("dog_food", "pet_food", "dog"),
    ("cat_food", "pet_food", "cat"),
)


def taxonomy_frame(rows: object = DEFAULT_CATEGORIES) -> pd.DataFrame:
    """Return a taxonomy as the frame the attribute SQL joins: columns category, group, pet (text or None)."""
    frame = pd.DataFrame(list(rows), columns=list(CATEGORY_COLUMNS))  # type: ignore[call-overload]
    return frame.astype(object).where(frame.notna(), None)


# One name per animal, whether a customer states it in Dutch or in English, in the singular or the plural, or a
# retailer's taxonomy names the pet food's animal so: "hond" told at the till and dog food bought are one dog.
PET_NAMES: dict[str, str] = {
    "hond": "dog", "honden": "dog", "dogs": "dog", "kat": "cat", "katten": "cat", "poes": "cat", "poezen": "cat",
    "cats": "cat", "vogel": "bird", "vogels": "bird", "birds": "bird", "konijn": "rabbit", "konijnen": "rabbit",
    "rabbits": "rabbit", "vis": "fish", "vissen": "fish", "cavia": "guinea pig", "cavia's": "guinea pig",
    "guinea pigs": "guinea pig", "hamsters": "hamster", "paard": "horse", "paarden": "horse", "horses": "horse",
    "knaagdier": "rodent", "knaagdieren": "rodent", "rodents": "rodent", "reptiel": "reptile", "reptielen": "reptile",
    "reptiles": "reptile",
}


def pet_name(animal: str) -> str:
    """Return the one name of an animal as a statement or a taxonomy writes it ("Honden" and "dog": "dog")."""
    word = animal.strip().lower()
    return PET_NAMES.get(word, word)


def normalise_taxonomy(frame: pd.DataFrame) -> pd.DataFrame:
    """Return accepted categories.csv rows as a taxonomy: group in lower case, pet only for pet food and by its one
    name (``pet_name``: a Dutch taxonomy's "hond" is the "dog" a customer states)."""
    group = frame["group"].astype(str).str.strip().str.lower()
    pet = frame["pet"].fillna("").astype(str).map(pet_name)
    pet = pet.where((group == "pet_food") & (pet != ""), None)
    return taxonomy_frame(zip(frame["category"].astype(str).str.strip(), group, pet))


def check_category_row(row: dict[str, str], seen: set[str]) -> str | None:
    """Return why a categories.csv row cannot be accepted, or None when it can."""
    category, group, pet = row["category"].strip(), row["group"].strip().lower(), row["pet"].strip()
    if not category:
        return "category is empty"
    if category in seen:
        return f"category '{category}' appears more than once; the first row was kept"
    if group not in GROUPS:
        return f"group '{row['group']}' is not one of {', '.join(GROUPS)}"
    if group == "pet_food" and not pet:
        return "pet is empty; a pet_food category names its animal (dog, cat, bird, ...)"
    return None


def unplaced_categories(interactions: pd.DataFrame, taxonomy: pd.DataFrame) -> list[tuple[str, int]]:
    """Return the categories of the interactions that the taxonomy does not name, with their interaction counts.

    They count as ``other``: no size or pet is derived from them. Most interactions first.
    """
    if interactions.empty or "category" not in interactions:
        return []
    category = interactions["category"].astype("string").str.strip()
    category = category[category.notna() & (category != "") & ~category.isin(set(taxonomy["category"]))]
    counts = category.value_counts()
    return sorted(((str(c), int(n)) for c, n in counts.items()), key=lambda cn: (-cn[1], cn[0]))
