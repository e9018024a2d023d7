//! A content-addressed cache of model calls: the same request to the same model with the same
//! parameters is answered from disk, so re-running a check costs no tokens and gives the same
//! report. The key is the sha256 of the model id and the whole request (messages, schema,
//! max_tokens, temperature, seed).

use std::path::PathBuf;

use factually_core::sha256_hex;
use futures::future::BoxFuture;

use crate::{ChatModel, ChatRequest, ChatResponse, LlmError};

/// Wraps a model with a call cache in `dir`.
pub struct CachedModel<M> {
    inner: M,
    dir: PathBuf,
}

impl<M: ChatModel> CachedModel<M> {
    pub fn new(inner: M, dir: impl Into<PathBuf>) -> Self {
        Self {
            inner,
            dir: dir.into(),
        }
    }

    fn path(&self, request: &ChatRequest) -> PathBuf {
        let key = serde_json::json!({"model": self.inner.id(), "request": request});
        let hash = sha256_hex(key.to_string().as_bytes());
        self.dir
            .join(&hash[..2])
            .join(format!("{}.json", &hash[2..32]))
    }
}

impl<M: ChatModel> ChatModel for CachedModel<M> {
    fn id(&self) -> String {
        self.inner.id()
    }

    fn chat<'a>(
        &'a self,
        request: &'a ChatRequest,
    ) -> BoxFuture<'a, Result<ChatResponse, LlmError>> {
        Box::pin(async move {
            let path = self.path(request);
            if let Some(mut hit) = std::fs::read(&path)
                .ok()
                .and_then(|b| serde_json::from_slice::<ChatResponse>(&b).ok())
            {
                hit.cached = true;
                return Ok(hit);
            }
            let response = self.inner.chat(request).await?;
            // A cache that cannot be written costs only a repeated call later.
            if let (Some(parent), Ok(bytes)) = (path.parent(), serde_json::to_vec(&response)) {
                let tmp = path.with_extension("tmp");
                if std::fs::create_dir_all(parent).is_ok() && std::fs::write(&tmp, bytes).is_ok() {
                    let _ = std::fs::rename(&tmp, &path);
                }
            }
            Ok(response)
        })
    }
}
