//! Embedding throughput on this machine:
//! `cargo run --release -p factually-embed --example throughput [FILE]` embeds FILE's lines
//! (default: synthetic texts of 8 to 64 words) and prints texts per second, then the latency
//! of embedding one text at a time (a search query's cost): p50 and p95 over the same texts.
use factually_assets::AssetCache;
use factually_embed::{BertEmbedder, Embedder};
use std::time::Instant;

fn run(model: &BertEmbedder, label: &str, texts: &[String]) {
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    model.embed(&refs[..refs.len().min(8)]).expect("warm-up");
    let t = Instant::now();
    model.embed(&refs).expect("embed");
    let s = t.elapsed().as_secs_f64();
    println!(
        "{label}: {} texts in {s:.1} s, {:.1} texts/s",
        texts.len(),
        texts.len() as f64 / s
    );
}

/// Embeds each text alone, as a search embeds its query, and prints p50 / p95 milliseconds.
fn single_text_latency(model: &BertEmbedder, label: &str, texts: &[String]) {
    let mut ms: Vec<f64> = texts
        .iter()
        .map(|t| {
            let start = Instant::now();
            model.embed(&[t.as_str()]).expect("embed");
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
    println!(
        "{label}, one at a time: p50 {:.1} ms, p95 {:.1} ms",
        at(0.5),
        at(0.95)
    );
}

fn main() {
    // As the `factually` binary does: keep large tensor buffers in the heap (see its main.rs).
    // SAFETY: called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 512 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
    }
    let model = BertEmbedder::bundled(&AssetCache::from_env()).expect("model");
    if let Some(path) = std::env::args().nth(1) {
        let texts: Vec<String> = std::fs::read_to_string(&path)
            .expect("readable file")
            .lines()
            .map(str::to_string)
            .collect();
        run(&model, &path, &texts);
        single_text_latency(&model, &path, &texts);
        return;
    }
    let base = "The Eiffel Tower is a lattice tower on the Champ de Mars in Paris, France. It is named after the engineer Gustave Eiffel, whose company designed and built the tower from 1887 to 1889. Locally nicknamed La dame de fer, it was constructed as the centrepiece of the 1889 World's Fair.";
    for words in [8usize, 16, 32, 64] {
        let text: String = base
            .split_whitespace()
            .take(words)
            .collect::<Vec<_>>()
            .join(" ");
        let texts: Vec<String> = (0..256).map(|i| format!("{i} {text}")).collect();
        run(&model, &format!("{words:>2} words"), &texts);
        single_text_latency(&model, &format!("{words:>2} words"), &texts[..64]);
    }
}
