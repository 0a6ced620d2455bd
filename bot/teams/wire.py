"""botbuilder's models to and from JSON without msrest's generic walk.

msrest's Serializer and Deserializer interpret each model's `_attribute_map` anew for every
value (a copy of each attribute's description, key transformers and extractors, a dispatch on
the type string), which cost more per turn than the rest of the Bot Framework layer. The two
functions here follow the same maps, compiled once per class, and give the same result for the
shapes a Teams turn carries. Anything else (a type they do not know, a value of an unexpected
Python type, a model with flattened keys, read-only or constant fields, subtypes or XML) is left
to msrest itself, so that the result is msrest's whenever the fast path cannot be sure.

The rules followed (msrest 0.7.1, `Serializer._serialize` / `Deserializer._deserialize`):
- an attribute's JSON name is its map `key` (no key in botbuilder's schema is dotted, i.e.
  flattened; classes with one are left to msrest);
- serializing, None attributes are omitted; a `str` field gives an enum's value; `iso-8601`
  goes through msrest's own `serialize_iso` / `deserialize_iso`; a nested model is written by
  its own class's map; `object` values are copied as JSON (exact `dict` and `list` only, keys
  strings), None kept inside them;
- deserializing, keys are matched exactly (msrest's `rest_key_extractor`), keys a class does not
  know land in `additional_properties` (only when there are some), and the model is built by
  calling its class with every attribute, as msrest does.
"""

from __future__ import annotations

import copy
import datetime
import inspect
import json
from collections.abc import Callable
from enum import Enum
from itertools import compress
from operator import not_
from typing import Any, TypeVar

import orjson
from azure.core.exceptions import DeserializationError
from botbuilder.schema import Activity, Attachment
from msrest.serialization import Deserializer, Model, Serializer

# The kinds of attribute the fast paths handle.
_STR, _BOOL, _INT, _FLOAT, _ISO, _OBJECT, _MODEL, _LIST, _DICT = range(9)
_BASIC = {"str": _STR, "bool": _BOOL, "int": _INT, "float": _FLOAT, "iso-8601": _ISO}
_EXACT: dict[int, type] = {_BOOL: bool, _INT: int, _FLOAT: float}

# (kind, model class for _MODEL, element type for _LIST / _DICT)
_Type = tuple[int, type[Model] | None, Any]
_Plan = tuple[tuple[str, str, _Type], ...]


class Unsupported(Exception):
    """The fast path does not handle this value; msrest must."""


class SharedCard(dict[str, Any]):
    """An Adaptive Card's content that botbuilder does not copy.

    `TurnContext.send_activities` deep-copies every outgoing activity so that applying the
    conversation reference cannot change the caller's object; for a card that copy walks every
    node of the card, per reply. The copy protects nothing here: a card is built for one reply
    (cards.* return fresh dicts) and nothing reads or changes it after it is handed to
    `send_activity`; botbuilder only sets fields of the activity itself (ids, accounts,
    conversation), never of an attachment's content. So `deepcopy` returns the card itself.

    msrest would write a dict subclass as `str(card)`: the JSON paths here pass it as it is
    (`to_json`), and the adapter never hands one to msrest."""

    __slots__ = ()

    def __deepcopy__(self, memo: dict[int, Any]) -> SharedCard:
        return self


# Values deepcopy returns as they are.
_ATOMIC = frozenset({str, int, float, bool, type(None)})
_Copied = TypeVar("_Copied", bound="SetFieldsCopy")


class SetFieldsCopy:
    """A model whose deep copy is `copy.deepcopy`'s, without its cost.

    `TurnContext.send_activities` deep-copies every activity it sends, so that applying the
    conversation reference leaves the caller's object as it was. `copy.deepcopy` of an msrest
    model goes through `__reduce_ex__` and walks every attribute, about fifty for an Activity,
    nearly all None: a hundred calls per reply. This copy is the same (a new object of the same
    class, registered in the memo before its values are copied, whose every other value is
    deep-copied with the same memo), but None, strings, numbers and enum members are kept as
    they are without a call: deepcopy returns those themselves anyway. A SharedCard stays shared,
    as it does under deepcopy."""

    __slots__ = ()

    @classmethod
    def of(cls: type[_Copied], model: Model) -> _Copied:
        """The same model (the same field values) as this class."""
        copied = cls.__new__(cls)
        copied.__dict__.update(model.__dict__)
        return copied

    def __deepcopy__(self: _Copied, memo: dict[int, Any]) -> _Copied:
        cls = type(self)
        clone = cls.__new__(cls)
        memo[id(self)] = clone
        values = self.__dict__
        copied = clone.__dict__
        copied.update(values)
        # The few values to copy deeply, picked out without a Python-level step per field
        # (an Activity has 43, a card reply sets 4): what is not of an atomic type, nor an
        # enum member (deepcopy returns one itself).
        deep = compress(
            values.items(), map(not_, map(_ATOMIC.__contains__, map(type, values.values())))
        )
        for name, value in deep:
            if type(value) is dict and not value:  # additional_properties, nearly always
                copied[name] = {}
            elif not isinstance(value, Enum):
                copied[name] = copy.deepcopy(value, memo)
        return clone


