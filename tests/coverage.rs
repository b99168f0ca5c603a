//! The generators reach every rule: a default run of generated cases (400, no case files, which
//! would hide what the generators miss) against the embedded reference server judges answers by
//! every rule of the catalogue, for each of seeds 1 to 5, except the rules listed below with why.
//! Its states have the shapes users have and bugs need: an image with many tags, a repository
//! with many images, names and tags at ECR's length limits.

use ecr_conformance::report::{Report, Verdict};
use ecr_conformance::rules::RULES;
use ecr_conformance::session::{self, RunOptions};
use std::collections::HashMap;
use std::time::Duration;

/// Rules no seeded run of generated cases can judge, and why.
const UNREACHABLE: [(&str, &str); 2] = [
    (
        "I-ORDER",
        "the reference says the order of images and failures is unspecified: never checked",
    ),
    (
        "X-OUTSIDE",
        "answers outside the model (KMS, pull-through caches, quotas, archived images) come from \
         registry features no generated state sets up, and the reference server never gives them",
    ),
];

/// Rules only a read-only run against a real registry can reach, and why: none. The states such
/// a registry holds and seeding cannot make (a pushed schema 1 image, pull-through and archived
/// images) change which part of a rule applies (M-INTEGRITY's advisory part) or are outside the
/// model (section 9 of the reference), never which rule judges.
const READ_ONLY_ONLY: [(&str, &str); 0] = [];

async fn run(seed: u64) -> Report {
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let out = tmp.path().to_path_buf();
    let options = RunOptions {
        seed: Some(seed),
        cases: 400,
        cases_dir: None,
        out: out.clone(),
        shrink_budget: Duration::from_secs(5),
        ..RunOptions::default()
    };
    // No AWS variables: the embedded server is the target, signed with test/test.
    let env: HashMap<&str, &str> = HashMap::from([("HOME", "/nonexistent")]);
    let result = session::run_with_env(options, &env).await.expect("the run completes");
    result.report
}

/// The five runs, side by side on one task (a run is not `Send`; its requests still interleave).
async fn runs() -> Vec<(u64, Report)> {
    let (a, b, c, d, e) = tokio::join!(run(1), run(2), run(3), run(4), run(5));
    vec![(1, a), (2, b), (3, c), (4, d), (5, e)]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_runs_judge_answers_by_every_rule_on_states_as_users_have_them() {
    let reports = runs().await;
    let exempt = |id: &str| UNREACHABLE.iter().chain(&READ_ONLY_ONLY).any(|(x, _)| *x == id);
    for (seed, report) in &reports {
        assert_eq!(
            report.verdict,
            Verdict::Pass,
            "seed {seed}: {:#?}",
            report.deviations.first()
        );
        assert_eq!(report.counts.faults, 0, "seed {seed}: {:?}", report.faults);
        let untested: Vec<&str> = RULES
            .iter()
            .map(|r| r.id)
            .filter(|id| !exempt(id) && report.rules.get(id).is_none_or(|r| r.checked == 0))
            .collect();
        assert!(
            untested.is_empty(),
            "seed {seed}: no answer was judged by {untested:?}: extend the generators to reach them"
        );
        for (id, why) in UNREACHABLE.iter().chain(&READ_ONLY_ONLY) {
            let checked = report.rules.get(id).map_or(0, |r| r.checked);
            assert_eq!(
                checked, 0,
                "seed {seed}: {id} judged {checked} answers: take it off the list (it was there because {why})"
            );
        }
        // What the reports call untested is what judged nothing, and nothing else.
        let listed: Vec<&str> = UNREACHABLE.iter().map(|(id, _)| *id).collect();
        assert_eq!(report.untested(), listed, "seed {seed}");
    }

    let (mut longest_name, mut longest_tag) = (0, 0);
    for (seed, report) in &reports {
        let s = &report.states;
        // Every world holds a release repository: every run has both shapes.
        assert!(s.most_tags_on_an_image >= 3, "seed {seed}: {s:?}");
        assert!(s.most_images_in_a_repository >= 10, "seed {seed}: {s:?}");
        // Never beyond the limits: such a state is not one ECR holds.
        assert!(
            s.longest_repository_name <= 256 && s.longest_tag <= 300,
            "seed {seed}: {s:?}"
        );
        longest_name = longest_name.max(s.longest_repository_name);
        longest_tag = longest_tag.max(s.longest_tag);
    }
    // At the limits: a name of 256 characters as the endpoint got it, a tag of 300 (each drawn in
    // about half the worlds, so looked for over the five runs' twenty).
    assert_eq!((longest_name, longest_tag), (256, 300));
}
