//! Classification metrics for `factually eval`: accuracy, per-label precision / recall / F1,
//! macro-F1, the confusion matrix, and the expected calibration error of confidences.

use serde::Serialize;

/// Precision, recall and F1 of one label.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelScores {
    pub label: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Number of gold items with this label.
    pub support: usize,
}

/// Scores of a set of predictions against gold labels over a fixed label list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Classification {
    pub n: usize,
    pub accuracy: f64,
    pub macro_f1: f64,
    pub per_label: Vec<LabelScores>,
    /// `confusion[gold][predicted]`, indexed like `labels`.
    pub labels: Vec<String>,
    pub confusion: Vec<Vec<usize>>,
}

/// Scores `(gold, predicted)` pairs. Labels outside `labels` are counted as wrong predictions
/// (they cannot appear in the matrix). Macro-F1 averages over labels with gold support or
/// predictions, so a label absent from both does not drag the mean to zero.
pub fn classify(labels: &[&str], pairs: &[(String, String)]) -> Classification {
    let index = |l: &str| labels.iter().position(|x| *x == l);
    let k = labels.len();
    let mut confusion = vec![vec![0usize; k]; k];
    let mut correct = 0;
    for (gold, pred) in pairs {
        if gold == pred {
            correct += 1;
        }
        if let (Some(g), Some(p)) = (index(gold), index(pred)) {
            confusion[g][p] += 1;
        }
    }
    let mut per_label = Vec::with_capacity(k);
    let mut f1_sum = 0.0;
    let mut counted = 0;
    for (i, label) in labels.iter().enumerate() {
        let tp = confusion[i][i] as f64;
        let gold_n = pairs.iter().filter(|(g, _)| g == label).count();
        let pred_n = pairs.iter().filter(|(_, p)| p == label).count();
        let precision = if pred_n > 0 { tp / pred_n as f64 } else { 0.0 };
        let recall = if gold_n > 0 { tp / gold_n as f64 } else { 0.0 };
        let f1 = if precision + recall > 0.0 {
            2.0 * precision * recall / (precision + recall)
        } else {
            0.0
        };
        if gold_n > 0 || pred_n > 0 {
            f1_sum += f1;
            counted += 1;
        }
        per_label.push(LabelScores {
            label: label.to_string(),
            precision,
            recall,
            f1,
            support: gold_n,
        });
    }
    Classification {
        n: pairs.len(),
        accuracy: if pairs.is_empty() {
            0.0
        } else {
            correct as f64 / pairs.len() as f64
        },
        macro_f1: if counted > 0 {
            f1_sum / counted as f64
        } else {
            0.0
        },
        per_label,
        labels: labels.iter().map(|l| l.to_string()).collect(),
        confusion,
    }
}

/// Expected calibration error over `bins` equal-width confidence bins: the average, weighted by
/// bin size, of |accuracy - mean confidence|. Input: `(confidence, was_correct)`.
pub fn expected_calibration_error(items: &[(f64, bool)], bins: usize) -> f64 {
    if items.is_empty() || bins == 0 {
        return 0.0;
    }
    let mut sum_conf = vec![0.0; bins];
    let mut sum_correct = vec![0.0; bins];
    let mut count = vec![0usize; bins];
    for &(c, ok) in items {
        let c = c.clamp(0.0, 1.0);
        let b = ((c * bins as f64) as usize).min(bins - 1);
        sum_conf[b] += c;
        sum_correct[b] += if ok { 1.0 } else { 0.0 };
        count[b] += 1;
    }
    (0..bins)
        .filter(|&b| count[b] > 0)
        .map(|b| (sum_correct[b] - sum_conf[b]).abs())
        .sum::<f64>()
        / items.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn scores_match_a_hand_computed_example() {
        let c = classify(
            &["a", "b", "c"],
            &pairs(&[
                ("a", "a"),
                ("a", "b"),
                ("b", "b"),
                ("c", "b"),
                ("c", "c"),
                ("a", "a"),
            ]),
        );
        assert_eq!(c.n, 6);
        assert!((c.accuracy - 4.0 / 6.0).abs() < 1e-9);
        // a: P 2/2 R 2/3 F1 .8; b: P 1/3 R 1/1 F1 .5; c: P 1/1 R 1/2 F1 2/3.
        let f1: Vec<f64> = c.per_label.iter().map(|l| l.f1).collect();
        assert!(
            (f1[0] - 0.8).abs() < 1e-9
                && (f1[1] - 0.5).abs() < 1e-9
                && (f1[2] - 2.0 / 3.0).abs() < 1e-9
        );
        assert!((c.macro_f1 - (0.8 + 0.5 + 2.0 / 3.0) / 3.0).abs() < 1e-9);
        assert_eq!(
            c.confusion,
            vec![vec![2, 1, 0], vec![0, 1, 0], vec![0, 1, 1]]
        );
    }

    #[test]
    fn calibration_error_is_zero_when_confidence_matches_accuracy() {
        let calibrated = [(0.75, true), (0.75, true), (0.75, true), (0.75, false)];
        assert!(expected_calibration_error(&calibrated, 10) < 1e-9);
        let overconfident = [(1.0, false), (1.0, true)];
        assert!((expected_calibration_error(&overconfident, 10) - 0.5).abs() < 1e-9);
    }
}
