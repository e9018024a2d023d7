//! Small, calibrated classifiers fitted in process: multinomial logistic regression with
//! balanced class weights, L2 and full-batch Adam, and the pieces other fits share.
//!
//! The judge and the check-worthiness scorer are both a few hundred weights over features the
//! pipeline computes anyway; a fit of a few thousand examples takes seconds, is deterministic
//! (no sampling: the same examples give the same weights), and the weights can be read.
//! Training data is a list of `(features, class, weight)`.

use serde::{Deserialize, Serialize};

/// How a fit optimises: full-batch Adam steps, their size, and the L2 penalty on the weights
/// (not the biases).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Optimiser {
    pub iterations: usize,
    pub learning_rate: f32,
    pub l2: f32,
}

/// Per-feature mean and standard deviation, so that every feature weighs in on one scale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Standardiser {
    pub mean: Vec<f32>,
    pub scale: Vec<f32>,
}

impl Standardiser {
    /// Fitted on `rows` of `width` features; a constant feature gets scale 1.
    pub fn fit(rows: &[&[f32]], width: usize) -> Self {
        let count = rows.len().max(1) as f32;
        let mean: Vec<f32> = (0..width)
            .map(|j| rows.iter().map(|r| r[j]).sum::<f32>() / count)
            .collect();
        let scale = (0..width)
            .map(|j| {
                let var = rows.iter().map(|r| (r[j] - mean[j]).powi(2)).sum::<f32>() / count;
                if var > 1e-12 {
                    var.sqrt()
                } else {
                    1.0
                }
            })
            .collect();
        Self { mean, scale }
    }

    pub fn apply(&self, x: &[f32]) -> Vec<f32> {
        x.iter()
            .zip(&self.mean)
            .zip(&self.scale)
            .map(|((x, m), s)| (x - m) / s)
            .collect()
    }

    /// Whether it standardises `width` features: as many means and scales, finite, every
    /// scale positive. For checking an artifact read from a file.
    pub fn fits(&self, width: usize) -> Result<(), ShapeError> {
        if self.mean.len() != width || self.scale.len() != width {
            return Err(ShapeError::Shape);
        }
        if !finite(&self.mean) || !finite(&self.scale) || self.scale.iter().any(|x| *x <= 0.0) {
            return Err(ShapeError::Numbers);
        }
        Ok(())
    }
}

/// What is wrong with fitted weights read from a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShapeError {
    /// Not as many weights as the features and classes ask for.
    Shape,
    /// A weight that is not a finite number, or a scale that is not positive.
    Numbers,
}

impl ShapeError {
    /// The problem to report among several checks: a wrong shape before a bad number.
    pub fn first(
        checks: impl IntoIterator<Item = Result<(), ShapeError>>,
    ) -> Result<(), ShapeError> {
        let mut numbers = false;
        for check in checks {
            match check {
                Err(ShapeError::Shape) => return Err(ShapeError::Shape),
                Err(ShapeError::Numbers) => numbers = true,
                Ok(()) => {}
            }
        }
        if numbers {
            Err(ShapeError::Numbers)
        } else {
            Ok(())
        }
    }
}

fn finite(v: &[f32]) -> bool {
    v.iter().all(|x| x.is_finite())
}

/// A multinomial logistic regression: `classes x features` weights and a bias per class.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Linear {
    pub weights: Vec<Vec<f32>>,
    pub bias: Vec<f32>,
}

impl Linear {
    /// Class probabilities of one (standardised) input.
    pub fn probabilities(&self, x: &[f32]) -> Vec<f32> {
        let logits: Vec<f32> = self
            .weights
            .iter()
            .zip(&self.bias)
            .map(|(w, b)| w.iter().zip(x).map(|(w, x)| w * x).sum::<f32>() + b)
            .collect();
        softmax(&logits)
    }

    /// Whether it has `classes` rows of `width` finite weights and a finite bias per class.
    /// For checking an artifact read from a file.
    pub fn fits(&self, classes: usize, width: usize) -> Result<(), ShapeError> {
        if self.weights.len() != classes
            || self.bias.len() != classes
            || self.weights.iter().any(|w| w.len() != width)
        {
            return Err(ShapeError::Shape);
        }
        if !finite(&self.bias) || !self.weights.iter().all(|w| finite(w)) {
            return Err(ShapeError::Numbers);
        }
        Ok(())
    }
}

pub fn softmax(logits: &[f32]) -> Vec<f32> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exp: Vec<f32> = logits.iter().map(|l| (l - max).exp()).collect();
    let sum: f32 = exp.iter().sum();
    exp.iter().map(|e| e / sum).collect()
}

