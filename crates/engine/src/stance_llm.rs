//! `--stance-model llm`: the configured chat model judges each (claim, evidence) pair as
//! supports / refutes / not enough info, under a JSON schema that allows only those labels.
//!
//! Why: the bundled cross-encoder is small enough for two cores and reads words more than
//! meaning; a capable model behind an OpenAI-compatible server (or a larger local one) judges
//! pairs much better, and people who run one should be able to use it for every verdict, not
//! only for the prose of LLM mode. Tiny local models are close to random at this (see
//! docs/verification.md), which is why this is a choice and not the default.
//!
//! Pairs go in batches of [`PAIRS_PER_CALL`], [`CONCURRENT_CALLS`] calls at a time; every call
//! goes through the model's call cache, so the same batch is answered once. A label becomes a
//! distribution with [`LABEL_PROBABILITY`] on the label: a chat model gives no calibrated
//! probability, and the judge's relevance gate and aggregation need one. A pair the model
//! leaves out of its answer is neutral: nothing counts on a judgement that was not made.

use factually_core::StanceProbs;
use factually_llm::{json_chat_with, ChatModel, ChatRequest, Message, OutputSchema};
use factually_stance::{ArtifactMeta, PairJudge, StanceError, StanceModel};
use futures::{StreamExt, TryStreamExt};
use schemars::JsonSchema;
use serde::Deserialize;
use tokio::runtime::Handle;

/// Bumped whenever the prompt changes: part of the score-cache key.
pub const STANCE_PROMPT_VERSION: &str = "factually-stance-llm-v1";
/// Pairs judged in one call.
pub const PAIRS_PER_CALL: usize = 6;
/// Calls in flight at once.
pub const CONCURRENT_CALLS: usize = 4;
/// The probability given to the label the model chose; the rest is split evenly.
pub const LABEL_PROBABILITY: f32 = 0.9;

const SYSTEM: &str = "You are a careful fact-checker. For each numbered pair, decide what the evidence, read on its own, says about the claim.\n\
- supports: the evidence states the claim, or something that makes it true.\n\
- refutes: the evidence states something that cannot be true together with the claim: the claim's negation, or a different person, place, number, date or superlative for the same thing.\n\
- not_enough_info: the evidence is about something else, is only related, or does not settle the claim.\n\
Do not use knowledge of your own: judge only from the evidence. Answer with JSON only.";

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum Label {
    Supports,
    Refutes,
    NotEnoughInfo,
}

#[derive(Debug, Deserialize, JsonSchema)]
struct Judgement {
    /// The pair's number, from 1.
    pair: u32,
    label: Label,
}

#[derive(Debug, Deserialize, JsonSchema)]
struct Judgements {
    judgements: Vec<Judgement>,
}

/// The chat model as a stance judge.
pub(crate) struct LlmStance {
    model: Box<dyn ChatModel>,
    handle: Handle,
}

impl LlmStance {
    /// A stance model whose pairs `model` judges, its calls run on `handle`'s runtime.
    pub(crate) fn stance_model(model: Box<dyn ChatModel>, handle: Handle) -> StanceModel {
        let id = model.id();
        let meta = ArtifactMeta {
            base_package: format!("llm {id}"),
            base_version: STANCE_PROMPT_VERSION.into(),
            frozen_layers: 0,
            layers: None,
            max_tokens: 0,
            temperature: 1.0,
            weights_sha256: factually_core::sha256_hex(
                format!("{id}\u{0}{STANCE_PROMPT_VERSION}").as_bytes(),
            ),
            training: serde_json::json!({
                "judge": "llm",
                "model": id,
                "prompt_version": STANCE_PROMPT_VERSION,
                "pairs_per_call": PAIRS_PER_CALL,
                "label_probability": LABEL_PROBABILITY,
            }),
        };
        StanceModel::from_judge(Box::new(Self { model, handle }), meta)
    }

