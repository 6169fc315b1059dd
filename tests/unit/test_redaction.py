"""The password is taken out of error texts where a password stands (a URL's password field, AUTH's
argument), by its exact value, and nowhere else (issue 24, item 12): a short password never eats
into other words, nor tells its letters by the holes it leaves."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from streamtop.pipeline.connection import build_spec, describe_error, redact


def test_a_one_letter_password_leaves_other_words_alone():
    spec = build_spec(url="redis://127.0.0.1:1/0", password="e", env={})
    msg = describe_error(RuntimeError("Error 111 connecting to 127.0.0.1:1. weird reply here."), spec)
    assert "***" not in msg and "connecting" in msg and "reply here" in msg


def test_auth_arguments_and_url_password_fields_are_redacted_whatever_the_password():
    for pw in ("e", "s3cr3t", "p@ss word"):
        assert (
            redact(f"Command # 1 (AUTH alice {pw}) of pipeline", pw)
            == "Command # 1 (AUTH alice ***) of pipeline"
        )
        assert redact(f"Command # 1 (AUTH {pw}) of pipeline", pw) == "Command # 1 (AUTH ***) of pipeline"
        assert (
            redact(f"HELLO 3 AUTH default {pw} SETNAME streamtop", pw)
            == "HELLO 3 AUTH default *** SETNAME streamtop"
        )
    assert redact("at redis://bob:hunter2@h:1/0", None) == "at redis://bob:***@h:1/0"
    assert redact("at rediss://:x@h", "x") == "at rediss://:***@h"
    assert redact("AUTH alice other", "e") == "AUTH alice other"  # not the password: not touched


@given(
    st.text(alphabet="abcdefghij :.()-", max_size=40), st.text(alphabet="abcdefghij", min_size=1, max_size=4)
)
def test_text_without_a_password_place_is_never_changed(text, pw):
    assert redact(text, pw) == text
