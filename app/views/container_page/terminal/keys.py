"""Key presses to the bytes an xterm sends, so shells and full-screen programs understand them.

Data flow: ``TerminalWidget.keyPressEvent`` hands each key (Qt key code, modifiers, the event's
text) and the screen's cursor-key mode to :func:`key_bytes`; the bytes it returns go to the
exec's stdin. The widget keeps its own shortcuts (Ctrl+Shift+C/V, Shift+PgUp/PgDn) before this.
Pure function: unit tests call it without a window.

The sequences are xterm's (what ``TERM=xterm`` promises): cursor keys ``ESC [ A`` or, in
application cursor mode (DECCKM, set by vi/less/top), ``ESC O A``; modifiers as ``ESC [ 1 ; m X``
with m = 1 + Shift + 2·Alt + 4·Ctrl; editing keys ``ESC [ n ~``; F1–F4 ``ESC O P``–``S``.
"""

from __future__ import annotations

from PySide6.QtCore import Qt

Key = Qt.Key
Mod = Qt.KeyboardModifier

ESC = b"\x1b"

#: Cursor and Home/End: the final byte of ``ESC [ X`` / ``ESC O X``.
_CURSOR = {
    Key.Key_Up: b"A",
    Key.Key_Down: b"B",
    Key.Key_Right: b"C",
    Key.Key_Left: b"D",
    Key.Key_Home: b"H",
    Key.Key_End: b"F",
}

#: ``ESC [ n ~`` keys.
_TILDE = {
    Key.Key_Insert: 2,
    Key.Key_Delete: 3,
    Key.Key_PageUp: 5,
    Key.Key_PageDown: 6,
    Key.Key_F5: 15,
    Key.Key_F6: 17,
    Key.Key_F7: 18,
    Key.Key_F8: 19,
    Key.Key_F9: 20,
    Key.Key_F10: 21,
    Key.Key_F11: 23,
    Key.Key_F12: 24,
}

#: F1–F4 are ``ESC O P``…``S`` (``ESC [ 1 ; m P`` with modifiers).
_SS3_FUNCTION = {Key.Key_F1: b"P", Key.Key_F2: b"Q", Key.Key_F3: b"R", Key.Key_F4: b"S"}

#: Ctrl with punctuation: the C0 control each one means on a terminal.
_CTRL_PUNCT = {
    Key.Key_Space: b"\x00",
    Key.Key_At: b"\x00",
    Key.Key_2: b"\x00",
    Key.Key_BracketLeft: b"\x1b",
    Key.Key_3: b"\x1b",
    Key.Key_Backslash: b"\x1c",
    Key.Key_4: b"\x1c",
    Key.Key_BracketRight: b"\x1d",
    Key.Key_5: b"\x1d",
    Key.Key_AsciiCircum: b"\x1e",
    Key.Key_6: b"\x1e",
    Key.Key_Underscore: b"\x1f",
    Key.Key_Minus: b"\x1f",
    Key.Key_7: b"\x1f",
    Key.Key_Question: b"\x7f",
    Key.Key_8: b"\x7f",
}


def _modifier_param(mods: Mod) -> int:
    """xterm's modifier parameter: 1 + Shift(1) + Alt(2) + Ctrl(4); 1 means none."""
    value = 1
    if mods & Mod.ShiftModifier:
        value += 1
    if mods & Mod.AltModifier:
        value += 2
    if mods & Mod.ControlModifier:
        value += 4
    return value


def key_bytes(key: int, mods: Mod, text: str, *, app_cursor: bool = False) -> bytes | None:
    """The bytes for one key press, or None when the key sends nothing (a lone Shift…).

    Args:
        key: the Qt key code (``QKeyEvent.key()``).
        mods: ``QKeyEvent.modifiers()`` (the keypad flag is ignored).
        text: ``QKeyEvent.text()``: what the keyboard layout makes of the key.
        app_cursor: the screen is in application cursor mode (DECCKM).
    """
    mods = Mod(mods & ~Mod.KeypadModifier)
    param = _modifier_param(mods)
    ctrl = bool(mods & Mod.ControlModifier)
    alt = bool(mods & Mod.AltModifier)

    if key in _CURSOR:
        final = _CURSOR[Key(key)]
        if param > 1:
            return ESC + b"[1;" + str(param).encode() + final
        return ESC + (b"O" if app_cursor else b"[") + final
    if key in _TILDE:
        number = str(_TILDE[Key(key)]).encode()
        if param > 1:
            return ESC + b"[" + number + b";" + str(param).encode() + b"~"
        return ESC + b"[" + number + b"~"
    if key in _SS3_FUNCTION:
        final = _SS3_FUNCTION[Key(key)]
        if param > 1:
            return ESC + b"[1;" + str(param).encode() + final
        return ESC + b"O" + final

    prefix = ESC if alt else b""
    if key in (Key.Key_Return, Key.Key_Enter):
        return prefix + b"\r"
    if key == Key.Key_Backspace:
        return prefix + (b"\x08" if ctrl else b"\x7f")
    if key == Key.Key_Backtab or (key == Key.Key_Tab and mods & Mod.ShiftModifier):
        return ESC + b"[Z"
    if key == Key.Key_Tab:
        return prefix + b"\t"
    if key == Key.Key_Escape:
        return ESC

    if ctrl:
        if Key.Key_A <= key <= Key.Key_Z:
            return prefix + bytes([key - Key.Key_A + 1])
        if key in _CTRL_PUNCT:
            return prefix + _CTRL_PUNCT[Key(key)]
    if text:
        # Layouts (AltGr, dead keys, input methods) already made the character: send it.
        return prefix + text.encode("utf-8")
    return None
