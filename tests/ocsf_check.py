"""Check an event dict against the official OCSF 1.1.0 schema files (tests/data/ocsf-schema-1.1.0).

Nothing about a class is hard-coded here: class and object definitions are assembled from the JSON
files the way the OCSF schema compiler does it (``$include``d includes and profiles merged under the
item's own attributes; ``extends`` merged under the child; dictionary.json definitions under both),
then an event is checked for:

- every attribute with requirement ``required``, at every level of nesting (profile attributes only
  when the profile is listed in ``metadata.profiles``, as OCSF applies profiles per event);
- ``at_least_one`` / ``just_one`` constraints of the class and of every object present;
- no attribute the class or object does not define, and no profile attribute without its profile;
- value types (string / integer / boolean / array / object, type regexes, ``max_len``), enum
  values, and enum captions in the sibling attribute (siemhub always uses the schema caption,
  even for 99 Other, so this is stricter than OCSF needs);
- classification: class_uid = category_uid * 1000 + class uid, type_uid = class_uid * 100 +
  activity_id, category/class/type names as the schema captions them, metadata.version.

The data files are an unmodified subset of ocsf/ocsf-schema v1.1.0 (Apache-2.0; see SOURCE.txt),
copied into the repository because CI has no ../shared folder.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

SCHEMA_DIR = Path(__file__).parent / "data" / "ocsf-schema-1.1.0"
# category_uid / class_uid enums list only 0; real values come from categories.json and class files.
_CLASSIFICATION_IDS = frozenset({"category_uid", "class_uid"})
_PY_TYPES: dict[str, tuple[type, ...]] = {
    "string_t": (str,), "integer_t": (int,), "long_t": (int,), "float_t": (int, float), "boolean_t": (bool,),
}


def _merge(dest: dict[str, Any], src: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge ``src`` over ``dest`` (``src`` wins; nested dicts such as enums are merged)."""
    for key, value in src.items():
        if isinstance(value, Mapping) and isinstance(dest.get(key), dict):
            _merge(dest[key], value)
        else:
            dest[key] = copy.deepcopy(value)
    return dest


