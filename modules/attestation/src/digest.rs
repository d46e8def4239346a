//! Output digests and commitments.

use sha2::{Digest, Sha256};

/// sha256("verdict-commit-v2" ‖ job_id BE ‖ validator address (20 B) ‖ digest
/// length (u32 BE) ‖ digest elements BE ‖ salt). Every field but the last has a
/// fixed or prefixed length, so one commitment opens in exactly one way.
pub fn commitment(job_id: u64, validator: &[u8], digest: &[i64], salt: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"verdict-commit-v2");
    h.update(job_id.to_be_bytes());
    h.update(validator);
    h.update(
        u32::try_from(digest.len())
            .unwrap_or(u32::MAX)
            .to_be_bytes(),
    );
    for d in digest {
        h.update(d.to_be_bytes());
    }
    h.update(salt);
    h.finalize().into()
}

/// Reduces a model output (all output tensors flattened, in spec order) to the
/// digest validators commit to, quantized at the model's absolute tolerance
/// (`tolerance_nano` × 10^-9): the values themselves when there are at most
/// `max_len`; otherwise `max_len + 1` elements — a projection onto `max_len` ±1
/// vectors seeded by the job id (scaled by 1/√n so each element keeps the size
/// of one output value), then the scale ‖x‖₁/√n, which bounds how far an honest
/// projection can move under a relative error (see [`tolerance`]).
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
    let l1: f64 = output.iter().map(|x| x.abs()).sum();
    let mut out: Vec<i64> = (0..max_len)
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
        .collect();
    out.push(q(l1 * scale));
    out
}

/// Whether a digest of `len` elements is a projection (`max_len + 1` long).
pub fn is_projection(len: usize, max_len: usize) -> bool {
    len == max_len.saturating_add(1)
}

/// The tolerance, in quanta (units of the absolute tolerance), of element `i`
/// of a digest compared with the reference digest `reference` (the committee's
/// median): |x − r| ≤ atol + rtol·|r| becomes 2 + ⌈rtol·|r|⌉ quanta (two quanta:
/// one for the absolute tolerance, one for rounding each side to the quantum).
/// For a projection every element, the scale included, gets 4 + ⌈rtol·s⌉ with s
/// the reference's scale element: |Δ(Σ±xⱼ)/√n| ≤ Σ rtol·|xⱼ|/√n = rtol·s.
/// Integer arithmetic only.
pub fn tolerance(reference: &[i64], i: usize, rtol_nano: u64, max_len: usize) -> u64 {
    let rel = |r: i64| -> u64 {
        let v = u128::from(r.unsigned_abs())
            .saturating_mul(u128::from(rtol_nano))
            .div_ceil(1_000_000_000);
        u64::try_from(v).unwrap_or(u64::MAX)
    };
    if is_projection(reference.len(), max_len) {
        let s = reference.last().copied().unwrap_or(0);
        rel(s).saturating_add(4)
    } else {
        rel(reference.get(i).copied().unwrap_or(0)).saturating_add(2)
    }
}

/// How a revealed digest compares with the reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Every element within its tolerance.
    Agrees,
    /// Outside the tolerance but within `multiple` × tolerance everywhere
    /// (what honest but unusual hardware could produce): not paid, not slashed.
    Grey,
    /// Some element beyond `multiple` × its tolerance, or another length.
    Wrong,
}