/// Inverse-frequency class weights (weighted by each example's own weight), so that every
/// class present counts the same in the loss.
pub fn balanced_class_weights(data: &[(&[f32], usize, f32)], classes: usize) -> Vec<f32> {
    let mut class_weight = vec![0.0f32; classes];
    for (_, y, w) in data {
        class_weight[*y] += w;
    }
    let total: f32 = class_weight.iter().sum();
    let present = class_weight.iter().filter(|w| **w > 0.0).count().max(1) as f32;
    for w in &mut class_weight {
        *w = if *w > 0.0 {
            total / (present * *w)
        } else {
            0.0
        };
    }
    class_weight
}

/// Adam over a flat parameter vector (bias-corrected step size).
pub struct Adam {
    m: Vec<f32>,
    v: Vec<f32>,
    learning_rate: f32,
    step: i32,
}

impl Adam {
    const B1: f32 = 0.9;
    const B2: f32 = 0.999;
    const EPS: f32 = 1e-8;

    pub fn new(params: usize, learning_rate: f32) -> Self {
        Self {
            m: vec![0.0; params],
            v: vec![0.0; params],
            learning_rate,
            step: 0,
        }
    }

    /// The change to subtract from each parameter for this gradient.
    pub fn deltas(&mut self, grad: &[f32]) -> Vec<f32> {
        self.step += 1;
        let lr = self.learning_rate * (1.0 - Self::B2.powi(self.step)).sqrt()
            / (1.0 - Self::B1.powi(self.step));
        grad.iter()
            .zip(self.m.iter_mut().zip(self.v.iter_mut()))
            .map(|(g, (m, v))| {
                *m = Self::B1 * *m + (1.0 - Self::B1) * g;
                *v = Self::B2 * *v + (1.0 - Self::B2) * g * g;
                lr * *m / (v.sqrt() + Self::EPS)
            })
            .collect()
    }
}