    async fn judge_batch(&self, batch: &[(&str, &str)]) -> Result<Vec<StanceProbs>, StanceError> {
        let mut prompt = String::new();
        for (i, (claim, evidence)) in batch.iter().enumerate() {
            prompt.push_str(&format!(
                "Pair {}\nClaim: {}\nEvidence: {}\n\n",
                i + 1,
                one_line(claim),
                one_line(evidence)
            ));
        }
        prompt.push_str(&format!(
            "Judge all {} pairs, in order: {{\"judgements\": [{{\"pair\": 1, \"label\": \"supports\" | \"refutes\" | \"not_enough_info\"}}, ...]}}",
            batch.len()
        ));
        let mut request = ChatRequest::new(vec![Message::system(SYSTEM), Message::user(prompt)]);
        request.max_tokens = 40 + 24 * batch.len() as u32;
        let answer =
            json_chat_with::<Judgements>(self.model.as_ref(), request, batch_schema(batch.len()))
                .await
                .map_err(|e| StanceError::Judge(format!("{}: {e}", self.model.id())))?;
        let mut out = vec![probabilities(Label::NotEnoughInfo); batch.len()];
        for j in answer.value.judgements {
            if let Some(slot) = (j.pair as usize)
                .checked_sub(1)
                .and_then(|i| out.get_mut(i))
            {
                *slot = probabilities(j.label);
            }
        }
        Ok(out)
    }
}

impl PairJudge for LlmStance {
    fn score(&self, pairs: &[(&str, &str)]) -> Result<Vec<StanceProbs>, StanceError> {
        if pairs.is_empty() {
            return Ok(Vec::new());
        }
        let calls: Vec<_> = pairs
            .chunks(PAIRS_PER_CALL)
            .map(|batch| self.judge_batch(batch))
            .collect();
        let work = async {
            let batches: Vec<Vec<StanceProbs>> = futures::stream::iter(calls)
                .buffered(CONCURRENT_CALLS)
                .try_collect()
                .await?;
            Ok(batches.into_iter().flatten().collect())
        };
        // A thread of its own: the caller may be inside the runtime (LLM mode's grounding gate
        // scores from there), where blocking on it would panic.
        std::thread::scope(|s| {
            s.spawn(|| self.handle.block_on(work))
                .join()
                .unwrap_or_else(|_| Err(StanceError::Judge("the judging thread panicked".into())))
        })
    }
}

/// The schema of one batch's answer: exactly `n` judgements, labels from the three allowed.
fn batch_schema(n: usize) -> OutputSchema {
    let mut schema = OutputSchema::of::<Judgements>("stance_judgements");
    if let Some(list) = schema
        .schema
        .pointer_mut("/properties/judgements")
        .and_then(|v| v.as_object_mut())
    {
        list.insert("minItems".into(), n.into());
        list.insert("maxItems".into(), n.into());
    }
    schema
}

fn probabilities(label: Label) -> StanceProbs {
    let rest = (1.0 - LABEL_PROBABILITY) / 2.0;
    let pick = |l: Label| if l == label { LABEL_PROBABILITY } else { rest };
    StanceProbs {
        support: pick(Label::Supports),
        refute: pick(Label::Refutes),
        neutral: pick(Label::NotEnoughInfo),
    }
}