class ReplyActivity(SetFieldsCopy, Activity):  # type: ignore[misc]
    """An outgoing activity (see SetFieldsCopy)."""


class ReplyAttachment(SetFieldsCopy, Attachment):  # type: ignore[misc]
    """An outgoing activity's attachment (see SetFieldsCopy)."""


def _dependencies(cls: type[Model]) -> dict[str, type]:
    """The classes msrest resolves a model's type names against (those of its package)."""
    key = cls.__module__
    deps = _deps.get(key)
    if deps is None:
        deps = _deps[key] = dict(cls._infer_class_models())  # type: ignore[no-untyped-call]
    return deps


_deps: dict[str, dict[str, type]] = {}


def _type_of(spec: object, deps: dict[str, type] | None) -> _Type | None:
    """How to handle a map type: deps None when serializing (msrest then writes any model by
    its own class's map, and only an Enum named there would change that)."""
    if not isinstance(spec, str) or not spec:
        return None
    if spec in _BASIC:
        return (_BASIC[spec], None, None)
    if spec == "object":
        return (_OBJECT, None, None)
    if spec[0] + spec[-1] in ("[]", "{}"):
        inner = _type_of(spec[1:-1], deps)
        if inner is None:
            return None
        return (_LIST if spec[0] == "[" else _DICT, None, inner)
    if deps is None:
        named = _SCHEMA.get(spec)
        return None if named is None or issubclass(named, Enum) else (_MODEL, None, None)
    cls = deps.get(spec)
    if isinstance(cls, type) and issubclass(cls, Model):
        return (_MODEL, cls, None)
    return None


def _schema_classes() -> dict[str, type]:
    import botbuilder.schema
    import botbuilder.schema.teams

    classes: dict[str, type] = {}
    for module in (botbuilder.schema, botbuilder.schema.teams):
        classes.update({k: v for k, v in vars(module).items() if isinstance(v, type)})
    return classes


_SCHEMA = _schema_classes()


def _simple(cls: type) -> bool:
    """A model class whose map the fast paths follow exactly: plain keys, no read-only or
    constant fields, no polymorphism, no XML."""
    if not (isinstance(cls, type) and issubclass(cls, Model)):
        return False
    if hasattr(cls, "_xml_map") or cls.__dict__.get("_subtype_map"):
        return False
    if any(v.get("readonly") or v.get("constant") for v in cls._validation.values()):
        return False
    for attr, desc in cls._attribute_map.items():
        key = desc.get("key")
        if attr == "additional_properties" or not isinstance(key, str) or not key:
            return False
        if "." in key:
            return False
    return True


_plans: dict[tuple[type, int], _Plan | None] = {}


def _plan(cls: type, deps: dict[str, type] | None) -> _Plan:
    slot = (cls, 0 if deps is None else id(deps))
    try:
        plan = _plans[slot]
    except KeyError:
        plan = _plans[slot] = _compile(cls, deps)
    if plan is None:
        raise Unsupported(cls.__name__)
    return plan


def _compile(cls: type, deps: dict[str, type] | None) -> _Plan | None:
    if not _simple(cls):
        return None
    steps = []
    attribute_map: dict[str, dict[str, Any]] = cls._attribute_map  # type: ignore[attr-defined]
    for attr, desc in attribute_map.items():
        kind = _type_of(desc["type"], deps)
        if kind is None:
            return None
        steps.append((attr, desc["key"], kind))
    return tuple(steps)


# -- serializing ---------------------------------------------------------------------------------


def to_json(model: Model) -> dict[str, Any]:
    """`model.serialize()`, for the shapes the fast path knows (Unsupported otherwise), except
    that a `SharedCard` is written as the JSON it is."""
    out: dict[str, Any] = {}
    for attr, key, kind in _plan(type(model), None):
        value = getattr(model, attr)
        if value is not None:
            out[key] = _out(value, kind)
    return out


def _out(value: Any, spec: _Type) -> Any:
    kind, _cls, inner = spec
    if kind == _STR:
        if type(value) is str:
            return value
        if isinstance(value, Enum):
            return value.value
        raise Unsupported(type(value).__name__)
    if kind in _EXACT:
        if type(value) is _EXACT[kind]:
            return value
        raise Unsupported(type(value).__name__)
    if kind == _ISO:
        if type(value) is datetime.datetime:
            return _serialize_iso(value)
        raise Unsupported(type(value).__name__)
    if kind == _OBJECT:
        return _object_out(value)
    if kind == _MODEL:
        if isinstance(value, Model):
            return to_json(value)
        raise Unsupported(type(value).__name__)
    if kind == _LIST:
        if type(value) is not list:
            raise Unsupported(type(value).__name__)
        return [None if v is None else _out(v, inner) for v in value]
    # _DICT
    if type(value) is SharedCard and inner[0] == _OBJECT:
        return value
    if type(value) is not dict:
        raise Unsupported(type(value).__name__)
    return {_key(k): None if v is None else _out(v, inner) for k, v in value.items()}


def _key(key: object) -> str:
    if type(key) is str:
        return key
    raise Unsupported("key " + type(key).__name__)


