//! A run split into partitions (`run --partition K/N`) and merged (`merge`): the same work as one
//! run, the same classes and verdict; and a merge of reports that are not one whole run refused.

mod common;

use common::{bin, code, path, report, stderr};
use ecr_conformance::exit::Exit;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

const SEED: &str = "3";
const VARIANT: &str = "tag-case-insensitive";

/// A 400-case run of the broken variant, into `out`, with an empty snapshot root (every class is
/// new and leaves a pending snapshot).
fn run(root: &Path, out: &Path, seed: &str, partition: Option<&str>) -> Output {
    let snapshots = root.join("snapshots");
    let mut args = vec![
        "run",
        "--seed",
        seed,
        "--cases",
        "400",
        "--variant",
        VARIANT,
        "--snapshots",
        path(&snapshots),
        "--out",
        path(out),
        "-q",
    ];
    if let Some(p) = partition {
        args.extend(["--partition", p]);
    }
    bin().args(&args).output().expect("the binary runs")
}

fn merge(reports: &[PathBuf], out: &Path) -> Output {
    bin()
        .arg("merge")
        .args(reports)
        .args(["--out", path(out)])
        .output()
        .expect("the binary runs")
}

fn slugs(r: &Value) -> Vec<String> {
    let mut s: Vec<String> = r["classes"]
        .as_array()
        .expect("classes")
        .iter()
        .map(|c| c["slug"].as_str().expect("a slug").to_string())
        .collect();
    s.sort();
    s
}

fn requests(r: &Value) -> f64 {
    r["counts"]["requests"].as_f64().expect("requests")
}

