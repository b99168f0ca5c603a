//! `junit.xml`: one test case per trial-like unit with stable names: each deviation class
//! (`class::<slug>`), each fixed class (`fixed::<slug>`), and each property and case run.

use super::Report;
use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};

pub(super) fn render(report: &Report) -> Result<String, quick_junit::SerializeError> {
    let mut suite = TestSuite::new(format!("ecr-conformance {}", report.target));
    for (property, count) in &report.properties {
        // A property's deviations are findings; whether they fail the gate is each class's say.
        let mut case = TestCase::new(format!("property::{property}"), TestCaseStatus::success());
        case.set_classname("ecr-conformance.properties");
        case.set_system_out(format!("{} checked, {} with deviations", count.checked, count.failed));
        suite.add_test_case(case);
    }
    for c in &report.classes {
        let status = if c.fails_gate {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            s.set_message(format!("{} ({} deviations, {})", c.title, c.count, c.status));
            s.set_type(c.key.rule.clone());
            s.set_description(c.snapshot.clone());
            s
        } else {
            TestCaseStatus::success()
        };
        let mut case = TestCase::new(format!("class::{}", c.slug), status);
        case.set_classname(format!("ecr-conformance.classes.{}", c.key.rule));
        if !c.fails_gate {
            case.set_system_out(format!("{} ({}): {}", c.status, c.key.level.as_str(), c.title));
        }
        suite.add_test_case(case);
    }
    if let Some(b) = &report.baseline {
        for f in &b.fixed {
            let status = if report.strict {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_message("an accepted deviation no longer occurs: update the baseline");
                s
            } else {
                TestCaseStatus::success()
            };
            let mut case = TestCase::new(format!("fixed::{f}"), status);
            case.set_classname("ecr-conformance.fixed");
            suite.add_test_case(case);
        }
    }
    for f in &report.faults {
        let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
        s.set_message(f.message.clone());
        let mut case = TestCase::new(format!("fault::{}", f.trial), s);
        case.set_classname("ecr-conformance.faults");
        suite.add_test_case(case);
    }
    let mut r = quick_junit::Report::new("ecr-conformance");
    r.add_test_suite(suite);
    r.to_string()
}