_PLAIN = (str, int, bool, float)


def _object_out(value: Any) -> Any:
    """msrest's `serialize_object` on JSON-like values."""
    cls = type(value)
    if value is None or cls in _PLAIN or cls is SharedCard:
        return value
    if cls is dict:
        return {_key(k): _object_out(v) for k, v in value.items()}
    if cls is list:
        return [_object_out(v) for v in value]
    if cls is datetime.datetime:
        return _serialize_iso(value)
    if isinstance(value, Model):
        return to_json(value)
    raise Unsupported(cls.__name__)


# -- deserializing -------------------------------------------------------------------------------

# Per class: its plan by JSON key, and the keyword arguments that must be passed as None even
# when the key is absent (those whose parameter does not default to None).
_Reader = tuple[dict[str, tuple[str, _Type]], dict[str, None]]
_readers: dict[tuple[type, int], _Reader] = {}


def _reader(cls: type[Model], deps: dict[str, type]) -> _Reader:
    slot = (cls, id(deps))
    reader = _readers.get(slot)
    if reader is None:
        plan = _plan(cls, deps)
        parameters = inspect.signature(cls.__init__).parameters
        explicit = {
            attr: None
            for attr, _key, _kind in plan
            if attr not in parameters or parameters[attr].default is not None
        }
        reader = _readers[slot] = ({key: (attr, kind) for attr, key, kind in plan}, explicit)
    return reader


def from_json(cls: type[Model], data: dict[str, Any]) -> Any:
    """`cls.deserialize(data)` for data as `json.loads` returns it (str, int, float, bool, None,
    dict, list), for the shapes the fast path knows (Unsupported otherwise).

    msrest copies `object` values (value, channelData, properties) node by node into equal
    dicts and lists; here they are the parsed JSON itself, which nothing else holds."""
    return _model_in(cls, data, _dependencies(cls))


def _model_in(cls: type[Model], data: Any, deps: dict[str, type]) -> Any:
    """Called with the attributes the data has (others are None by default), as msrest calls
    the class with every attribute."""
    if type(data) is not dict:
        raise Unsupported(type(data).__name__)
    steps, explicit = _reader(cls, deps)
    kwargs = dict(explicit) if explicit else {}
    extra = None
    for key, raw in data.items():
        step = steps.get(key)
        if step is None:
            if extra is None:
                extra = {}
            extra[key] = raw
        elif raw is not None:
            kwargs[step[0]] = _in(raw, step[1], deps)
    try:
        model = cls(**kwargs)
    except TypeError as error:
        raise Unsupported(str(error)) from error
    if extra:
        model.additional_properties = extra
    return model


def _in(raw: Any, spec: _Type, deps: dict[str, type]) -> Any:
    kind, cls, inner = spec
    if kind == _STR:
        if type(raw) is str:
            return raw
        raise Unsupported(type(raw).__name__)
    if kind in _EXACT:
        if type(raw) is _EXACT[kind]:
            return raw
        raise Unsupported(type(raw).__name__)
    if kind == _ISO:
        if type(raw) is str:
            return _deserialize_iso(raw)
        raise Unsupported(type(raw).__name__)
    if kind == _OBJECT:
        return raw
    if kind == _MODEL:
        assert cls is not None
        return _model_in(cls, raw, deps)
    if kind == _LIST:
        if type(raw) is not list:
            raise Unsupported(type(raw).__name__)
        return [None if v is None else _in(v, inner, deps) for v in raw]
    if type(raw) is not dict:
        raise Unsupported(type(raw).__name__)
    return {k: None if v is None else _in(v, inner, deps) for k, v in raw.items()}


_deserialize_iso: Callable[[str], datetime.datetime] = Deserializer.deserialize_iso
_serialize_iso: Callable[[datetime.datetime], str] = Serializer.serialize_iso


# -- the entry points the adapter uses -------------------------------------------------------------


def activity_from_json(body: dict[str, Any]) -> Activity:
    """`Activity().deserialize(body)`: the fast path, or msrest where it cannot be sure (msrest
    then raises what it raises for a body it cannot read)."""
    try:
        activity: Activity = from_json(Activity, body)
    except (Unsupported, DeserializationError):
        activity = Activity().deserialize(body)
    return activity


def model_json(model: Model) -> dict[str, Any]:
    """`model.serialize()`, by `to_json` where it can."""
    try:
        return to_json(model)
    except Unsupported:
        serialized: dict[str, Any] = model.serialize()  # type: ignore[no-untyped-call]
        return serialized


def dump_bytes(value: Any) -> bytes:
    """The JSON of a reply or an invoke's answer, in UTF-8, by orjson (a card took json.dumps
    about 40 µs a turn, orjson 2): compact and with UTF-8 rather than \\u escapes, the same JSON
    value. What orjson refuses and json.dumps writes (a lone surrogate, an int beyond 64 bits, a
    key that is not a string) goes to json.dumps."""
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        return json.dumps(value).encode()


def dumps(value: Any) -> str:
    """`dump_bytes` as text (aiohttp's `json_response` takes text)."""
    return dump_bytes(value).decode()
