//! Output digests and commitments.

use sha2::{Digest, Sha256};

/// sha256(job_id BE ‖ validator address ‖ digest elements BE ‖ salt).
pub fn commitment(job_id: u64, validator: &[u8], digest: &[i64], salt: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(job_id.to_be_bytes());
    h.update(validator);
    for d in digest {
        h.update(d.to_be_bytes());
    }
    h.update(salt);
    h.finalize().into()
}

/// Reduces a model output (all output tensors flattened, in spec order) to the
/// digest validators commit to: the values themselves when there are at most
/// `max_len`, otherwise a projection onto `max_len` ±1 vectors seeded by the job
/// id (scaled by 1/√n so each element keeps the size of one output value);
/// quantized at the model's tolerance (`tolerance_nano` × 10^-9).
///
/// NOT consensus code: it runs on the validator's own node on its own output.
pub fn digest_of(output: &[f64], job_id: u64, tolerance_nano: u64, max_len: usize) -> Vec<i64> {
    let tol = (tolerance_nano.max(1) as f64) * 1e-9;
    let q = |x: f64| -> i64 {
        let v = (x / tol).round();
        if v.is_nan() {
            0
        } else {
            // `as` saturates at the i64 range.
            v as i64
        }
    };
    if output.len() <= max_len {
        return output.iter().map(|&x| q(x)).collect();
    }
    let scale = 1.0 / (output.len() as f64).sqrt();
    (0..max_len)
        .map(|k| {
            let mut acc = 0.0f64;
            let mut bits = [0u8; 32];
            for (j, &x) in output.iter().enumerate() {
                if j % 256 == 0 {
                    bits = Sha256::new()
                        .chain_update(b"verdict-projection")
                        .chain_update(job_id.to_be_bytes())
                        .chain_update((k as u64).to_be_bytes())
                        .chain_update(((j / 256) as u64).to_be_bytes())
                        .finalize()
                        .into();
                }
                let bit = (bits[(j % 256) / 8] >> (j % 8)) & 1;
                if bit == 1 {
                    acc += x;
                } else {
                    acc -= x;
                }
            }
            q(acc * scale)
        })
        .collect()
}

/// Stake-weighted lower median of `values` (value, weight); `None` when empty or
/// weightless. Integer arithmetic only.
pub fn weighted_median(values: &mut [(i64, u64)]) -> Option<i64> {
    values.sort_unstable();
    let total: u128 = values.iter().map(|(_, w)| u128::from(*w)).sum();
    if total == 0 {
        return None;
    }
    let mut acc: u128 = 0;
    for (v, w) in values.iter() {
        acc = acc.saturating_add(u128::from(*w));
        // First value where the cumulative weight reaches half.
        if acc.saturating_mul(2) >= total {
            return Some(*v);
        }
    }
    values.last().map(|(v, _)| *v)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::arithmetic_side_effects, clippy::unwrap_used)]
    use super::*;

    #[test]
    fn small_outputs_are_quantized_values() {
        assert_eq!(
            digest_of(&[0.5, -0.25, 1e-4], 1, 1_000_000, 8),
            vec![500, -250, 0]
        );
        assert_eq!(digest_of(&[f64::NAN, 1e300], 1, 1, 8), vec![0, i64::MAX]);
    }

    #[test]
    fn projection_is_fixed_size_deterministic_and_tolerant() {
        let x: Vec<f64> = (0..1000).map(|i| (i as f64).sin()).collect();
        let a = digest_of(&x, 7, 1_000_000, 16);
        assert_eq!(a.len(), 16);
        assert_eq!(a, digest_of(&x, 7, 1_000_000, 16));
        assert_ne!(a, digest_of(&x, 8, 1_000_000, 16));
        // A perturbation far below the tolerance moves no element by more than one.
        let y: Vec<f64> = x.iter().map(|v| v + 1e-9).collect();
        let b = digest_of(&y, 7, 1_000_000, 16);
        assert!(a.iter().zip(&b).all(|(p, q)| (p - q).abs() <= 1));
    }

    #[test]
    fn median_follows_stake() {
        assert_eq!(weighted_median(&mut [(1, 1), (5, 1), (9, 1)]), Some(5));
        assert_eq!(weighted_median(&mut [(1, 10), (5, 1), (9, 1)]), Some(1));
        assert_eq!(weighted_median(&mut []), None);
    }

    #[test]
    fn commitment_binds_every_field() {
        let c = commitment(1, &[1; 20], &[1, 2], &[0; 16]);
        assert_ne!(c, commitment(2, &[1; 20], &[1, 2], &[0; 16]));
        assert_ne!(c, commitment(1, &[2; 20], &[1, 2], &[0; 16]));
        assert_ne!(c, commitment(1, &[1; 20], &[1, 3], &[0; 16]));
        assert_ne!(c, commitment(1, &[1; 20], &[1, 2], &[1; 16]));
    }
}
