//! What the reports render from a run: untested rules, the replay commands, the texts.

use super::*;
use serde_json::Value;

fn report(target: &str, spawn: Option<&str>) -> Report {
    let ctx = RunContext {
        spawn: spawn.map(str::to_string),
        ..RunContext::for_tests(target)
    };
    Report::new(&RunOutcome::default(), &ctx, Vec::new(), None)
}

#[test]
fn a_rule_that_judged_no_answer_is_untested_in_every_report_never_a_pass() {
    let mut outcome = RunOutcome::default();
    outcome.checked.insert("I-TAG".into(), 3);
    outcome.checked.insert("I-ECHO".into(), 2);
    outcome.findings.push(Finding {
        deviation: crate::judge::Deviation::new("I-ECHO", Level::Gate, "s", Value::Null, Value::Null),
        property: crate::outcome::Property::Model,
        trial: crate::outcome::Origin::World(1),
        request: None,
        request_category: None,
        id_categories: Vec::new(),
    });
    let ctx = RunContext::for_tests("embedded");
    let r = Report::new(&outcome, &ctx, Vec::new(), None);
    assert_eq!(r.rules["I-TAG"].status(), RuleStatus::Pass);
    assert_eq!(r.rules["I-ECHO"].status(), RuleStatus::Fail);
    assert_eq!(r.rules["I-ORDER"].status(), RuleStatus::Untested);
    assert_eq!(r.rules["I-ORDER"].checked, 0);
    assert!(r.untested().contains(&"I-ORDER") && !r.untested().contains(&"I-TAG"));
    assert!(r.summary().contains("untested: "), "{}", r.summary());

    let md = markdown::render(&r, "reports");
    assert!(md.contains("| `I-ORDER` | advisory | **untested** | 0 | 0 |"), "{md}");
    assert!(md.contains("| `I-TAG` | gate | pass | 3 | 0 |"), "{md}");
    assert!(md.contains("**Untested**") && md.contains("`I-ORDER`"), "{md}");
    assert!(md.contains("untested: no answer was judged by the rule"), "{md}");

    let page = html::render(&r, "reports");
    let row = |id: &str| {
        let start = page.find(&format!("<tr id=\"rule-{id}\">")).expect("a row");
        page[start..].split("</tr>").next().unwrap_or_default().to_string()
    };
    assert!(
        row("I-ORDER").contains(r#"class="status-untested">untested<"#),
        "{}",
        row("I-ORDER")
    );
    assert!(
        row("I-TAG").contains(r#"class="status-pass">pass<"#),
        "{}",
        row("I-TAG")
    );
    assert!(page.contains("untested: no answer was judged by the rule"));
}

#[test]
fn rule_statuses_put_deviations_first_and_unknown_coverage_apart() {
    assert_eq!(RuleStatus::of(1, 1, Some(0)), RuleStatus::Fail);
    assert_eq!(RuleStatus::of(1, 0, Some(5)), RuleStatus::Differs);
    assert_eq!(RuleStatus::of(0, 0, Some(5)), RuleStatus::Pass);
    assert_eq!(RuleStatus::of(0, 0, Some(0)), RuleStatus::Untested);
    assert_eq!(RuleStatus::of(0, 0, None), RuleStatus::Unknown);
}

#[test]
fn a_replay_command_serves_the_same_embedded_server_or_reaches_the_same_endpoint() {
    let c = |target: &str, spawn: Option<&str>| report(target, spawn).replay_command("cases/x.json", "reports");
    assert_eq!(c("embedded", None), "ecr-conformance replay reports/cases/x.json");
    assert_eq!(
        c("embedded-mismatch-ignored", None),
        "ecr-conformance replay reports/cases/x.json --variant mismatch-ignored"
    );
    assert_eq!(
        c("embedded+dup-each+other-texts", None),
        "ecr-conformance replay reports/cases/x.json --alternatives dup-each,other-texts"
    );
    assert_eq!(
        c("ministack", Some("scripts/start-peer.sh ministack {port}")),
        "ecr-conformance replay reports/cases/x.json --spawn 'scripts/start-peer.sh ministack {port}'"
    );
    assert_eq!(
        c("127.0.0.1-4566", None),
        "ecr-conformance replay reports/cases/x.json --endpoint http://127.0.0.1:4566"
    );
}
