"""Both services fuzzed from their own OpenAPI specs, the X-Amzn-Trace-Id header included.

Whatever a client sends, and whatever trace header comes with it, it gets an answer the spec
documents, never a 5xx, every error as JSON; every request is traced and nothing ends up as a
warning or a traceback in the logs.
"""

from __future__ import annotations

import schemathesis

from tests.support.stack import Chain
from tests.support.udp import SegmentCollector

from .fuzzing import Case, FuzzedService, problems_logged, wait_until_quiet

notification_api = schemathesis.pytest.from_fixture("notification_schema")
usermgmt_api = schemathesis.pytest.from_fixture("usermgmt_schema")


@notification_api.parametrize()
def test_notification_answers_whatever_it_is_sent(case: Case, notification: FuzzedService) -> None:
    notification.call_and_validate(case)


@usermgmt_api.parametrize()
def test_user_management_answers_whatever_it_is_sent(case: Case, usermgmt: FuzzedService) -> None:
    """Users created here are emailed through the notification service, fuzzed along."""
    usermgmt.call_and_validate(case)


def test_the_work_left_after_the_responses_went_well(
    chain: Chain, collector: SegmentCollector
) -> None:
    """Run after the fuzzing: the emails sent once users were created logged no warning or
    traceback either, and every segment document the services sent was readable."""
    wait_until_quiet(collector)
    assert problems_logged(list(chain.processes)) == []
    assert collector.malformed == []