#[test]
fn four_partitions_merged_do_the_work_of_one_run_and_find_its_classes() {
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let root = tmp.path();
    let one = run(root, &root.join("one"), SEED, None);
    assert_eq!(code(&one), Some(Exit::Fail), "{}", stderr(&one));
    let single = report(&root.join("one"));
    assert!(!slugs(&single).is_empty(), "the broken variant shows no class");

    let mut parts = Vec::new();
    let mut worlds_run = Vec::new();
    for k in 1..=4 {
        let dir = root.join(format!("part-{k}"));
        let o = run(root, &dir, SEED, Some(&format!("{k}/4")));
        assert!(
            matches!(code(&o), Some(Exit::Pass | Exit::Fail)),
            "partition {k}: {}",
            stderr(&o)
        );
        let r = report(&dir);
        assert_eq!(r["partition"]["index"], k);
        assert_eq!(r["partition"]["count"], 4);
        assert_eq!(r["worldsTotal"], 4);
        for t in r["trials"].as_array().expect("trials") {
            worlds_run.extend(t.as_str().and_then(|t| t.strip_prefix("world::")).map(str::to_string));
        }
        parts.push(dir.join("report.json"));
    }
    // Each world seeded by one partition only.
    worlds_run.sort();
    assert_eq!(worlds_run, ["1", "2", "3", "4"]);
    let summed: f64 = parts
        .iter()
        .map(|p| requests(&report(p.parent().expect("a folder"))))
        .sum();
    let whole = requests(&single);
    assert!(
        (summed - whole).abs() <= whole * 0.10,
        "the partitions sent {summed} requests, one run {whole}"
    );

    let out = root.join("merged");
    let merged_run = merge(&parts, &out);
    assert_eq!(code(&merged_run), code(&one), "{}", stderr(&merged_run));
    let merged = report(&out);
    assert_eq!(slugs(&merged), slugs(&single));
    assert_eq!(merged["verdict"], single["verdict"]);
    for count in ["cases", "worlds", "deviations", "gateDeviations", "advisoryDeviations"] {
        assert_eq!(merged["counts"][count], single["counts"][count], "{count}");
    }
    assert_eq!(merged["properties"], single["properties"]);
    assert_eq!(merged["minimal"].as_array().map(Vec::len), Some(slugs(&single).len()));
    for class in merged["classes"].as_array().expect("classes") {
        let slug = class["slug"].as_str().expect("a slug");
        let single_count = single["classes"]
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["slug"] == slug))
            .map(|c| c["count"].clone());
        assert_eq!(Some(class["count"].clone()), single_count, "{slug}");
        assert_eq!(class["failsGate"], true, "{slug}");
        let case = class["caseFile"].as_str().expect("a case file");
        assert!(out.join(case).is_file(), "{case} not copied");
        let pending = out
            .join("snapshots")
            .join(format!("embedded-{VARIANT}"))
            .join(format!("{slug}.snap.new"));
        assert!(pending.is_file(), "{} not copied", pending.display());
    }
    for file in ["junit.xml", "summary.md", "report.html"] {
        assert!(out.join(file).is_file(), "{file}");
    }

    // A partition missing is an error naming it, not a pass.
    let three = [parts[0].clone(), parts[1].clone(), parts[3].clone()];
    let o = merge(&three, &root.join("missing"));
    assert_eq!(code(&o), Some(Exit::Usage), "{}", stderr(&o));
    assert!(stderr(&o).contains("partition 3/4 missing"), "{}", stderr(&o));
    let twice = [parts[0].clone(), parts[1].clone(), parts[1].clone(), parts[3].clone()];
    let o = merge(&twice, &root.join("twice"));
    assert_eq!(code(&o), Some(Exit::Usage), "{}", stderr(&o));
    assert!(stderr(&o).contains("partition 2/4 given twice"), "{}", stderr(&o));

    // Reports of another seed, target or tool version are not of this run.
    let other = root.join("other-seed");
    let o = run(root, &other, "4", Some("4/4"));
    assert!(matches!(code(&o), Some(Exit::Pass | Exit::Fail)), "{}", stderr(&o));
    let mixed = [
        parts[0].clone(),
        parts[1].clone(),
        parts[2].clone(),
        other.join("report.json"),
    ];
    let o = merge(&mixed, &root.join("mixed"));
    assert_eq!(code(&o), Some(Exit::Usage), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("seed 3") && stderr(&o).contains("seed 4"),
        "{}",
        stderr(&o)
    );
    for (field, value, word) in [("target", "moto", "target"), ("version", "0.0.0-other", "version")] {
        let dir = root.join(format!("edited-{field}"));
        std::fs::create_dir_all(&dir).expect("a folder");
        let mut r = report(parts[3].parent().expect("a folder"));
        r[field] = Value::String(value.into());
        std::fs::write(dir.join("report.json"), r.to_string()).expect("written");
        let edited = [
            parts[0].clone(),
            parts[1].clone(),
            parts[2].clone(),
            dir.join("report.json"),
        ];
        let o = merge(&edited, &root.join(format!("bad-{field}")));
        assert_eq!(code(&o), Some(Exit::Usage), "{}", stderr(&o));
        assert!(
            stderr(&o).contains(word) && stderr(&o).contains(value),
            "{}",
            stderr(&o)
        );
    }
    let o = merge(&[root.join("nowhere/report.json")], &root.join("unreadable"));
    assert_eq!(code(&o), Some(Exit::Usage), "{}", stderr(&o));
    assert!(stderr(&o).contains("nowhere/report.json"), "{}", stderr(&o));
}

#[test]
fn a_filter_naming_a_property_runs_every_world_for_it_and_a_world_is_a_trial() {
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let out = tmp.path().join("model");
    let o = bin()
        .args([
            "run",
            "--seed",
            "1",
            "--cases",
            "200",
            "--no-snapshots",
            "--no-case-files",
            "--out",
            path(&out),
            "--exact",
            "property::P-SPLIT",
        ])
        .output()
        .expect("runs");
    assert_eq!(code(&o), Some(Exit::Pass), "{}", stderr(&o));
    let r = report(&out);
    assert_eq!(r["trials"], serde_json::json!(["world::1", "world::2"]));
    assert!(
        r["properties"]["P-SPLIT"]["checked"].as_u64() > Some(0),
        "{}",
        r["properties"]
    );
    assert!(r["properties"].get("model").is_none(), "{}", r["properties"]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("test world::1 ... ok"), "{stdout}");

    let list = bin()
        .args(["run", "--cases", "400", "--list", "--partition", "count:2/3"])
        .output()
        .expect("runs");
    assert_eq!(code(&list), Some(Exit::Pass), "{}", stderr(&list));
    let listed = String::from_utf8_lossy(&list.stdout);
    assert!(listed.lines().all(|l| l.ends_with(": test")), "{listed}");
    let bad = bin().args(["run", "--partition", "5/4"]).output().expect("runs");
    assert_eq!(code(&bad), Some(Exit::Usage), "{}", stderr(&bad));
    assert!(stderr(&bad).contains("--partition"), "{}", stderr(&bad));
}
