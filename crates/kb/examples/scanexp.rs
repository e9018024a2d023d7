use factually_kb::{ExactIndex, VectorIndex};
use std::time::Instant;
fn main() {
    let idx = ExactIndex::load(std::path::Path::new(&std::env::args().nth(1).unwrap())).unwrap();
    let dim = idx.dim();
    let mut ms = Vec::new();
    let mut seed = 1u64;
    for _ in 0..400 {
        let q: Vec<f32> = (0..dim)
            .map(|_| {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((seed >> 33) as f32 / 2e9) - 0.5
            })
            .collect();
        let t = Instant::now();
        std::hint::black_box(idx.search(&q, 100));
        ms.push(t.elapsed().as_secs_f64() * 1e3);
    }
    ms.sort_by(f64::total_cmp);
    println!(
        "n={} p50 {:.2} ms p95 {:.2} ms",
        idx.len(),
        ms[200],
        ms[380]
    );
}
