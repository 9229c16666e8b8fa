"""The add/edit engine form's rules and where port links point (pure, no engine, no window)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.engines.form import FormError, FormValues, engine_request, split_url
from app.engines.links import link_host


def test_addresses_of_each_kind_become_urls() -> None:
    assert engine_request(FormValues("a", "unix", "/run/docker.sock")) == (
        "unix:///run/docker.sock", None)
    assert engine_request(FormValues("a", "tcp", "192.0.2.10:2375"))[0] == "tcp://192.0.2.10:2375"
    assert engine_request(FormValues("a", "tcp", "tcp://h:2375"))[0] == "tcp://h:2375"
    assert engine_request(FormValues("a", "ssh", "bob@h:2222"))[0] == "ssh://bob@h:2222"
    assert engine_request(FormValues("a", "ssh", "h"))[0] == "ssh://h"


@pytest.mark.parametrize(("values", "field", "words"), [
    (FormValues(" ", "unix", "/x"), "name", "name"),
    (FormValues("a", "unix", ""), "address", "/var/run/docker.sock"),
    (FormValues("a", "unix", "run/docker.sock"), "address", "starts with /"),
    (FormValues("a", "tcp", "ssh://h"), "address", "change one of the two"),
    (FormValues("a", "ssh", "bob@h:port"), "address", "must be a number"),
    (FormValues("a", "ssh", "bob@h/path"), "address", "user@host"),
    (FormValues("a", "tcp", "h:2376", tls=True), "ca", "--tlsverify"),
    (FormValues("a", "tcp", "h:99999"), "address", "65535"),
])
def test_mistakes_name_the_field_and_say_what_to_do(
    values: FormValues, field: str, words: str
) -> None:
    with pytest.raises(FormError) as err:
        engine_request(values)
    assert err.value.field == field and words in str(err.value)


def test_tls_follows_the_docker_cli(tmp_path: Path) -> None:
    for name in ("ca.pem", "cert.pem", "key.pem"):
        (tmp_path / name).write_text("x")
    ca, cert, key = (str(tmp_path / n) for n in ("ca.pem", "cert.pem", "key.pem"))
    _url, tls = engine_request(FormValues("a", "tcp", "h:2376", True, True, ca, cert, key))
    assert tls is not None and tls.verify and tls.client_key == Path(key)
    # --tls without verify: no CA needed, the connection is only encrypted
    _url, tls = engine_request(FormValues("a", "tcp", "h:2376", True, False))
    assert tls is not None and not tls.verify and tls.ca_cert is None
    with pytest.raises(FormError, match="its key") as err:
        engine_request(FormValues("a", "tcp", "h:2376", True, True, ca, cert, ""))
    assert err.value.field == "key"
    with pytest.raises(FormError, match="does not exist") as err:
        engine_request(FormValues("a", "tcp", "h:2376", True, True, str(tmp_path / "no.pem")))
    assert err.value.field == "ca"
    # TLS is for tcp:// only: an ssh engine ignores the switch
    assert engine_request(FormValues("a", "ssh", "h", True, True))[1] is None


def test_split_url_fills_the_form_back() -> None:
    assert split_url("unix:///run/docker.sock") == ("unix", "/run/docker.sock")
    assert split_url("tcp://h:2376") == ("tcp", "h:2376")
    assert split_url("ssh://bob@h:22") == ("ssh", "bob@h:22")


def test_port_links_point_at_the_engines_host() -> None:
    assert link_host("unix:///run/docker.sock") == "127.0.0.1"
    assert link_host("tcp://192.0.2.10:2376") == "192.0.2.10"
    assert link_host("ssh://bob@build-box:2222") == "build-box"
    assert link_host("tcp://[2001:db8::1]:2376") == "2001:db8::1"
    assert link_host("npipe:////./pipe/docker_engine") == "127.0.0.1"
