"""Moderation: scan clips against a policy (categories, signals, thresholds), report findings per
time span with the evidence to check, and calibrate thresholds on labelled clips.

from mmretrieval.moderation import moderate, write_report
report = moderate(["footage/"], policy="my_policy.yaml")   # or index="archive-index"
write_report(report, Path("report.html"))
"""

from mmretrieval.moderation.calibrate import Calibration, calibrate, pick_threshold
from mmretrieval.moderation.policy import Policy, load_policy
from mmretrieval.moderation.report import (
    FileSummary,
    Finding,
    Report,
    SignalHit,
    read_findings,
    read_report,
    write_report,
)
from mmretrieval.moderation.scan import moderate

__all__ = [
    "Calibration",
    "FileSummary",
    "Finding",
    "Policy",
    "Report",
    "SignalHit",
    "calibrate",
    "load_policy",
    "moderate",
    "pick_threshold",
    "read_findings",
    "read_report",
    "write_report",
]