pub fn judge(
    digest: &[i64],
    reference: &[i64],
    rtol_nano: u64,
    max_len: usize,
    multiple: u32,
) -> Verdict {
    if digest.len() != reference.len() || digest.is_empty() {
        return Verdict::Wrong;
    }
    let mut v = Verdict::Agrees;
    for (i, (d, r)) in digest.iter().zip(reference).enumerate() {
        let tol = tolerance(reference, i, rtol_nano, max_len);
        let dev = d.abs_diff(*r);
        if dev > tol.saturating_mul(u64::from(multiple)) {
            return Verdict::Wrong;
        }
        if dev > tol {
            v = Verdict::Grey;
        }
    }
    v
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

    /// A challenge's re-run (another job id) must project a long output with
    /// its original's seed (`Job::digest_seed`): with its own, the same
    /// honest output is judged wrong against the original result.
    #[test]
    fn a_rerun_compares_with_its_original_only_under_the_originals_seed() {
        let out: Vec<f64> = (0..40).map(|i| f64::from(i).sin() * 3.0).collect();
        let original = digest_of(&out, 7, 1_000, 8);
        let rerun = verdict_inference::state::Job {
            id: 9,
            challenge_of: Some(7),
            ..crate::tests::job_for_digest_test()
        };
        let same = digest_of(&out, rerun.digest_seed(), 1_000, 8);
        assert_eq!(judge(&same, &original, 100_000, 8, 8), Verdict::Agrees);
        let own = digest_of(&out, rerun.id, 1_000, 8);
        assert_eq!(judge(&own, &original, 100_000, 8, 8), Verdict::Wrong);
    }

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
        assert_eq!(a.len(), 17);
        assert!(is_projection(a.len(), 16));
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

    /// threats.md §4: one float32 ulp at 30.2 is 86 quanta at a 1e-6 tolerance;
    /// the relative part of the tolerance absorbs it.
    #[test]
    fn honest_float_noise_agrees_at_any_magnitude() {
        let a = digest_of(&[30.214357], 1, 1000, 8);
        let b = digest_of(&[30.214443], 1, 1000, 8);
        assert_eq!(a[0].abs_diff(b[0]), 86);
        assert_eq!(judge(&b, &a, 100_000, 8, 8), Verdict::Agrees);
        // 1e4 with a relative error of 1e-6 (about what float32 sums in another
        // order give), at the smallest tolerances the chain allows.
        for x in [1e-3f64, 1.0, 1e4, -3e5] {
            let r = digest_of(&[x, 0.5 * x], 1, 1000, 8);
            let y = digest_of(&[x * (1.0 + 1e-6), 0.5 * x * (1.0 - 1e-6)], 1, 1000, 8);
            assert_eq!(judge(&y, &r, 100_000, 8, 8), Verdict::Agrees, "{x}");
        }
        // A 4096-term dot product summed sequentially vs in blocks of 64.
        let t: Vec<f32> = (0..4096)
            .map(|i| ((i * 7919 % 1000) as f32) / 100.0)
            .collect();
        let seq: f32 = t.iter().sum();
        let blk: f32 = t.chunks(64).map(|c| c.iter().sum::<f32>()).sum();
        let r = digest_of(&[f64::from(seq)], 1, 1000, 8);
        let y = digest_of(&[f64::from(blk)], 1, 1000, 8);
        assert_eq!(judge(&y, &r, 100_000, 8, 8), Verdict::Agrees);
    }

    #[test]
    fn projections_tolerate_relative_noise_and_catch_wrong_outputs() {
        let x: Vec<f64> = (0..4000).map(|i| (i as f64 * 0.37).sin() * 50.0).collect();
        let noisy: Vec<f64> = x
            .iter()
            .enumerate()
            .map(|(i, v)| v * if i % 3 == 0 { 1.0 + 1e-5 } else { 1.0 - 1e-5 })
            .collect();
        // Another model, or a broken kernel: every output 1 % off. (A projection
        // cannot see a single element off by less than rtol·‖x‖₁/√n: that is
        // the price of a fixed-size digest; README "Agreement".)
        let wrong: Vec<f64> = x.iter().map(|v| v * 1.01).collect();
        let r = digest_of(&x, 9, 1000, 16);
        assert_eq!(
            judge(&digest_of(&noisy, 9, 1000, 16), &r, 100_000, 16, 8),
            Verdict::Agrees
        );
        assert_eq!(
            judge(&digest_of(&wrong, 9, 1000, 16), &r, 100_000, 16, 8),
            Verdict::Wrong
        );
    }

    #[test]
    fn between_one_and_k_tolerances_is_grey_beyond_is_wrong() {
        let r = vec![1_000_000i64, 0];
        // tolerance of element 0 at rtol 1e-4: 2 + 100 = 102 quanta.
        assert_eq!(tolerance(&r, 0, 100_000, 8), 102);
        assert_eq!(judge(&[1_000_102, 0], &r, 100_000, 8, 8), Verdict::Agrees);
        assert_eq!(judge(&[1_000_103, 0], &r, 100_000, 8, 8), Verdict::Grey);
        assert_eq!(judge(&[1_000_816, 0], &r, 100_000, 8, 8), Verdict::Grey);
        assert_eq!(judge(&[1_000_817, 0], &r, 100_000, 8, 8), Verdict::Wrong);
        assert_eq!(judge(&[1_000_000], &r, 100_000, 8, 8), Verdict::Wrong);
    }

    /// threats.md §12: with a length prefix one commitment cannot be opened as
    /// a longer digest with a shorter salt.
    #[test]
    fn a_commitment_opens_one_way_only() {
        let c = commitment(1, &[1; 20], &[1, 2], &[0; 32]);
        let mut salt = [0u8; 24];
        salt.copy_from_slice(&[0; 24]);
        assert_ne!(c, commitment(1, &[1; 20], &[1, 2, 0], &salt));
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
