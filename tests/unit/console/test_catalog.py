"""Every text of the console has its zh-CN translation: the messages in ``_()``,
``gettext()`` and ``N_()`` of its templates and code, found as Babel's extractors find
them, are all in ``locales/zh-CN/*.po``."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from gateway_service import console
from gateway_service.console.i18n import load_catalog

CONSOLE = Path(console.__file__).parent
METHODS = [("**/templates/**.html", "jinja2.ext:babel_extract"), ("**.py", "python")]
OPTIONS = {"**.html": {"extensions": "jinja2.ext.i18n"}}
KEYWORDS = {"_": None, "gettext": None, "N_": None, "ngettext": (1, 2)}


def messages() -> dict[str, str]:
    """msgid → where it was found."""
    found: dict[str, str] = {}
    for filename, line, message, _comments, _context in extract_from_dir(
        str(CONSOLE), METHODS, keywords=KEYWORDS, options_map=OPTIONS
    ):
        for text in message if isinstance(message, tuple) else (message,):
            if text:
                found.setdefault(text, f"{filename}:{line}")
    return found


def test_every_message_has_a_zh_cn_translation():
    catalog = load_catalog("zh-CN")
    found = messages()
    missing = {text: where for text, where in found.items() if text not in catalog}
    listing = "\n".join(f'#: {at}\nmsgid "{text}"\nmsgstr ""\n' for text, at in missing.items())
    assert not missing, f"{len(missing)} messages without zh-CN:\n{listing}"
    assert len(found) > 50  # the extractors found the texts at all


def test_no_message_is_translated_in_two_catalogs():
    """A text shared by pages is in base.po once, so it cannot get two translations."""
    found: dict[str, list[str]] = {}
    for path in sorted((CONSOLE / "locales" / "zh-CN").glob("*.po")):
        with path.open("rb") as handle:
            for message in read_po(handle):
                if message.id:
                    found.setdefault(str(message.id), []).append(path.name)
    twice = {text: files for text, files in found.items() if len(files) > 1}
    assert not twice, twice
