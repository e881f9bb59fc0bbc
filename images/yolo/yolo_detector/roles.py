"""The class-role map: model class names -> detected_class, and detected classes -> image categories.

Which classes count as a person or a product is configuration (class_roles.yaml beside this module, or the
file named by --class-roles / YOLO_CLASS_ROLES), so a different model needs a new file, not new code.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable
from pathlib import Path

import yaml

DEFAULT_FILE = Path(__file__).with_name("class_roles.yaml")
CATEGORIES = ("promotional", "product_display", "lifestyle", "other")


class ConfigError(ValueError):
    """A configuration file that cannot be used; the message says which and why."""


@dataclasses.dataclass(frozen=True)
class ClassRoles:
    aliases: dict[str, str]
    person: frozenset[str]
    product: frozenset[str]
    source: str = "built-in"

    def detected_class(self, model_class: str) -> str:
        return self.aliases.get(model_class, model_class)

    def role(self, detected_class: str | None) -> str | None:
        if detected_class in self.person:
            return "person"
        if detected_class in self.product:
            return "product"
        return None

    def categorize(self, detected_classes: Iterable[str | None]) -> str:
        """The image_category of one image from the detected classes of all its detections."""
        roles = {self.role(c) for c in detected_classes}
        if "person" in roles and "product" in roles:
            return "promotional"
        if "product" in roles:
            return "product_display"
        if "person" in roles:
            return "lifestyle"
        return "other"

    def rows(self) -> list[tuple[str, str]]:
        """(detected_class, role) pairs, for a dbt seed or any SQL that needs the same map."""
        return sorted([(c, "person") for c in self.person] + [(c, "product") for c in self.product])


def load_roles(path: str | Path | None = None) -> ClassRoles:
    """Read the class-role file: the given path, else $YOLO_CLASS_ROLES, else the built-in one."""
    path = Path(path or os.environ.get("YOLO_CLASS_ROLES") or DEFAULT_FILE)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ConfigError(f"cannot read class roles {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"class roles {path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"class roles {path}: expected a mapping with 'aliases' and 'roles'")
    aliases = data.get("aliases") or {}
    roles = data.get("roles") or {}
    if not isinstance(aliases, dict) or not all(isinstance(v, str) for v in aliases.values()):
        raise ConfigError(f"class roles {path}: 'aliases' must map class names to names")
    if not isinstance(roles, dict) or set(roles) - {"person", "product"}:
        raise ConfigError(f"class roles {path}: 'roles' may only have the keys person and product")
    lists = {}
    for role in ("person", "product"):
        names = roles.get(role) or []
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ConfigError(f"class roles {path}: roles.{role} must be a list of class names")
        lists[role] = frozenset(names)
    if both := lists["person"] & lists["product"]:
        raise ConfigError(f"class roles {path}: {', '.join(sorted(both))} cannot be both person and product")
    return ClassRoles({str(k): v for k, v in aliases.items()}, lists["person"], lists["product"], str(path))