class Schema:
    """The OCSF schema read from its JSON files."""

    def __init__(self, root: Path = SCHEMA_DIR) -> None:
        self.root = root
        dictionary = self._load("dictionary.json")
        self.dictionary: dict[str, Any] = dictionary["attributes"]
        self.types: dict[str, Any] = dictionary["types"]["attributes"]
        self.categories: dict[str, Any] = self._load("categories.json")["attributes"]
        self.version: str = self._load("version.json")["version"]
        self._paths = {"class": self._index("events/**/*.json"), "object": self._index("objects/*.json")}

    def _load(self, rel: str) -> Any:
        return json.loads((self.root / rel).read_text(encoding="utf-8"))

    def _index(self, pattern: str) -> dict[str, str]:
        return {json.loads(p.read_text(encoding="utf-8"))["name"]: str(p.relative_to(self.root))
                for p in sorted(self.root.glob(pattern))}

    @cache  # noqa: B019  (one Schema per test session)
    def resolve(self, kind: str, name: str) -> dict[str, Any]:
        """A class or object with includes and ``extends`` resolved."""
        if name not in self._paths[kind]:
            raise LookupError(f"{kind} {name!r} is not in the schema files under {self.root}")
        raw: dict[str, Any] = copy.deepcopy(self._load(self._paths[kind][name]))
        own = raw.get("attributes", {})
        includes = own.pop("$include", [])
        for rel in [includes] if isinstance(includes, str) else includes:
            included = self._load(rel)
            attrs = copy.deepcopy(included.get("attributes", {}))
            if included.get("meta") == "profile":  # attributes of a profile are bound to it
                for attr in attrs.values():
                    attr["profile"] = included["name"]
            own = self._merge_attributes(attrs, own)
        raw["attributes"] = own
        if "extends" not in raw:
            return raw
        item = copy.deepcopy(self.resolve(kind, raw["extends"]))
        for key, value in raw.items():
            if key == "attributes":
                item["attributes"] = self._merge_attributes(item.get("attributes", {}), value)
            elif key == "profiles":
                item["profiles"] = sorted(set(item.get("profiles", [])) | set(value))
            else:  # constraints, uid, caption ... : the child's replace the parent's
                item[key] = value
        return item

    @staticmethod
    def _merge_attributes(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
        # "profile": null in the item unbinds an attribute a profile brought in (Authentication.actor).
        for name, attr in over.items():
            base[name] = _merge(base.get(name, {}), attr)
        return base

    def attribute(self, item: Mapping[str, Any], name: str) -> dict[str, Any]:
        """The attribute's full definition: dictionary.json, then the class / object's own."""
        return _merge(copy.deepcopy(self.dictionary.get(name, {})), item["attributes"][name])

    def concrete_classes(self) -> dict[int, dict[str, Any]]:
        """class_uid -> resolved class, for every class file that defines a uid (and Base Event)."""
        out = {}
        for name in self._paths["class"]:
            cls = self.resolve("class", name)
            if "uid" in cls or name == "base_event":
                out[self.category_uid(cls) * 1000 + cls.get("uid", 0)] = cls
        return out

    def category_uid(self, cls: Mapping[str, Any]) -> int:
        return int(self.categories.get(str(cls.get("category")), {}).get("uid", 0))

    def type_props(self, type_name: str) -> dict[str, Any]:
        """A primitive type's properties, inherited through its ``type`` chain (email_t -> string_t)."""
        props = self.types.get(type_name, {})
        parent = self.type_props(props["type"]) if "type" in props else {"base": type_name}
        return {**parent, **{k: v for k, v in props.items() if k != "type"}}

    # -- checking ---------------------------------------------------------------------------------

    def check(self, event: Mapping[str, Any]) -> list[str]:
        """Every problem found, as readable strings; an empty list means valid."""
        classes = self.concrete_classes()
        class_uid = event.get("class_uid")
        if class_uid not in classes:
            return [f"class_uid: {class_uid!r} is not a class in the OCSF {self.version} schema files"]
        cls = classes[class_uid]
        metadata = event.get("metadata")
        profiles = set(metadata.get("profiles") or []) if isinstance(metadata, Mapping) else set()
        problems: list[str] = []
        self._check_item(event, cls, "", profiles, problems)
        self._check_classification(event, cls, problems)
        if isinstance(metadata, Mapping) and metadata.get("version") != self.version:
            problems.append(f"metadata.version: {metadata.get('version')!r} is not {self.version!r}")
        for profile in sorted(profiles - set(cls.get("profiles", []))):
            problems.append(f"metadata.profiles: {profile!r} is not a profile of {cls['name']}")
        return problems

    def _check_classification(self, event: Mapping[str, Any], cls: Mapping[str, Any], out: list[str]) -> None:
        category_uid = self.category_uid(cls)
        category = self.categories.get(str(cls.get("category")), {}).get("caption") or \
            self.attribute(cls, "category_uid")["enum"][str(category_uid)]["caption"]
        activities = self.attribute(cls, "activity_id")["enum"]
        activity = activities.get(str(event.get("activity_id")), {}).get("caption")
        expected = {
            "category_uid": category_uid,
            "category_name": category,
            "class_uid": category_uid * 1000 + cls.get("uid", 0),
            "class_name": cls["caption"],
            "type_uid": (event.get("class_uid") or 0) * 100 + (event.get("activity_id") or 0),
            "type_name": f"{cls['caption']}: {activity}",
        }
        for key, want in expected.items():
            if key in event and event[key] != want:
                out.append(f"{key}: {event[key]!r}, expected {want!r}")

    def _active(self, attr: Mapping[str, Any], profiles: set[str]) -> bool:
        return attr.get("profile") is None or attr["profile"] in profiles

    def _check_item(self, value: Any, item: Mapping[str, Any], path: str, profiles: set[str], out: list[str]) -> None:
        if not isinstance(value, Mapping):
            out.append(f"{path.rstrip('.') or '<event>'}: expected an object ({item['name']})")
            return
        attrs = item.get("attributes", {})
        for name, attr in attrs.items():
            if attr.get("requirement") == "required" and self._active(attr, profiles) and value.get(name) is None:
                why = f" (profile {attr['profile']})" if attr.get("profile") else ""
                out.append(f"{path}{name}: required by {item['name']}{why} but missing")
        constraints = item.get("constraints", {})
        for names in [constraints["at_least_one"]] if "at_least_one" in constraints else []:
            if not any(value.get(n) is not None for n in names):
                out.append(f"{path.rstrip('.') or '<event>'}: {item['name']} needs at least one of {names}")
        for names in [constraints["just_one"]] if "just_one" in constraints else []:
            if sum(value.get(n) is not None for n in names) != 1:
                out.append(f"{path.rstrip('.') or '<event>'}: {item['name']} needs exactly one of {names}")
        for name, sub in value.items():
            where = f"{path}{name}"
            if name not in attrs:
                out.append(f"{where}: not an attribute of {item['name']}")
            elif not self._active(attrs[name], profiles):
                out.append(f"{where}: belongs to profile {attrs[name]['profile']!r}, not in metadata.profiles")
            else:
                self._check_value(sub, self.attribute(item, name), value, where, profiles, out)

    def _check_value(self, value: Any, attr: Mapping[str, Any], parent: Mapping[str, Any], where: str,
                     profiles: set[str], out: list[str]) -> None:
        if value is None:
            out.append(f"{where}: null (omit the attribute instead)")
            return
        if attr.get("is_array"):
            if not isinstance(value, list):
                out.append(f"{where}: expected an array")
                return
            for i, element in enumerate(value):
                self._check_value(element, {**attr, "is_array": False}, parent, f"{where}[{i}]", profiles, out)
            return
        type_name = attr.get("type", "")
        if type_name == "object":  # the generic object (``unmapped``): any JSON object goes
            if not isinstance(value, Mapping):
                out.append(f"{where}: expected an object")
            return
        if type_name in self._paths["object"]:
            self._check_item(value, self.resolve("object", type_name), f"{where}.", profiles, out)
            return
        props = self.type_props(type_name)
        py_types = _PY_TYPES.get(props.get("base", ""))
        if py_types and (not isinstance(value, py_types) or (isinstance(value, bool) and bool not in py_types)):
            out.append(f"{where}: {value!r} is not a {type_name}")
            return
        if isinstance(value, str):
            if "max_len" in props and len(value) > props["max_len"]:
                out.append(f"{where}: longer than {props['max_len']} characters")
            if "regex" in props and not re.search(props["regex"], value):
                out.append(f"{where}: {value!r} does not match the {type_name} pattern")
        name = where.rsplit(".", 1)[-1].split("[")[0]
        enum = attr.get("enum")
        if enum and name not in _CLASSIFICATION_IDS:
            if str(value) not in enum:
                out.append(f"{where}: {value!r} is not one of {sorted(enum, key=int)}")
            elif attr.get("sibling") in parent and parent[attr["sibling"]] != enum[str(value)]["caption"]:
                out.append(f"{where[:-len(name)]}{attr['sibling']}: {parent[attr['sibling']]!r}, "
                           f"the caption of {name} {value} is {enum[str(value)]['caption']!r}")


@cache
def schema() -> Schema:
    """The shared schema (loading it takes a moment, checking is cheap)."""
    return Schema()


def problems(event: Mapping[str, Any]) -> list[str]:
    return schema().check(event)


def assert_valid(event: Mapping[str, Any]) -> None:
    found = problems(event)
    assert not found, "OCSF 1.1.0 violations:\n  " + "\n  ".join(found)
