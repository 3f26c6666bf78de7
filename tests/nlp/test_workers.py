"""The risk detector's worker process: a long message is assessed there with the same answer
as here; if the worker dies or never starts, the message is assessed here all the same."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from nlp.risk import RiskDetector
from nlp.workers import DetectorWorkers

DISCLOSURE = (
    "I am writing about my daughter's EHC plan review next month, which the school keeps "
    "putting off. The SENCo says she is settled, but at home it is different. Last night she "
    "told me her stepdad locks her in her room without food when she has a meltdown, and she "
    "had bruises on her arms this morning. I do not know who else to tell."
)
ORDINARY = (
    "Hello, my son is nine and has autism. The school has suggested a reduced timetable and "
    "we applied for an EHC needs assessment in March, which the council refused. Could "
    "someone explain whether we can appeal and how long it takes? Thank you for your help."
)


async def test_a_long_message_is_assessed_in_the_worker_as_it_would_be_here(
    combined: RiskDetector,
):
    workers = DetectorWorkers(combined, 1)
    await workers.start()
    try:
        for text in (DISCLOSURE, ORDINARY):
            assert await workers.assess_elsewhere(text) == combined.assess(text)
        assert (await workers.assess_elsewhere(DISCLOSURE)).flagged
        [pid] = [p.pid for p in workers._pool._processes.values()]
        os.kill(pid, signal.SIGKILL)  # the worker dies: the next message is assessed here
        found = await workers.assess_elsewhere(DISCLOSURE)
        assert found.flagged and found == combined.assess(DISCLOSURE)
        await workers._restarting  # a new worker, and then it is used again
        assert workers._ready
        assert await workers.assess_elsewhere(DISCLOSURE) == combined.assess(DISCLOSURE)
    finally:
        workers.close()


async def test_workers_that_cannot_load_the_model_leave_the_assessment_here(
    combined: RiskDetector, tmp_path: Path
):
    broken = tmp_path / "model.json"
    broken.write_text("{not json")
    workers = DetectorWorkers(combined, 1, broken)
    await workers.start()
    try:
        assert not workers._ready
        found = await workers.assess_elsewhere(DISCLOSURE)
        assert found.flagged and found == combined.assess(DISCLOSURE)
    finally:
        workers.close()