/// Multinomial logistic regression with balanced class weights, Adam, L2; only the features
/// `used` marks get weights (the others stay 0). For the features `increasing` marks, the
/// last class's weight is kept at least every other class's (projected after each step): the
/// feature can only raise that class's probability.
pub fn fit_linear(
    data: &[(&[f32], usize, f32)],
    classes: usize,
    used: &[bool],
    increasing: &[bool],
    config: Optimiser,
) -> Linear {
    let n = used.len();
    let class_weight = balanced_class_weights(data, classes);
    let mut weights = vec![vec![0.0f32; n]; classes];
    let mut bias = vec![0.0f32; classes];
    let params = classes * (n + 1);
    let mut adam = Adam::new(params, config.learning_rate);
    let norm: f32 = data
        .iter()
        .map(|(_, y, w)| w * class_weight[*y])
        .sum::<f32>()
        .max(1e-6);
    for _ in 0..config.iterations {
        let mut grad = vec![0.0f32; params];
        for (x, y, w) in data {
            let logits: Vec<f32> = weights
                .iter()
                .zip(&bias)
                .map(|(wc, b)| wc.iter().zip(x.iter()).map(|(a, b)| a * b).sum::<f32>() + b)
                .collect();
            let p = softmax(&logits);
            let scale = w * class_weight[*y] / norm;
            for (c, pc) in p.iter().enumerate() {
                let g = (pc - if c == *y { 1.0 } else { 0.0 }) * scale;
                let row = c * (n + 1);
                for j in (0..n).filter(|&j| used[j]) {
                    grad[row + j] += g * x[j];
                }
                grad[row + n] += g;
            }
        }
        for (c, wc) in weights.iter().enumerate() {
            let row = c * (n + 1);
            for (j, w) in wc.iter().enumerate() {
                grad[row + j] += config.l2 * w;
            }
        }
        for (i, delta) in adam.deltas(&grad).into_iter().enumerate() {
            let (c, j) = (i / (n + 1), i % (n + 1));
            if j == n {
                bias[c] -= delta;
            } else {
                weights[c][j] -= delta;
            }
        }
        let last = classes - 1;
        for j in (0..n).filter(|&j| increasing[j]) {
            for c in 0..last {
                if weights[last][j] < weights[c][j] {
                    let mid = (weights[last][j] + weights[c][j]) / 2.0;
                    weights[last][j] = mid;
                    weights[c][j] = mid;
                }
            }
        }
    }
    Linear { weights, bias }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIT: Optimiser = Optimiser {
        iterations: 300,
        learning_rate: 0.2,
        l2: 1e-3,
    };

    #[test]
    fn fitted_weights_read_from_a_file_are_checked_for_shape_then_numbers() {
        let linear = |weights: Vec<Vec<f32>>, bias: Vec<f32>| Linear { weights, bias };
        let ok = linear(vec![vec![1.0, 2.0], vec![0.0, -1.0]], vec![0.0, 0.5]);
        for (l, classes, width, want) in [
            (ok.clone(), 2, 2, Ok(())),
            (ok.clone(), 3, 2, Err(ShapeError::Shape)),
            (ok.clone(), 2, 3, Err(ShapeError::Shape)),
            (
                linear(vec![vec![1.0], vec![0.0, 1.0]], vec![0.0, 0.0]),
                2,
                2,
                Err(ShapeError::Shape),
            ),
            (
                linear(vec![vec![f32::NAN, 0.0], vec![0.0, 1.0]], vec![0.0, 0.0]),
                2,
                2,
                Err(ShapeError::Numbers),
            ),
            (
                linear(
                    vec![vec![0.0, 0.0], vec![0.0, 1.0]],
                    vec![f32::INFINITY, 0.0],
                ),
                2,
                2,
                Err(ShapeError::Numbers),
            ),
        ] {
            assert_eq!(l.fits(classes, width), want, "{l:?} as {classes} x {width}");
        }
        let standardiser = |mean: Vec<f32>, scale: Vec<f32>| Standardiser { mean, scale };
        for (s, want) in [
            (standardiser(vec![0.0, 1.0], vec![1.0, 2.0]), Ok(())),
            (
                standardiser(vec![0.0], vec![1.0, 2.0]),
                Err(ShapeError::Shape),
            ),
            (
                standardiser(vec![0.0, 1.0], vec![1.0, 0.0]),
                Err(ShapeError::Numbers),
            ),
            (
                standardiser(vec![f32::NAN, 1.0], vec![1.0, 1.0]),
                Err(ShapeError::Numbers),
            ),
        ] {
            assert_eq!(s.fits(2), want, "{s:?}");
        }
        use ShapeError::{Numbers, Shape};
        assert_eq!(ShapeError::first([Ok(()), Ok(())]), Ok(()));
        assert_eq!(ShapeError::first([Err(Numbers), Err(Shape)]), Err(Shape));
        assert_eq!(ShapeError::first([Ok(()), Err(Numbers)]), Err(Numbers));
    }

    /// One informative feature and one that is noise; with `used` masking the first, the fit
    /// learns nothing from it.
    #[test]
    fn fits_the_informative_feature_and_honours_the_mask() {
        let rows: Vec<[f32; 2]> = (0..100)
            .map(|i| {
                [
                    if i % 2 == 0 { 1.0 } else { -1.0 },
                    ((i * 7) % 5) as f32 - 2.0,
                ]
            })
            .collect();
        let data: Vec<(&[f32], usize, f32)> = rows
            .iter()
            .enumerate()
            .map(|(i, r)| (r.as_slice(), i % 2, 1.0))
            .collect();
        let model = fit_linear(&data, 2, &[true, true], &[false, false], FIT);
        assert!(model.probabilities(&[-1.0, 0.0])[1] > 0.9);
        assert!(model.probabilities(&[1.0, 0.0])[0] > 0.9);
        let masked = fit_linear(&data, 2, &[false, true], &[false, false], FIT);
        assert_eq!(masked.weights[0][0], 0.0);
        assert_eq!(masked.weights[1][0], 0.0);
        assert_eq!(
            model,
            fit_linear(&data, 2, &[true, true], &[false, false], FIT)
        );
    }

    /// A rare class counts as much as a common one.
    #[test]
    fn class_weights_balance_the_classes() {
        let x = [0.0f32];
        let data: Vec<(&[f32], usize, f32)> = (0..10)
            .map(|i| (x.as_slice(), usize::from(i < 2), 1.0))
            .collect();
        let w = balanced_class_weights(&data, 3);
        assert!((w[0] * 8.0 - w[1] * 2.0).abs() < 1e-5, "{w:?}");
        assert_eq!(w[2], 0.0);
    }

    #[test]
    fn standardising_centres_and_scales() {
        let rows = [[1.0f32, 5.0], [3.0, 5.0]];
        let refs: Vec<&[f32]> = rows.iter().map(|r| r.as_slice()).collect();
        let s = Standardiser::fit(&refs, 2);
        assert_eq!(s.apply(&[3.0, 5.0]), vec![1.0, 0.0]);
    }
}
