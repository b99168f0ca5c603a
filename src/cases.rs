//! Case files: one concrete registry state, one `BatchGetImage` request and the answer ECR gives,
//! in human-editable JSON under `cases/`. The format is documented in `cases/README.md`.
//!
//! A case is checked against the model (the model must give exactly the recorded answer) and,
//! through the runner, against an endpoint.

use crate::judge::{self, Deviation, Judgement};
use crate::model::{self, Push, RegistryPlan, RegistryState, RepositoryPlan};
use crate::wire::{self, BatchGetImageRequest, HttpReply};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CaseFile {
    /// A stable, unique name: the trial's name in runs and reports.
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Where the recorded answer comes from.
    #[serde(default)]
    pub source: String,
    /// Every edit made to the source, and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The seed of the run that found it, for a class's example: the same seed finds the same
    /// example again, another seed may find the class from another start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// The registry's account id: what answers carry as `registryId`.
    pub registry_id: String,
    pub repositories: Vec<CaseRepository>,
    pub request: BatchGetImageRequest,
    pub expected: CaseAnswer,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CaseRepository {
    pub name: String,
    /// Config and layer blobs, base64: needed to push the images to a real endpoint.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        with = "crate::model::state::blob_list"
    )]
    pub blobs: Vec<Vec<u8>>,
    /// In push order: children before the lists that reference them.
    pub images: Vec<CaseImage>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CaseImage {
    /// The manifest exactly as pushed (its SHA-256 is the image's digest).
    pub manifest: String,
    /// Defaults to the type the manifest declares.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
}

/// The HTTP answer ECR gives: a status and the JSON body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseAnswer {
    pub status: u16,
    pub body: serde_json::Value,
}

#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    #[error("{path}: cannot read: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: not a case file: {source}")]
    Parse { path: PathBuf, source: serde_json::Error },
    #[error("{path}: {problem}")]
    Invalid { path: PathBuf, problem: String },
}

impl CaseFile {
    pub fn load(path: &Path) -> Result<CaseFile, CaseError> {
        let text = std::fs::read_to_string(path).map_err(|source| CaseError::Read {
            path: path.into(),
            source,
        })?;
        let case: CaseFile = serde_json::from_str(&text).map_err(|source| CaseError::Parse {
            path: path.into(),
            source,
        })?;
        case.state().map_err(|problem| CaseError::Invalid {
            path: path.into(),
            problem,
        })?;
        Ok(case)
    }

    /// Every `*.json` of a folder and of its subfolders (`cases/recorded/...`), sorted by path. A
    /// missing folder holds no cases; names are unique across the whole tree (they name trials).
    pub fn load_dir(dir: &Path) -> Result<Vec<(PathBuf, CaseFile)>, CaseError> {
        let mut paths = Vec::new();
        collect_json(dir, &mut paths, true)?;
        paths.sort();
        let mut out = Vec::with_capacity(paths.len());
        for path in paths {
            let case = CaseFile::load(&path)?;
            if let Some((other, _)) = out.iter().find(|(_, c): &&(PathBuf, CaseFile)| c.name == case.name) {
                return Err(CaseError::Invalid {
                    path: path.clone(),
                    problem: format!("case name {:?} is also used by {}", case.name, other.display()),
                });
            }
            out.push((path, case));
        }
        Ok(out)
    }

    /// Every case of a folder (subfolders included) checked against the model: how many agree, or
    /// each file whose recorded answer the model does not predict exactly, with how it differs.
    pub fn check_dir(dir: &Path) -> Result<usize, String> {
        let cases = CaseFile::load_dir(dir).map_err(|e| e.to_string())?;
        let mut problems = Vec::new();
        for (path, case) in &cases {
            match case.check_against_model() {
                Ok(deviations) if deviations.is_empty() => {}
                Ok(deviations) => {
                    let each: Vec<String> = deviations
                        .iter()
                        .map(|d| format!("{} ({}): {}", d.rule, d.level.as_str(), d.summary))
                        .collect();
                    problems.push(format!(
                        "{}: the model disagrees with the recorded answer: {}",
                        path.display(),
                        each.join("; ")
                    ));
                }
                Err(e) => problems.push(format!("{}: {e}", path.display())),
            }
        }
        if problems.is_empty() {
            Ok(cases.len())
        } else {
            Err(problems.join("\n"))
        }
    }

