//! Latency of the exact vector scan alone, on a knowledge base's vector file:
//! `cargo run --release -p factually-kb --example vector_scan -- FILE.fvec` prints p50 / p95
//! over 400 pseudo-random queries (k = 100, the fusion depth). With `RAYON_NUM_THREADS=1` the
//! scan runs on one thread, so the two runs compare the split scan with the plain one.
use factually_kb::{ExactIndex, VectorIndex};
use std::time::Instant;

fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: vector_scan FILE.fvec (a KB's vectors/<generation>.fvec)");
    let index = ExactIndex::load(std::path::Path::new(&path)).expect("a readable vector file");
    let mut seed = 1u64;
    let mut next = || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    };
    let mut ms: Vec<f64> = (0..400)
        .map(|_| {
            let query: Vec<f32> = (0..index.dim()).map(|_| next()).collect();
            let start = Instant::now();
            std::hint::black_box(index.search(&query, 100));
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    ms.sort_by(f64::total_cmp);
    println!(
        "{} vectors: p50 {:.2} ms, p95 {:.2} ms",
        index.len(),
        ms[200],
        ms[380]
    );
}
