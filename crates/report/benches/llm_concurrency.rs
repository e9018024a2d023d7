//! LLM mode's schedule: a report with 8 sources, against a local OpenAI-compatible server that
//! answers every call after 500 ms. The 8 source analyses run concurrently, then the synthesis:
//! the critical path is two calls (about 1 s), where calling one source after another would
//! take 4.5 s. Prints the figures; no assertion.
//!
//! `cargo bench -p factually-report --bench llm_concurrency`

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use axum::routing::post;
use axum::{Json, Router};
use common::*;
use factually_analyze::analyze;
use factually_core::Stance;
use factually_llm::openai::{OpenAiCompat, OpenAiConfig};
use factually_report::llm::{Budget, LlmWriter, StoredSources};
use serde_json::{json, Value};

const DELAY: Duration = Duration::from_millis(500);
const SENTENCE: &str = "The bridge over the river was repaired in the spring.";

async fn answer(Json(body): Json<Value>) -> Json<Value> {
    tokio::time::sleep(DELAY).await;
    let prompt = body["messages"][1]["content"].as_str().unwrap_or_default();
    let content = if prompt.contains("Analyse source") {
        json!({"relevant": true, "stance": "supports", "key_facts": [{"fact": "Repaired.", "quote": SENTENCE}]})
    } else {
        json!({"summary": [{"text": "The bridge was repaired in the spring.", "sources": [1, 2, 3]}], "missing_context": [], "viewpoints": [], "verdict": "supported"})
    };
    Json(json!({
        "id": "c", "object": "chat.completion", "model": "bench",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content.to_string()}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 300, "completion_tokens": 40, "total_tokens": 340}
    }))
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let base = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = Router::new().route("/v1/chat/completions", post(answer));
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        format!("http://{addr}/v1")
    });

    const TITLES: [&str; 8] = ["A", "B", "C", "D", "E", "F", "G", "H"];
    const TEXTS: [&str; 8] = [
        "Report A. The bridge over the river was repaired in the spring. Traffic resumed.",
        "Report B. The bridge over the river was repaired in the spring. Shops reopened.",
        "Report C. The bridge over the river was repaired in the spring. Buses returned.",
        "Report D. The bridge over the river was repaired in the spring. Tolls stayed.",
        "Report E. The bridge over the river was repaired in the spring. Cyclists cheered.",
        "Report F. The bridge over the river was repaired in the spring. Costs were high.",
        "Report G. The bridge over the river was repaired in the spring. Work ran late.",
        "Report H. The bridge over the river was repaired in the spring. Crews left.",
    ];
    let docs: Vec<Doc> = TITLES.iter().zip(TEXTS).map(|(t, x)| doc(t, x)).collect();
    let analysis = analyze("The bridge over the river was repaired in the spring.");
    let evidence = docs
        .iter()
        .enumerate()
        .map(|(i, d)| evidence(d, SENTENCE, Stance::Support, 0.9, i))
        .collect();
    let v = verification(&analysis.statements[0], evidence);
    let refs: Vec<&Doc> = docs.iter().collect();
    let infos = infos(&refs);

    let model = OpenAiCompat::new(OpenAiConfig::new(&base, "bench")).unwrap();
    let mut walls = Vec::new();
    for round in 0..3 {
        let mut report = report_for(&analysis, vec![&v], vec![], &infos);
        // The writer cites the two most decisive sources; list all eight, as a web check with
        // eight pages does.
        for d in &docs {
            if !report.sources.iter().any(|s| s.doc_id == d.id) {
                let mut s = report.sources[0].clone();
                s.n = report.sources.len() + 1;
                s.doc_id = d.id.clone();
                s.title = d.title.to_string();
                s.evidence.clear();
                report.sources.push(s);
            }
        }
        let stored = StoredSources {
            texts: report
                .sources
                .iter()
                .map(|s| (s.n, docs.iter().find(|d| d.id == s.doc_id).unwrap().text))
                .collect(),
        };
        let started = Instant::now();
        let writer = LlmWriter {
            models: &[&model],
            judge: &WordJudge,
            concurrency: 8,
            budget: Budget::default(),
        };
        rt.block_on(writer.write(&mut report, &stored));
        let wall = started.elapsed().as_secs_f64() * 1e3;
        let llm = report.llm.unwrap();
        assert_eq!(llm.fallback, None);
        println!(
            "round {round}: {} sources analysed, {} calls of 500 ms each, wall {wall:.0} ms (sequential would be {} ms)",
            llm.sources_analysed,
            llm.calls,
            llm.calls * 500
        );
        walls.push(wall);
    }
    walls.sort_by(f64::total_cmp);
    println!(
        "LLM-mode model time for 8 sources: median {:.0} ms (target <= 1500 ms)",
        walls[1]
    );
}