    /// The pushes that make the case's state: each image pushed once per tag (or once untagged).
    pub fn plan(&self) -> RegistryPlan {
        RegistryPlan {
            repositories: self
                .repositories
                .iter()
                .map(|r| RepositoryPlan {
                    name: r.name.clone(),
                    blobs: r.blobs.clone(),
                    pushes: r
                        .images
                        .iter()
                        .flat_map(|i| {
                            let media_type = i
                                .media_type
                                .clone()
                                .or_else(|| model::manifest::declared_media_type(&i.manifest))
                                .unwrap_or_else(|| wire::media_type::DOCKER_V2.to_string());
                            let tags: Vec<Option<String>> = if i.tags.is_empty() {
                                vec![None]
                            } else {
                                i.tags.iter().cloned().map(Some).collect()
                            };
                            tags.into_iter().map(move |tag| Push {
                                manifest: i.manifest.clone(),
                                media_type: media_type.clone(),
                                tag,
                            })
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    /// The model's state for the case. Blobs are not required here: the model checks references
    /// only where a case brings its blobs.
    pub fn state(&self) -> Result<RegistryState, String> {
        if !model::syntax::is_registry_id(&self.registry_id) {
            return Err(format!("registryId {:?} is not 12 digits", self.registry_id));
        }
        let mut state = RegistryState::new(&self.registry_id);
        for repo in self.plan().repositories {
            state
                .create_repository(&repo.name)
                .map_err(|e| format!("repository {:?}: {e}", repo.name))?;
            for blob in &repo.blobs {
                let digest = model::syntax::sha256_digest(blob);
                state.put_blob(&repo.name, &digest, blob).map_err(|e| e.to_string())?;
            }
            let check_refs = !repo.blobs.is_empty();
            for p in &repo.pushes {
                if check_refs {
                    state
                        .check_references(&repo.name, &p.manifest, &p.media_type)
                        .map_err(|e| format!("repository {:?}: {e}", repo.name))?;
                }
                state
                    .push(&repo.name, &p.manifest, &p.media_type, p.tag.as_deref())
                    .map_err(|e| format!("repository {:?}, tag {:?}: {e}", repo.name, p.tag))?;
            }
        }
        Ok(state)
    }

    /// The recorded answer as an HTTP reply.
    pub fn expected_reply(&self) -> HttpReply {
        HttpReply {
            status: self.expected.status,
            content_type: Some(wire::CONTENT_TYPE.to_string()),
            body: self.expected.body.to_string().into_bytes(),
        }
    }

    /// How the model's answer differs from the recorded one: empty when the model agrees.
    pub fn check_against_model(&self) -> Result<Vec<Deviation>, String> {
        let state = self.state()?;
        let expected = model::batch_get_image(&state, &self.request);
        match judge::judge(&expected, &self.expected_reply()) {
            Judgement::Answer(deviations) => Ok(deviations),
            Judgement::Fault(fault) => Err(format!("the recorded answer cannot be read: {fault}")),
        }
    }
}

/// What is wrong with a `cases/recorded/` folder: a case not in a capture folder of its own, a
/// folder its `README.md` does not name in the captures table (folder, registry, region, date as
/// `YYYY-MM-DD`), a case recorded from the embedded server or a loopback endpoint (not a real
/// registry), a file that does not load. Empty: nothing.
pub fn recorded_problems(dir: &Path) -> Vec<String> {
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap_or_default();
    let table = readme.split("## Captures").nth(1).unwrap_or_default();
    let rows: Vec<Vec<String>> = table
        .lines()
        .filter(|l| l.starts_with('|') && !l.starts_with("|---") && !l.starts_with("| folder"))
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().trim_matches('`').to_string())
                .collect()
        })
        .collect();
    let mut problems = Vec::new();
    for row in &rows {
        let dated = row.get(3).is_some_and(|d| is_date(d));
        if row.len() < 4 || row[..4].iter().any(String::is_empty) || !dated {
            problems.push(format!(
                "README.md: a capture row names its folder, registry, region and date (YYYY-MM-DD): {row:?}"
            ));
        }
    }
    let cases = match CaseFile::load_dir(dir) {
        Ok(c) => c,
        Err(e) => return vec![e.to_string()],
    };
    for (path, case) in cases {
        let relative = path.strip_prefix(dir).unwrap_or(&path);
        let folder = relative
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .unwrap_or_default();
        if relative.components().count() != 2 {
            problems.push(format!(
                "{}: a capture's files are in a folder of their own",
                path.display()
            ));
        } else if !rows.iter().any(|r| r.first().is_some_and(|f| f == folder)) {
            problems.push(format!(
                "{}: its folder {folder} has no row in the captures table of README.md",
                path.display()
            ));
        }
        let embedded = case.source.contains("(target embedded") || case.name.starts_with("embedded");
        let loopback = ["127.0.0.1", "localhost", "[::1]"]
            .iter()
            .any(|h| case.source.contains(h));
        if !case.source.contains("calibrate against") || embedded || loopback {
            problems.push(format!(
                "{}: not a calibration of a real registry (source: {})",
                path.display(),
                case.source
            ));
        }
    }
    problems
}

/// `YYYY-MM-DD`.
fn is_date(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        })
}

/// The `*.json` files under `dir` (into its subfolders, not into hidden ones or through links to
/// folders). `top`: a missing `dir` holds none; a subfolder that cannot be read is an error.
fn collect_json(dir: &Path, out: &mut Vec<PathBuf>, top: bool) -> Result<(), CaseError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if top && e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(CaseError::Read {
                path: dir.into(),
                source,
            });
        }
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            if !hidden {
                collect_json(&path, out, false)?;
            }
        } else if path.extension().is_some_and(|x| x == "json") {
            out.push(path);
        }
    }
    Ok(())
}