/// Whitespace folded, so a pair's text cannot break the numbered layout of the prompt.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use factually_llm::{ChatResponse, LlmError, Usage};
    use futures::future::BoxFuture;
    use std::sync::{Arc, Mutex};

    /// Answers from a script, recording what it was asked.
    struct Scripted {
        answers: Mutex<Vec<String>>,
        asked: Arc<Mutex<Vec<ChatRequest>>>,
    }

    impl ChatModel for Scripted {
        fn id(&self) -> String {
            "scripted:test".into()
        }
        fn chat<'a>(
            &'a self,
            request: &'a ChatRequest,
        ) -> BoxFuture<'a, Result<ChatResponse, LlmError>> {
            self.asked.lock().unwrap().push(request.clone());
            let mut answers = self.answers.lock().unwrap();
            let text = if answers.is_empty() {
                String::new()
            } else {
                answers.remove(0)
            };
            Box::pin(async move {
                Ok(ChatResponse {
                    text,
                    usage: Usage::default(),
                    model: "test".into(),
                    cached: false,
                })
            })
        }
    }

    const S: Label = Label::Supports;
    const R: Label = Label::Refutes;
    const N: Label = Label::NotEnoughInfo;

    /// Scores `pairs` against scripted answers; `want` is the label of each pair, or `None`
    /// for an error. Returns the requests made.
    fn check(answers: &[&str], pairs: usize, want: Option<&[Label]>) -> Vec<ChatRequest> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let asked = Arc::new(Mutex::new(Vec::new()));
        let judge = LlmStance {
            model: Box::new(Scripted {
                answers: Mutex::new(answers.iter().map(|a| a.to_string()).collect()),
                asked: asked.clone(),
            }),
            handle: runtime.handle().clone(),
        };
        let texts: Vec<(String, String)> = (0..pairs)
            .map(|i| (format!("claim {i}"), format!("evidence\n{i}")))
            .collect();
        let pairs: Vec<(&str, &str)> = texts
            .iter()
            .map(|(c, e)| (c.as_str(), e.as_str()))
            .collect();
        // From inside the runtime, as LLM mode's gate calls it.
        let got = runtime.block_on(async { judge.score(&pairs) });
        match (got, want) {
            (Ok(got), Some(want)) => {
                let want: Vec<StanceProbs> = want.iter().map(|&l| probabilities(l)).collect();
                assert_eq!(got, want);
            }
            (Err(e), None) => assert!(e.to_string().contains("scripted:test"), "{e}"),
            (got, want) => panic!("got {got:?}, want {want:?}"),
        }
        let asked = asked.lock().unwrap().clone();
        asked
    }

    #[test]
    fn labels_become_distributions_in_pair_order() {
        check(
            &[
                r#"{"judgements": [{"pair": 1, "label": "refutes"}, {"pair": 2, "label": "supports"}, {"pair": 3, "label": "not_enough_info"}]}"#,
            ],
            3,
            Some(&[R, S, N]),
        );
        // Answered out of order: the pair numbers decide.
        check(
            &[
                r#"{"judgements": [{"pair": 2, "label": "supports"}, {"pair": 1, "label": "refutes"}]}"#,
            ],
            2,
            Some(&[R, S]),
        );
    }

    #[test]
    fn pairs_left_out_are_neutral_and_unknown_numbers_are_ignored() {
        check(
            &[
                r#"{"judgements": [{"pair": 2, "label": "refutes"}, {"pair": 9, "label": "supports"}, {"pair": 0, "label": "supports"}]}"#,
            ],
            3,
            Some(&[N, R, N]),
        );
    }

    #[test]
    fn a_model_that_never_answers_in_the_schema_is_an_error_naming_it() {
        let asked = check(
            &[
                "I think the first one is true.",
                "{\"judgements\": \"yes\"}",
            ],
            2,
            None,
        );
        assert_eq!(asked.len(), 2, "one repair round");
    }

    #[test]
    fn pairs_go_in_batches_with_an_exact_schema() {
        let answer = |n: usize| {
            let items: Vec<String> = (1..=n)
                .map(|i| format!(r#"{{"pair": {i}, "label": "supports"}}"#))
                .collect();
            format!(r#"{{"judgements": [{}]}}"#, items.join(","))
        };
        let (a, b) = (answer(PAIRS_PER_CALL), answer(2));
        let asked = check(
            &[&a, &b],
            PAIRS_PER_CALL + 2,
            Some(&[S; PAIRS_PER_CALL + 2]),
        );
        assert_eq!(asked.len(), 2);
        let items = |r: &ChatRequest| {
            let s = &r.schema.as_ref().unwrap().schema["properties"]["judgements"];
            (s["minItems"].as_u64(), s["maxItems"].as_u64())
        };
        let sizes: Vec<_> = asked.iter().map(items).collect();
        assert!(sizes.contains(&(Some(PAIRS_PER_CALL as u64), Some(PAIRS_PER_CALL as u64))));
        assert!(sizes.contains(&(Some(2), Some(2))));
        let prompt = &asked[0].messages[1].content;
        assert!(
            prompt.contains("Pair 1\nClaim: claim") && prompt.contains("Evidence: evidence 0"),
            "{prompt}"
        );
    }
}
