import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class IdentifierKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    IDENTIFIER_KIND_UNSPECIFIED: _ClassVar[IdentifierKind]
    IDENTIFIER_KIND_LOYALTY_CARD: _ClassVar[IdentifierKind]
    IDENTIFIER_KIND_EMAIL: _ClassVar[IdentifierKind]
    IDENTIFIER_KIND_PHONE: _ClassVar[IdentifierKind]
    IDENTIFIER_KIND_SOURCE_RECORD: _ClassVar[IdentifierKind]

class IdentityEventKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    IDENTITY_EVENT_KIND_UNSPECIFIED: _ClassVar[IdentityEventKind]
    IDENTITY_EVENT_KIND_CREATED: _ClassVar[IdentityEventKind]
    IDENTITY_EVENT_KIND_MERGED: _ClassVar[IdentityEventKind]
    IDENTITY_EVENT_KIND_SPLIT: _ClassVar[IdentityEventKind]
    IDENTITY_EVENT_KIND_HOUSEHOLD_CHANGED: _ClassVar[IdentityEventKind]
    IDENTITY_EVENT_KIND_DELETED: _ClassVar[IdentityEventKind]

class ConsentPurpose(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONSENT_PURPOSE_UNSPECIFIED: _ClassVar[ConsentPurpose]
    CONSENT_PURPOSE_PERSONALISATION: _ClassVar[ConsentPurpose]
    CONSENT_PURPOSE_MARKETING: _ClassVar[ConsentPurpose]
    CONSENT_PURPOSE_PROFILING: _ClassVar[ConsentPurpose]
IDENTIFIER_KIND_UNSPECIFIED: IdentifierKind
IDENTIFIER_KIND_LOYALTY_CARD: IdentifierKind
IDENTIFIER_KIND_EMAIL: IdentifierKind
IDENTIFIER_KIND_PHONE: IdentifierKind
IDENTIFIER_KIND_SOURCE_RECORD: IdentifierKind
IDENTITY_EVENT_KIND_UNSPECIFIED: IdentityEventKind
IDENTITY_EVENT_KIND_CREATED: IdentityEventKind
IDENTITY_EVENT_KIND_MERGED: IdentityEventKind
IDENTITY_EVENT_KIND_SPLIT: IdentityEventKind
IDENTITY_EVENT_KIND_HOUSEHOLD_CHANGED: IdentityEventKind
IDENTITY_EVENT_KIND_DELETED: IdentityEventKind
CONSENT_PURPOSE_UNSPECIFIED: ConsentPurpose
CONSENT_PURPOSE_PERSONALISATION: ConsentPurpose
CONSENT_PURPOSE_MARKETING: ConsentPurpose
CONSENT_PURPOSE_PROFILING: ConsentPurpose

class Identifier(_message.Message):
    __slots__ = ("kind", "value", "source")
    KIND_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    kind: IdentifierKind
    value: str
    source: str
    def __init__(self, kind: _Optional[_Union[IdentifierKind, str]] = ..., value: _Optional[str] = ..., source: _Optional[str] = ...) -> None: ...

class GetProfileRequest(_message.Message):
    __slots__ = ("customer_id", "identifier")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    IDENTIFIER_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    identifier: Identifier
    def __init__(self, customer_id: _Optional[str] = ..., identifier: _Optional[_Union[Identifier, _Mapping]] = ...) -> None: ...

class GetProfileResponse(_message.Message):
    __slots__ = ("profile", "ambiguous", "redirected_from")
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    AMBIGUOUS_FIELD_NUMBER: _ClassVar[int]
    REDIRECTED_FROM_FIELD_NUMBER: _ClassVar[int]
    profile: Profile
    ambiguous: Ambiguous
    redirected_from: str
    def __init__(self, profile: _Optional[_Union[Profile, _Mapping]] = ..., ambiguous: _Optional[_Union[Ambiguous, _Mapping]] = ..., redirected_from: _Optional[str] = ...) -> None: ...

class Ambiguous(_message.Message):
    __slots__ = ("reason", "candidates", "households")
    REASON_FIELD_NUMBER: _ClassVar[int]
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    HOUSEHOLDS_FIELD_NUMBER: _ClassVar[int]
    reason: str
    candidates: _containers.RepeatedCompositeFieldContainer[PersonRef]
    households: _containers.RepeatedCompositeFieldContainer[Household]
    def __init__(self, reason: _Optional[str] = ..., candidates: _Optional[_Iterable[_Union[PersonRef, _Mapping]]] = ..., households: _Optional[_Iterable[_Union[Household, _Mapping]]] = ...) -> None: ...

class PersonRef(_message.Message):
    __slots__ = ("customer_id", "household_id", "display_name")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    HOUSEHOLD_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    household_id: str
    display_name: str
    def __init__(self, customer_id: _Optional[str] = ..., household_id: _Optional[str] = ..., display_name: _Optional[str] = ...) -> None: ...

class Profile(_message.Message):
    __slots__ = ("customer_id", "household_id", "display_name", "golden", "preferences", "attributes", "household", "consents")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    HOUSEHOLD_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    GOLDEN_FIELD_NUMBER: _ClassVar[int]
    PREFERENCES_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    HOUSEHOLD_FIELD_NUMBER: _ClassVar[int]
    CONSENTS_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    household_id: str
    display_name: str
    golden: GoldenRecord
    preferences: _containers.RepeatedCompositeFieldContainer[Preference]
    attributes: _containers.RepeatedCompositeFieldContainer[Attribute]
    household: Household
    consents: _containers.RepeatedCompositeFieldContainer[Consent]
    def __init__(self, customer_id: _Optional[str] = ..., household_id: _Optional[str] = ..., display_name: _Optional[str] = ..., golden: _Optional[_Union[GoldenRecord, _Mapping]] = ..., preferences: _Optional[_Iterable[_Union[Preference, _Mapping]]] = ..., attributes: _Optional[_Iterable[_Union[Attribute, _Mapping]]] = ..., household: _Optional[_Union[Household, _Mapping]] = ..., consents: _Optional[_Iterable[_Union[Consent, _Mapping]]] = ...) -> None: ...

class FieldValue(_message.Message):
    __slots__ = ("value", "source", "record_id", "updated_at", "confidence")
    VALUE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    value: str
    source: str
    record_id: str
    updated_at: _timestamp_pb2.Timestamp
    confidence: float
    def __init__(self, value: _Optional[str] = ..., source: _Optional[str] = ..., record_id: _Optional[str] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., confidence: _Optional[float] = ...) -> None: ...

class GoldenRecord(_message.Message):
    __slots__ = ("first_name", "last_name", "email", "phone", "street", "house_number", "postcode", "city", "birth_date")
    FIRST_NAME_FIELD_NUMBER: _ClassVar[int]
    LAST_NAME_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    STREET_FIELD_NUMBER: _ClassVar[int]
    HOUSE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    POSTCODE_FIELD_NUMBER: _ClassVar[int]
    CITY_FIELD_NUMBER: _ClassVar[int]
    BIRTH_DATE_FIELD_NUMBER: _ClassVar[int]
    first_name: FieldValue
    last_name: FieldValue
    email: FieldValue
    phone: FieldValue
    street: FieldValue
    house_number: FieldValue
    postcode: FieldValue
    city: FieldValue
    birth_date: FieldValue
    def __init__(self, first_name: _Optional[_Union[FieldValue, _Mapping]] = ..., last_name: _Optional[_Union[FieldValue, _Mapping]] = ..., email: _Optional[_Union[FieldValue, _Mapping]] = ..., phone: _Optional[_Union[FieldValue, _Mapping]] = ..., street: _Optional[_Union[FieldValue, _Mapping]] = ..., house_number: _Optional[_Union[FieldValue, _Mapping]] = ..., postcode: _Optional[_Union[FieldValue, _Mapping]] = ..., city: _Optional[_Union[FieldValue, _Mapping]] = ..., birth_date: _Optional[_Union[FieldValue, _Mapping]] = ...) -> None: ...

class Preference(_message.Message):
    __slots__ = ("key", "value", "source", "stated_at")
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    STATED_AT_FIELD_NUMBER: _ClassVar[int]
    key: str
    value: str
    source: str
    stated_at: _timestamp_pb2.Timestamp
    def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ..., source: _Optional[str] = ..., stated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Attribute(_message.Message):
    __slots__ = ("name", "value", "evidence")
    class EvidenceEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    name: str
    value: str
    evidence: _containers.ScalarMap[str, str]
    def __init__(self, name: _Optional[str] = ..., value: _Optional[str] = ..., evidence: _Optional[_Mapping[str, str]] = ...) -> None: ...

class HouseholdMember(_message.Message):
    __slots__ = ("customer_id", "display_name")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    display_name: str
    def __init__(self, customer_id: _Optional[str] = ..., display_name: _Optional[str] = ...) -> None: ...

class Household(_message.Message):
    __slots__ = ("household_id", "members", "pets", "delivery_preference", "shared_preferences")
    HOUSEHOLD_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    PETS_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_PREFERENCE_FIELD_NUMBER: _ClassVar[int]
    SHARED_PREFERENCES_FIELD_NUMBER: _ClassVar[int]
    household_id: str
    members: _containers.RepeatedCompositeFieldContainer[HouseholdMember]
    pets: _containers.RepeatedScalarFieldContainer[str]
    delivery_preference: str
    shared_preferences: _containers.RepeatedCompositeFieldContainer[Preference]
    def __init__(self, household_id: _Optional[str] = ..., members: _Optional[_Iterable[_Union[HouseholdMember, _Mapping]]] = ..., pets: _Optional[_Iterable[str]] = ..., delivery_preference: _Optional[str] = ..., shared_preferences: _Optional[_Iterable[_Union[Preference, _Mapping]]] = ...) -> None: ...

class SearchCustomersRequest(_message.Message):
    __slots__ = ("name", "postcode", "house_number", "phone", "email", "birth_date", "limit")
    NAME_FIELD_NUMBER: _ClassVar[int]
    POSTCODE_FIELD_NUMBER: _ClassVar[int]
    HOUSE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    BIRTH_DATE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    name: str
    postcode: str
    house_number: str
    phone: str
    email: str
    birth_date: str
    limit: int
    def __init__(self, name: _Optional[str] = ..., postcode: _Optional[str] = ..., house_number: _Optional[str] = ..., phone: _Optional[str] = ..., email: _Optional[str] = ..., birth_date: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class Candidate(_message.Message):
    __slots__ = ("customer_id", "household_id", "display_name", "score", "matched_on")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    HOUSEHOLD_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    MATCHED_ON_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    household_id: str
    display_name: str
    score: float
    matched_on: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, customer_id: _Optional[str] = ..., household_id: _Optional[str] = ..., display_name: _Optional[str] = ..., score: _Optional[float] = ..., matched_on: _Optional[_Iterable[str]] = ...) -> None: ...

class SearchCustomersResponse(_message.Message):
    __slots__ = ("candidates",)
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    candidates: _containers.RepeatedCompositeFieldContainer[Candidate]
    def __init__(self, candidates: _Optional[_Iterable[_Union[Candidate, _Mapping]]] = ...) -> None: ...

class PreferenceEntry(_message.Message):
    __slots__ = ("key", "value")
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    key: str
    value: str
    def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...

class UpdatePreferencesRequest(_message.Message):
    __slots__ = ("customer_id", "source", "preferences", "stated_at")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    PREFERENCES_FIELD_NUMBER: _ClassVar[int]
    STATED_AT_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    source: str
    preferences: _containers.RepeatedCompositeFieldContainer[PreferenceEntry]
    stated_at: _timestamp_pb2.Timestamp
    def __init__(self, customer_id: _Optional[str] = ..., source: _Optional[str] = ..., preferences: _Optional[_Iterable[_Union[PreferenceEntry, _Mapping]]] = ..., stated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class UpdatePreferencesResponse(_message.Message):
    __slots__ = ("preferences",)
    PREFERENCES_FIELD_NUMBER: _ClassVar[int]
    preferences: _containers.RepeatedCompositeFieldContainer[Preference]
    def __init__(self, preferences: _Optional[_Iterable[_Union[Preference, _Mapping]]] = ...) -> None: ...

class GetHouseholdRequest(_message.Message):
    __slots__ = ("household_id",)
    HOUSEHOLD_ID_FIELD_NUMBER: _ClassVar[int]
    household_id: str
    def __init__(self, household_id: _Optional[str] = ...) -> None: ...

class GetHouseholdResponse(_message.Message):
    __slots__ = ("household", "redirected_from")
    HOUSEHOLD_FIELD_NUMBER: _ClassVar[int]
    REDIRECTED_FROM_FIELD_NUMBER: _ClassVar[int]
    household: Household
    redirected_from: str
    def __init__(self, household: _Optional[_Union[Household, _Mapping]] = ..., redirected_from: _Optional[str] = ...) -> None: ...

class IdentityEvent(_message.Message):
    __slots__ = ("event_id", "kind", "occurred_at", "customer_ids_before", "customer_ids_after", "household_id", "reason", "run_id")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_IDS_BEFORE_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_IDS_AFTER_FIELD_NUMBER: _ClassVar[int]
    HOUSEHOLD_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    kind: IdentityEventKind
    occurred_at: _timestamp_pb2.Timestamp
    customer_ids_before: _containers.RepeatedScalarFieldContainer[str]
    customer_ids_after: _containers.RepeatedScalarFieldContainer[str]
    household_id: str
    reason: str
    run_id: str
    def __init__(self, event_id: _Optional[str] = ..., kind: _Optional[_Union[IdentityEventKind, str]] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., customer_ids_before: _Optional[_Iterable[str]] = ..., customer_ids_after: _Optional[_Iterable[str]] = ..., household_id: _Optional[str] = ..., reason: _Optional[str] = ..., run_id: _Optional[str] = ...) -> None: ...

class ListIdentityEventsRequest(_message.Message):
    __slots__ = ("page_token", "page_size", "since", "customer_id")
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    page_token: str
    page_size: int
    since: _timestamp_pb2.Timestamp
    customer_id: str
    def __init__(self, page_token: _Optional[str] = ..., page_size: _Optional[int] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., customer_id: _Optional[str] = ...) -> None: ...

class ListIdentityEventsResponse(_message.Message):
    __slots__ = ("events", "next_page_token")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[IdentityEvent]
    next_page_token: str
    def __init__(self, events: _Optional[_Iterable[_Union[IdentityEvent, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class SourceRecord(_message.Message):
    __slots__ = ("record_id", "first_name", "last_name", "birth_date", "email", "phone", "street", "house_number", "postcode", "city", "loyalty_card")
    RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    FIRST_NAME_FIELD_NUMBER: _ClassVar[int]
    LAST_NAME_FIELD_NUMBER: _ClassVar[int]
    BIRTH_DATE_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    STREET_FIELD_NUMBER: _ClassVar[int]
    HOUSE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    POSTCODE_FIELD_NUMBER: _ClassVar[int]
    CITY_FIELD_NUMBER: _ClassVar[int]
    LOYALTY_CARD_FIELD_NUMBER: _ClassVar[int]
    record_id: str
    first_name: str
    last_name: str
    birth_date: str
    email: str
    phone: str
    street: str
    house_number: str
    postcode: str
    city: str
    loyalty_card: str
    def __init__(self, record_id: _Optional[str] = ..., first_name: _Optional[str] = ..., last_name: _Optional[str] = ..., birth_date: _Optional[str] = ..., email: _Optional[str] = ..., phone: _Optional[str] = ..., street: _Optional[str] = ..., house_number: _Optional[str] = ..., postcode: _Optional[str] = ..., city: _Optional[str] = ..., loyalty_card: _Optional[str] = ...) -> None: ...

class ResolveRecordRequest(_message.Message):
    __slots__ = ("source", "record", "persist")
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    RECORD_FIELD_NUMBER: _ClassVar[int]
    PERSIST_FIELD_NUMBER: _ClassVar[int]
    source: str
    record: SourceRecord
    persist: bool
    def __init__(self, source: _Optional[str] = ..., record: _Optional[_Union[SourceRecord, _Mapping]] = ..., persist: _Optional[bool] = ...) -> None: ...

class MatchCandidate(_message.Message):
    __slots__ = ("customer_id", "household_id", "display_name", "match_probability")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    HOUSEHOLD_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    MATCH_PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    household_id: str
    display_name: str
    match_probability: float
    def __init__(self, customer_id: _Optional[str] = ..., household_id: _Optional[str] = ..., display_name: _Optional[str] = ..., match_probability: _Optional[float] = ...) -> None: ...

class ResolveRecordResponse(_message.Message):
    __slots__ = ("customer_id", "household_id", "match_probability", "created", "candidates")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    HOUSEHOLD_ID_FIELD_NUMBER: _ClassVar[int]
    MATCH_PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    household_id: str
    match_probability: float
    created: bool
    candidates: _containers.RepeatedCompositeFieldContainer[MatchCandidate]
    def __init__(self, customer_id: _Optional[str] = ..., household_id: _Optional[str] = ..., match_probability: _Optional[float] = ..., created: _Optional[bool] = ..., candidates: _Optional[_Iterable[_Union[MatchCandidate, _Mapping]]] = ...) -> None: ...

class ExplainMatchRequest(_message.Message):
    __slots__ = ("a", "b")
    A_FIELD_NUMBER: _ClassVar[int]
    B_FIELD_NUMBER: _ClassVar[int]
    a: Identifier
    b: Identifier
    def __init__(self, a: _Optional[_Union[Identifier, _Mapping]] = ..., b: _Optional[_Union[Identifier, _Mapping]] = ...) -> None: ...

class ComparisonWeight(_message.Message):
    __slots__ = ("comparison", "level", "match_weight", "value_a", "value_b")
    COMPARISON_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    MATCH_WEIGHT_FIELD_NUMBER: _ClassVar[int]
    VALUE_A_FIELD_NUMBER: _ClassVar[int]
    VALUE_B_FIELD_NUMBER: _ClassVar[int]
    comparison: str
    level: str
    match_weight: float
    value_a: str
    value_b: str
    def __init__(self, comparison: _Optional[str] = ..., level: _Optional[str] = ..., match_weight: _Optional[float] = ..., value_a: _Optional[str] = ..., value_b: _Optional[str] = ...) -> None: ...

class MatchLink(_message.Message):
    __slots__ = ("record_a", "record_b", "match_probability", "joined_by")
    RECORD_A_FIELD_NUMBER: _ClassVar[int]
    RECORD_B_FIELD_NUMBER: _ClassVar[int]
    MATCH_PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    JOINED_BY_FIELD_NUMBER: _ClassVar[int]
    record_a: str
    record_b: str
    match_probability: float
    joined_by: str
    def __init__(self, record_a: _Optional[str] = ..., record_b: _Optional[str] = ..., match_probability: _Optional[float] = ..., joined_by: _Optional[str] = ...) -> None: ...

class ExplainMatchResponse(_message.Message):
    __slots__ = ("match_probability", "match_weight", "prior_weight", "comparisons", "same_person", "customer_id_a", "customer_id_b", "decision", "rule", "steward_decision_id", "path", "household")
    MATCH_PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    MATCH_WEIGHT_FIELD_NUMBER: _ClassVar[int]
    PRIOR_WEIGHT_FIELD_NUMBER: _ClassVar[int]
    COMPARISONS_FIELD_NUMBER: _ClassVar[int]
    SAME_PERSON_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_A_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_B_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    STEWARD_DECISION_ID_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    HOUSEHOLD_FIELD_NUMBER: _ClassVar[int]
    match_probability: float
    match_weight: float
    prior_weight: float
    comparisons: _containers.RepeatedCompositeFieldContainer[ComparisonWeight]
    same_person: bool
    customer_id_a: str
    customer_id_b: str
    decision: str
    rule: str
    steward_decision_id: str
    path: _containers.RepeatedCompositeFieldContainer[MatchLink]
    household: HouseholdExplanation
    def __init__(self, match_probability: _Optional[float] = ..., match_weight: _Optional[float] = ..., prior_weight: _Optional[float] = ..., comparisons: _Optional[_Iterable[_Union[ComparisonWeight, _Mapping]]] = ..., same_person: _Optional[bool] = ..., customer_id_a: _Optional[str] = ..., customer_id_b: _Optional[str] = ..., decision: _Optional[str] = ..., rule: _Optional[str] = ..., steward_decision_id: _Optional[str] = ..., path: _Optional[_Iterable[_Union[MatchLink, _Mapping]]] = ..., household: _Optional[_Union[HouseholdExplanation, _Mapping]] = ...) -> None: ...

class HouseholdLink(_message.Message):
    __slots__ = ("customer_id_a", "customer_id_b", "kind", "value", "match_probability")
    CUSTOMER_ID_A_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_B_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    MATCH_PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    customer_id_a: str
    customer_id_b: str
    kind: str
    value: str
    match_probability: float
    def __init__(self, customer_id_a: _Optional[str] = ..., customer_id_b: _Optional[str] = ..., kind: _Optional[str] = ..., value: _Optional[str] = ..., match_probability: _Optional[float] = ...) -> None: ...

class ExplainHouseholdRequest(_message.Message):
    __slots__ = ("household_id",)
    HOUSEHOLD_ID_FIELD_NUMBER: _ClassVar[int]
    household_id: str
    def __init__(self, household_id: _Optional[str] = ...) -> None: ...

class ExplainHouseholdResponse(_message.Message):
    __slots__ = ("household_id", "redirected_from", "customer_ids", "links", "unlinked", "decision")
    HOUSEHOLD_ID_FIELD_NUMBER: _ClassVar[int]
    REDIRECTED_FROM_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_IDS_FIELD_NUMBER: _ClassVar[int]
    LINKS_FIELD_NUMBER: _ClassVar[int]
    UNLINKED_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    household_id: str
    redirected_from: str
    customer_ids: _containers.RepeatedScalarFieldContainer[str]
    links: _containers.RepeatedCompositeFieldContainer[HouseholdLink]
    unlinked: _containers.RepeatedScalarFieldContainer[str]
    decision: str
    def __init__(self, household_id: _Optional[str] = ..., redirected_from: _Optional[str] = ..., customer_ids: _Optional[_Iterable[str]] = ..., links: _Optional[_Iterable[_Union[HouseholdLink, _Mapping]]] = ..., unlinked: _Optional[_Iterable[str]] = ..., decision: _Optional[str] = ...) -> None: ...

class HouseholdExplanation(_message.Message):
    __slots__ = ("same_household", "household_id_a", "household_id_b", "decision", "path")
    SAME_HOUSEHOLD_FIELD_NUMBER: _ClassVar[int]
    HOUSEHOLD_ID_A_FIELD_NUMBER: _ClassVar[int]
    HOUSEHOLD_ID_B_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    same_household: bool
    household_id_a: str
    household_id_b: str
    decision: str
    path: _containers.RepeatedCompositeFieldContainer[HouseholdLink]
    def __init__(self, same_household: _Optional[bool] = ..., household_id_a: _Optional[str] = ..., household_id_b: _Optional[str] = ..., decision: _Optional[str] = ..., path: _Optional[_Iterable[_Union[HouseholdLink, _Mapping]]] = ...) -> None: ...

class ConsentEntry(_message.Message):
    __slots__ = ("purpose", "granted")
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    GRANTED_FIELD_NUMBER: _ClassVar[int]
    purpose: ConsentPurpose
    granted: bool
    def __init__(self, purpose: _Optional[_Union[ConsentPurpose, str]] = ..., granted: _Optional[bool] = ...) -> None: ...

class Consent(_message.Message):
    __slots__ = ("purpose", "granted", "channel", "stated_at", "by_default")
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    GRANTED_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    STATED_AT_FIELD_NUMBER: _ClassVar[int]
    BY_DEFAULT_FIELD_NUMBER: _ClassVar[int]
    purpose: ConsentPurpose
    granted: bool
    channel: str
    stated_at: _timestamp_pb2.Timestamp
    by_default: bool
    def __init__(self, purpose: _Optional[_Union[ConsentPurpose, str]] = ..., granted: _Optional[bool] = ..., channel: _Optional[str] = ..., stated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., by_default: _Optional[bool] = ...) -> None: ...

class UpdateConsentRequest(_message.Message):
    __slots__ = ("customer_id", "consents")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    CONSENTS_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    consents: _containers.RepeatedCompositeFieldContainer[ConsentEntry]
    def __init__(self, customer_id: _Optional[str] = ..., consents: _Optional[_Iterable[_Union[ConsentEntry, _Mapping]]] = ...) -> None: ...

class UpdateConsentResponse(_message.Message):
    __slots__ = ("consents",)
    CONSENTS_FIELD_NUMBER: _ClassVar[int]
    consents: _containers.RepeatedCompositeFieldContainer[Consent]
    def __init__(self, consents: _Optional[_Iterable[_Union[Consent, _Mapping]]] = ...) -> None: ...

class ExportCustomerRequest(_message.Message):
    __slots__ = ("customer_id",)
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    def __init__(self, customer_id: _Optional[str] = ...) -> None: ...

class ExportCustomerResponse(_message.Message):
    __slots__ = ("json",)
    JSON_FIELD_NUMBER: _ClassVar[int]
    json: str
    def __init__(self, json: _Optional[str] = ...) -> None: ...

class ForgetCustomerRequest(_message.Message):
    __slots__ = ("customer_id", "reason")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    reason: str
    def __init__(self, customer_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class ForgetCustomerResponse(_message.Message):
    __slots__ = ("records_erased",)
    RECORDS_ERASED_FIELD_NUMBER: _ClassVar[int]
    records_erased: int
    def __init__(self, records_erased: _Optional[int] = ...) -> None: ...
