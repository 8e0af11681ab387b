//! NEMS OperationOutcome responses (digest 3.3, 4.3): structure and Spine codes.

use crate::rules::id as R;
use crate::rules::Report;
use ems_stu3::issue::SPINE_ERROR_OR_WARNING_SYSTEM;
use ems_stu3::{OptStrExt, Resource};

pub(crate) fn validate(r: &Resource, rep: &mut Report) {
    let Resource::OperationOutcome(oo) = r else {
        rep.add(
            R::RESOURCE_TYPE,
            r.resource_type(),
            format!("expected an OperationOutcome, got a {}", r.resource_type()),
        );
        return;
    };
    if oo.issue.is_empty() {
        rep.add(
            R::OO_ISSUE,
            "OperationOutcome.issue",
            "an OperationOutcome has at least one issue",
        );
    }
    for (i, issue) in oo.issue.iter().enumerate() {
        let l = |x: &str| format!("OperationOutcome.issue[{i}].{x}");
        if issue.severity.str_value().is_none() {
            rep.add(R::OO_ISSUE, l("severity"), "issue.severity is required");
        }
        if issue.code.str_value().is_none() {
            rep.add(R::OO_ISSUE, l("code"), "issue.code is required");
        }
        let spine: Vec<&str> = issue
            .details
            .iter()
            .flat_map(|d| d.coding.iter())
            .filter(|c| c.system.str_value() == Some(SPINE_ERROR_OR_WARNING_SYSTEM))
            .filter_map(|c| c.code.str_value())
            .collect();
        match spine.len() {
            0 => rep.add(
                R::OO_SPINE_CODE,
                l("details"),
                format!("issue.details needs one coding from {SPINE_ERROR_OR_WARNING_SYSTEM}"),
            ),
            1 => {}
            n => rep.add(
                R::OO_SPINE_CODE,
                l("details"),
                format!("issue.details has {n} Spine codes; exactly one is expected"),
            ),
        }
        if spine
            .iter()
            .any(|c| matches!(*c, "DEPRECATED" | "NO_LONGER_SUPPORTED" | "WITHDRAWN"))
            && issue.diagnostics.str_value().is_none()
        {
            rep.add(
                R::OO_DIAGNOSTICS,
                l("diagnostics"),
                "a life-cycle warning carries diagnostics with the date and a URL",
            );
        }
    }
}
