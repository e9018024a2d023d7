//! Expanding the paths a user typed into the files to ingest.

use std::fs;
use std::path::{Path, PathBuf};

use walkdir::{DirEntry, WalkDir};

use crate::{extension_of, Format, IngestError};

/// Expands `inputs` into the files to read, in a deterministic order.
///
/// A file given explicitly is kept as given, or reported as [`IngestError::Unsupported`]
/// when its extension is not one this crate reads. A directory is walked recursively in
/// file-name order, following symbolic links, silently skipping hidden entries (names
/// starting with `.`) and files of unsupported types. Paths that cannot be read (missing,
/// no permission, a link loop) become error entries; the rest is still collected.
pub fn collect_files(inputs: &[PathBuf]) -> (Vec<PathBuf>, Vec<(PathBuf, IngestError)>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for input in inputs {
        match fs::metadata(input) {
            Err(source) => errors.push((
                input.clone(),
                IngestError::Io {
                    path: input.clone(),
                    source,
                },
            )),
            Ok(meta) if meta.is_dir() => walk(input, &mut files, &mut errors),
            Ok(_) if Format::of(input).is_some() => files.push(input.clone()),
            Ok(_) => {
                let error = IngestError::Unsupported {
                    path: input.clone(),
                    ext: extension_of(input),
                };
                errors.push((input.clone(), error));
            }
        }
    }
    (files, errors)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>, errors: &mut Vec<(PathBuf, IngestError)>) {
    let entries = WalkDir::new(dir)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        // The directory the user named is walked even if its own name starts with a dot.
        .filter_entry(|entry| entry.depth() == 0 || !is_hidden(entry));
    for entry in entries {
        match entry {
            Ok(entry) if entry.file_type().is_file() => {
                if Format::of(entry.path()).is_some() {
                    files.push(entry.into_path());
                } else {
                    tracing::debug!(path = %entry.path().display(), "skipping file of unsupported type");
                }
            }
            Ok(_) => {}
            Err(error) => {
                let path = error
                    .path()
                    .map_or_else(|| dir.to_path_buf(), Path::to_path_buf);
                let source = std::io::Error::from(error);
                errors.push((path.clone(), IngestError::Io { path, source }));
            }
        }
    }
}

fn is_hidden(entry: &DirEntry) -> bool {
    entry.file_name().to_string_lossy().starts_with('.')
}
