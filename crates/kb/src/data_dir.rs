//! The data directory: where knowledge bases (and later the database) live.

use std::path::{Path, PathBuf};

use factually_core::{DocId, Document};

use crate::{KbError, KnowledgeBase};

/// A validated knowledge-base name (`[a-z0-9_-]{1,64}`), safe to use as a directory name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KbName(String);

impl KbName {
    pub fn parse(name: &str) -> Result<Self, KbError> {
        let ok = !name.is_empty()
            && name.len() <= 64
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if ok {
            Ok(Self(name.to_string()))
        } else {
            Err(KbError::BadName(name.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for KbName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// `--data-dir`, else `$FACTUALLY_DATA_DIR`, else `$XDG_DATA_HOME/factually`.
#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The default location when neither the flag nor the environment names one.
    pub fn default_location() -> PathBuf {
        dirs::data_dir()
            .unwrap_or_else(std::env::temp_dir)
            .join("factually")
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn kb_dir(&self, name: &KbName) -> PathBuf {
        self.root.join("kb").join(name.as_str())
    }

    /// Opens the knowledge base of this name, or says there is none (how to make one).
    pub fn open_kb(&self, name: &KbName) -> Result<KnowledgeBase, KbError> {
        let dir = self.kb_dir(name);
        if !KnowledgeBase::exists(&dir) {
            return Err(KbError::NotFound {
                name: name.to_string(),
                dir: self.root.clone(),
            });
        }
        KnowledgeBase::open(&dir)
    }

    /// Whether a knowledge base of this name exists here.
    pub fn has_kb(&self, name: &KbName) -> bool {
        KnowledgeBase::exists(&self.kb_dir(name))
    }

    /// Names of the knowledge bases present, sorted.
    pub fn list(&self) -> Vec<KbName> {
        let Ok(entries) = std::fs::read_dir(self.root.join("kb")) else {
            return Vec::new();
        };
        let mut names: Vec<KbName> = entries
            .filter_map(|e| e.ok())
            .filter(|e| KnowledgeBase::exists(&e.path()))
            .filter_map(|e| KbName::parse(&e.file_name().to_string_lossy()).ok())
            .collect();
        names.sort_by(|a, b| a.0.cmp(&b.0));
        names
    }

    /// Finds a document by id in the named KB, or in every KB of the data dir.
    pub fn find_document(
        &self,
        id: &DocId,
        kb: Option<&KbName>,
    ) -> Result<Option<(KbName, Document)>, KbError> {
        let names = match kb {
            Some(k) => vec![k.clone()],
            None => self.list(),
        };
        for name in names {
            let kb = KnowledgeBase::open(&self.kb_dir(&name))?;
            if let Some(doc) = kb.document(id)? {
                return Ok(Some((name, doc)));
            }
        }
        Ok(None)
    }
}