impl CaseFile {
    /// The self-contained case of a class's minimal example: its state, its request, and what
    /// ECR answers (the model's answer), so that `replay` re-runs exactly that case.
    pub fn from_minimal(
        class: &crate::classes::Class,
        m: &crate::outcome::Minimal,
        seed: u64,
        target: &str,
    ) -> Option<CaseFile> {
        if m.plan.repositories.is_empty() {
            return None;
        }
        let state = m.plan.build(&m.registry_id).ok()?;
        let repositories = m
            .plan
            .repositories
            .iter()
            .map(|r| CaseRepository {
                name: r.name.clone(),
                blobs: r.blobs.clone(),
                images: state
                    .repository(&r.name)
                    .map(|repo| {
                        repo.images
                            .iter()
                            .map(|i| CaseImage {
                                manifest: i.manifest.clone(),
                                media_type: Some(i.media_type.clone()),
                                tags: i.tags.clone(),
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect();
        let expected = model::batch_get_image(&state, &m.canonical_request);
        let (status, body) = match expected.reference_answer() {
            model::ReferenceAnswer::Ok(b) => (200, serde_json::to_value(b).ok()?),
            model::ReferenceAnswer::Error { status, body } => (status, serde_json::to_value(body).ok()?),
        };
        Some(CaseFile {
            name: class.slug.clone(),
            description: if m.shrunk {
                format!("The minimal example of deviation class {}", class.title)
            } else {
                format!(
                    "The first example found of deviation class {}, not shrunk (the shrinking budget ran out, or the case did not show the class again): the whole state of its world",
                    class.title
                )
            },
            source: format!(
                "ecr-conformance run with seed {seed} against target {target}; expected: the reference model"
            ),
            notes: Vec::new(),
            seed: Some(seed),
            registry_id: m.registry_id.clone(),
            repositories,
            request: m.canonical_request.clone(),
            expected: CaseAnswer { status, body },
        })
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }
}
