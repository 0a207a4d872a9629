"""Remembered preferences: the latest statement per key wins, with its channel and time."""

from profile_api.preferences import PreferenceValue, StatedPreference, merge_preferences


def stated(key, value, source, at, seq=0):
    return StatedPreference(key, value, source, at, seq)


def test_the_latest_statement_per_key_wins_whatever_the_channel():
    current = merge_preferences([
        stated("clothing_size", "M", "webshop", "2023-04-01T10:00:00", 1),
        stated("clothing_size", "L", "service", "2025-02-01T09:00:00", 2),
        stated("shoe_size", "42", "app", "2024-01-01T08:00:00", 3),
    ])
    assert current == [PreferenceValue("clothing_size", "L", "service", "2025-02-01T09:00:00"),
                       PreferenceValue("shoe_size", "42", "app", "2024-01-01T08:00:00")]


def test_times_written_in_other_notations_compare_as_times():
    current = merge_preferences([
        stated("delivery_method", "home", "pos", "03-01-2025", 1),              # 3 January 2025
        stated("delivery_method", "pickup_point", "app", "2024-12-31T23:00:00", 2),
    ])
    assert current == [PreferenceValue("delivery_method", "home", "pos", "2025-01-03T00:00:00")]


def test_a_tie_goes_to_the_statement_stored_last():
    current = merge_preferences([
        stated("pet", "dog", "app", "2025-01-01T10:00:00", 7),
        stated("pet", "cat", "webshop", "2025-01-01T10:00:00", 9),
    ])
    assert [p.value for p in current] == ["cat"]


def test_no_statements_no_preferences():
    assert merge_preferences([]) == []


def pet(value, at, member_source="app"):
    return PreferenceValue("pet", value, member_source, at)


def test_a_statement_of_no_pets_hides_the_pets_bought_and_stated_before_it():
    from profile_api.preferences import household_pets

    bought = {"dog": "2025-03-01T10:00:00", "cat": "2025-06-01T10:00:00"}
    assert household_pets(["cat", "dog"], bought, [pet("rabbit", "2025-01-01T09:00:00")]) == ["cat", "dog", "rabbit"]
    # One member said the dog died in April: the cat food bought in June still shows a cat.
    assert household_pets(["cat", "dog"], bought, [pet("rabbit", "2025-01-01T09:00:00"),
                                                   pet("None", "2025-04-15T12:00:00", "service")]) == ["cat"]
    assert household_pets(["cat", "dog"], bought, [pet("geen huisdieren", "2025-07-01T00:00:00")]) == []
    # A pet stated after the "none" counts again, and so does one told in the same statement list.
    assert household_pets(["cat", "dog"], bought, [pet("none", "2025-07-01T00:00:00"),
                                                   pet("Hamster, Cat", "2025-08-01T00:00:00", "pos")]) == ["cat", "hamster"]


def test_pets_known_without_the_date_of_their_last_purchase_give_way_to_a_statement_of_none():
    from profile_api.preferences import household_pets

    assert household_pets(["dog"], {}, []) == ["dog"]
    assert household_pets(["dog"], {}, [pet("none", "2020-01-01T00:00:00")]) == []


def test_a_pet_told_in_dutch_or_in_the_plural_is_the_animal_the_purchases_show():
    from profile_api.preferences import household_pets

    bought = {"dog": "2025-03-01T10:00:00", "kat": "2025-06-01T10:00:00"}   # a Dutch taxonomy names its cat food's
    assert household_pets(["dog", "kat"], bought, [pet("hond", "2025-01-01T09:00:00"),
                                                   pet("Katten, Konijn", "2025-02-01T09:00:00", "pos")]) == \
        ["cat", "dog", "rabbit"]
    # "geen" hides them whatever language named them; the cat food bought after it shows the cat again
    assert household_pets(["dog", "kat"], bought, [pet("geen", "2025-04-01T00:00:00")]) == ["cat"]


def test_a_key_is_one_key_in_any_case_and_a_statement_of_no_pets_under_pet_in_capitals_counts():
    from profile_api.preferences import household_summary

    current = merge_preferences([
        stated("shoe_size", "39", "webshop", "2025-01-01T10:00:00", 1),
        stated("Shoe_Size", "40", "app", "2025-02-01T10:00:00", 2),
        stated(" Pet ", "geen", "pos", "2025-07-01T00:00:00", 3),
    ])
    assert current == [PreferenceValue("pet", "geen", "pos", "2025-07-01T00:00:00"),
                       PreferenceValue("shoe_size", "40", "app", "2025-02-01T10:00:00")]
    household = household_summary("H1", {"pets": ["dog"], "pets_last": {"dog": "2025-03-01T10:00:00"}},
                                  {"C1": current})
    assert household.pets == []          # the till's "Pet = geen" after the last dog food
