"""The rules of email notifications without a database: the ``notifications`` settings
section, recipients, when the digest is due, the SMTP URL, the back-off and the templates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from notify_service.email_templates import render
from notify_service.notification_rules import (
    NotificationPolicy,
    SmtpTarget,
    addresses,
    digest_day,
    retry_delay,
    supervisors_of,
)
from notify_service.options import NotifyOptions
from revisit_common.settings_section import SectionError, check_section


def test_section_defaults():
    assert NotificationPolicy().to_dict() == {
        "locale": "zh-CN",
        "supervisors": [],
        "digest": True,
        "digest_hour": 18,
    }


def test_section_accepts_and_normalises_changes():
    result = check_section(
        NotificationPolicy, {}, {"locale": "en", "digest_hour": 7.0, "supervisors": ["li.wei"]}
    )
    assert result.overrides == {"locale": "en", "digest_hour": 7, "supervisors": ["li.wei"]}
    assert result.effective["digest"] is True


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"locale": "fr"}, "locale"),
        ({"locale": "ZH-cn"}, "locale"),
        ({"digest_hour": 24}, "digest_hour"),
        ({"digest_hour": -1}, "digest_hour"),
        ({"digest_hour": 7.5}, "digest_hour"),
        ({"digest_hour": True}, "digest_hour"),
        ({"digest": "yes"}, "digest"),
        ({"supervisors": "li.wei"}, "supervisors"),
        ({"supervisors": ["a", "a"]}, "supervisors"),
        ({"supervisors": ["x\r\nBcc: evil@example.com"]}, "supervisors"),
        ({"supervisors": [""]}, "supervisors"),
        ({"volume": 3}, "volume"),
    ],
)
def test_section_refuses_bad_values_per_key(changes, key):
    with pytest.raises(SectionError) as caught:
        check_section(NotificationPolicy, {}, changes)
    assert list(caught.value.errors) == [key]


def test_supervisors_default_to_the_complaint_supervision_group():
    complaints = {"supervisors": ["boss@example.com"]}
    assert supervisors_of(NotificationPolicy(), complaints) == ["boss@example.com"]
    own = NotificationPolicy(supervisors=("li.wei",))
    assert supervisors_of(own, complaints) == ["li.wei"]


def test_addresses_resolve_staff_ids_and_keep_emails():
    book = {"li.wei": "li.wei@example.com", "gone": None}
    found = addresses(
        ["li.wei", "boss@example.com", "gone", "nobody", "li.wei@example.com"], book.get
    )
    assert found == ["li.wei@example.com", "boss@example.com"]


def test_digest_is_due_from_the_local_hour_for_the_local_tomorrow():
    policy = NotificationPolicy(digest_hour=18)
    shanghai = "Asia/Shanghai"
    # 09:59 UTC is 17:59 in Shanghai: not yet; 10:00 UTC is 18:00: tomorrow is the 6th
    assert digest_day(policy, shanghai, datetime(2026, 3, 5, 9, 59, tzinfo=UTC)) is None
    at = datetime(2026, 3, 5, 10, 0, tzinfo=UTC)
    assert digest_day(policy, shanghai, at) == date(2026, 3, 6)
    # 16:30 UTC is 00:30 on the 6th in Shanghai: before the hour again
    assert digest_day(policy, shanghai, datetime(2026, 3, 5, 16, 30, tzinfo=UTC)) is None
    assert digest_day(NotificationPolicy(digest=False), shanghai, at) is None


def test_retry_delay_doubles_up_to_a_cap():
    assert retry_delay(1, 60) == timedelta(seconds=60)
    assert retry_delay(3, 60) == timedelta(seconds=240)
    assert retry_delay(30, 60) == timedelta(hours=6)


def test_smtp_urls():
    plain = SmtpTarget.parse("smtp://mail.example.com")
    assert (plain.host, plain.port, plain.tls, plain.starttls) == (
        "mail.example.com",
        25,
        False,
        False,
    )
    assert plain.username is None and plain.sender == "revisit@mail.example.com"
    secure = SmtpTarget.parse("smtps://u%40x:p%3Ass@mail.example.com?from=noreply@example.com")
    assert (secure.port, secure.tls, secure.username, secure.password) == (465, True, "u@x", "p:ss")
    assert secure.sender == "noreply@example.com"
    assert SmtpTarget.parse("smtp://localhost:2525").sender == "revisit@localhost"
    submission = SmtpTarget.parse("smtp://mail.example.com:587?starttls=true")
    assert (submission.port, submission.starttls) == (587, True)


@pytest.mark.parametrize(
    "url",
    [
        "http://mail.example.com",
        "smtp://",
        "smtp://mail.example.com:99999",
        "smtp://mail.example.com?starttls=maybe",
        "smtp://mail.example.com?from=nobody",
    ],
)
def test_bad_smtp_urls_stop_the_start_without_showing_the_password(url):
    with pytest.raises(ValueError) as caught:
        NotifyOptions.from_env({"REVISIT_SMTP_URL": url.replace("://", "://user:hunter2@", 1)})
    assert "hunter2" not in str(caught.value)


def test_no_smtp_url_means_no_sending():
    assert NotifyOptions.from_env({}).smtp is None


def test_templates_in_both_locales():
    visits = [{"customer": "华东贸易", "reason": "periodic", "method": "phone"}]
    zh = render("digest", "zh-CN", name="王芳", day="2026-03-06", visits=visits)
    assert zh.subject == "明日（2026-03-06）回访提醒：共 1 项"
    assert "王芳，您好" in zh.body and "华东贸易：periodic（phone）" in zh.body
    en = render("digest", "en", name="Wang Fang", day="2026-03-06", visits=visits * 2)
    assert en.subject == "Your visits tomorrow (2026-03-06): 2"
    assert "2 open visits due tomorrow" in en.body


def test_a_subject_stays_one_line():
    text = render(
        "risk_warning",
        "en",
        customer="Evil\r\nBcc: x@example.com",
        risk_level="high",
        previous_level=None,
        reasons=[],
        measures=[],
    )
    assert "\n" not in text.subject and "\r" not in text.subject
