"""The first-run wizard's engine choice, remembered in settings (pure, no Qt, no engine)."""

from __future__ import annotations

from types import SimpleNamespace

from app.wizard.choice import EngineChoice, apply_choice, attach_host, current_choice


def settings(**kw: object) -> SimpleNamespace:
    base: dict[str, object] = {"engine": "auto", "extra": {}, "engine_id": ""}
    base.update(kw)
    return SimpleNamespace(**base)


def test_existing_engine_is_attached_after_host_and_docker_host() -> None:
    s = settings(engine_id="user-remote")
    apply_choice(s, EngineChoice("existing", "unix:///run/x.sock"))
    assert s.extra["engine_host"] == "unix:///run/x.sock"
    assert s.engine_id == ""  # the newer choice wins over the switcher's remembered engine
    assert current_choice(s) == EngineChoice("existing", "unix:///run/x.sock")
    assert attach_host(None, s, {}) == "unix:///run/x.sock"
    assert attach_host("tcp://h:2375", s, {}) == "tcp://h:2375"
    assert attach_host(None, s, {"DOCKER_HOST": "unix:///d.sock"}) is None  # env decides


def test_own_engine_forgets_the_attached_one() -> None:
    s = settings(extra={"engine_host": "unix:///run/x.sock", "other": 1})
    apply_choice(s, EngineChoice("vm"))
    assert s.engine == "vm" and s.extra == {"other": 1}
    assert current_choice(s, "linux") == EngineChoice("vm")
    assert attach_host(None, s, {}) is None
    assert current_choice(settings(), "linux") == EngineChoice("native")
    assert current_choice(settings(), "darwin") == EngineChoice("vm")
