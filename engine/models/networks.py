"""Networks (``GET /networks``, ``/networks/{id}``) with their IPAM pools.

Data flow: :class:`engine.client.networks.Networks` hands the engine's JSON to ``from_api``; the
app's network views read these objects, and ``raw`` for anything else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from engine.models.fields import JSON, dict_of, labels_of, str_of


@dataclass(frozen=True, slots=True)
class Subnet:
    """One IPAM pool of a network."""

    subnet: str
    gateway: str


@dataclass(frozen=True, slots=True)
class Network:
    """A network (``GET /networks``, ``/networks/{id}``)."""

    id: str
    name: str
    driver: str
    scope: str
    internal: bool
    attachable: bool
    ipv6: bool
    created: str
    subnets: tuple[Subnet, ...]
    labels: Mapping[str, str]
    containers: Mapping[str, JSON]
    raw: JSON = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, d: JSON) -> Network:
        ipam = dict_of(d.get("IPAM"))
        pools = ipam.get("Config") or []
        return cls(
            id=str_of(d.get("Id")),
            name=str_of(d.get("Name")),
            driver=str_of(d.get("Driver")),
            scope=str_of(d.get("Scope")),
            internal=bool(d.get("Internal")),
            attachable=bool(d.get("Attachable")),
            ipv6=bool(d.get("EnableIPv6")),
            created=str_of(d.get("Created")),
            subnets=tuple(
                Subnet(str_of(p.get("Subnet")), str_of(p.get("Gateway")))
                for p in pools
                if isinstance(p, dict)
            ),
            labels=labels_of(d.get("Labels")),
            containers={str(k): dict_of(v) for k, v in dict_of(d.get("Containers")).items()},
            raw=d,
        )

    @property
    def builtin(self) -> bool:
        """The engine's own networks, which cannot be removed."""
        return self.name in ("bridge", "host", "none")
