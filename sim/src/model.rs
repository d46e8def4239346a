//! What the simulation is about, shared by both modes: the validators (Zipf
//! stake, one strategy each), what each strategy answers for a job, and the
//! seeded randomness everything derives from.

use sha2::{Digest, Sha256};
use verdict_inference::state::Member;

pub(crate) const OUT_LEN: usize = 8;
pub(crate) const TOLERANCE_NANO: u64 = 1_000;
pub(crate) const RTOL_NANO: u64 = 100_000;
pub(crate) const FEE: u128 = 1_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Strategy {
    Cpu,
    Noisy6,
    Noisy5,
    Sloppy,
    Wrong,
    Copier,
    Slow,
    Down,
    Withholder,
    SelfJailer,
    Coalition,
}

impl Strategy {
    pub(crate) const ALL: [Strategy; 11] = [
        Strategy::Cpu,
        Strategy::Noisy6,
        Strategy::Noisy5,
        Strategy::Sloppy,
        Strategy::Wrong,
        Strategy::Copier,
        Strategy::Slow,
        Strategy::Down,
        Strategy::Withholder,
        Strategy::SelfJailer,
        Strategy::Coalition,
    ];
    pub(crate) fn name(self) -> &'static str {
        match self {
            Strategy::Cpu => "honest CPU (exact)",
            Strategy::Noisy6 => "honest GPU noise 1e-6",
            Strategy::Noisy5 => "honest GPU noise 1e-5",
            Strategy::Sloppy => "sloppy (rel 3e-4, grey)",
            Strategy::Wrong => "wrong (+10 offset)",
            Strategy::Copier => "lazy copier",
            Strategy::Slow => "latency liar / slow",
            Strategy::Down => "down",
            Strategy::Withholder => "withholder (commits, never reveals)",
            Strategy::SelfJailer => "self-jailer (wrong, then unbonds)",
            Strategy::Coalition => "coalition (forged)",
        }
    }
    pub(crate) fn honest(self) -> bool {
        matches!(self, Strategy::Cpu | Strategy::Noisy6 | Strategy::Noisy5)
    }
}

/// splitmix64: the only randomness, all derived from `--seed`.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn unit(x: u64) -> f64 {
    (mix(x) >> 11) as f64 / (1u64 << 53) as f64
}

pub(crate) struct Rng(pub(crate) u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            v.swap(i, j);
        }
    }
}

#[derive(Clone)]
pub(crate) struct Val {
    pub(crate) member: Member,
    pub(crate) strategy: Strategy,
}

#[derive(Default, Clone)]
pub(crate) struct Tally {
    pub(crate) seats: u64,
    pub(crate) jobs: u64,
    pub(crate) paid: u128,
    pub(crate) slashed: u64,
    pub(crate) late: u64,
    pub(crate) grey: u64,
}

fn addr20(seed: u64, i: usize) -> [u8; 20] {
    let h = Sha256::new()
        .chain_update(b"sim-validator")
        .chain_update(seed.to_be_bytes())
        .chain_update((i as u64).to_be_bytes())
        .finalize();
    let mut a = [0u8; 20];
    a.copy_from_slice(&h[..20]);
    a
}

/// Validators by rank (index 0 = rank 1), Zipf power, and the strategies for
/// one scenario with a coalition targeting `target` of the stake.
pub(crate) fn validators(n: usize, seed: u64, target: f64) -> Vec<Val> {
    let mut vals: Vec<Val> = (0..n)
        .map(|i| {
            let op = addr20(seed, i);
            Val {
                member: Member {
                    address: hex::encode_upper(op),
                    operator: op,
                    power: 1_000_000 / (i as u64 + 1),
                    seats: 0,
                },
                strategy: Strategy::Cpu,
            }
        })
        .collect();
    let total: u64 = vals.iter().map(|v| v.member.power).sum();
    // The coalition: the top validators, greedily, up to target + 1 %.
    let mut cum = 0u64;
    for v in &mut vals {
        let p = v.member.power;
        if (cum + p) as f64 <= (target + 0.01) * total as f64 {
            cum += p;
            v.strategy = Strategy::Coalition;
        }
    }
    // Faulty roles go to the tail (ranks beyond n/4), so that the honest
    // majority of most committees exceeds 2/3 and settlement is exercised.
    let mut rng = Rng(seed ^ 0x5157_0001);
    let mut tail: Vec<usize> = (n / 4..n)
        .filter(|&i| vals[i].strategy != Strategy::Coalition)
        .collect();
    rng.shuffle(&mut tail);
    let k = (n / 30).max(1);
    let mut roles = vec![Strategy::Sloppy];
    for s in [
        Strategy::Wrong,
        Strategy::Copier,
        Strategy::Slow,
        Strategy::Down,
        Strategy::Withholder,
        Strategy::SelfJailer,
    ] {
        for _ in 0..k {
            roles.push(s);
        }
    }
    for (i, r) in tail.iter().zip(roles) {
        vals[*i].strategy = r;
    }
    let mut rest: Vec<usize> = (0..n)
        .filter(|&i| vals[i].strategy == Strategy::Cpu)
        .collect();
    rng.shuffle(&mut rest);
    for (j, i) in rest.into_iter().enumerate() {
        vals[i].strategy = [Strategy::Cpu, Strategy::Noisy6, Strategy::Noisy5][j % 3];
    }
    vals
}

/// The model's exact output for a job: 8 values of magnitude 1..1000.
pub(crate) fn reference(seed: u64, job: u64) -> Vec<f64> {
    (0..OUT_LEN as u64)
        .map(|k| {
            let x = seed ^ job.wrapping_mul(0x1000_0001) ^ (k << 56);
            let mag = 10f64.powf(3.0 * unit(x));
            if mix(x) & 1 == 0 {
                mag
            } else {
                -mag
            }
        })
        .collect()
}

/// What one member reveals (None: no commitment in time, so nothing to reveal).
pub(crate) fn answer(
    s: Strategy,
    reference: &[f64],
    seed: u64,
    job: u64,
    v: usize,
) -> Option<Vec<f64>> {
    let noise = |rel: f64| -> Vec<f64> {
        reference
            .iter()
            .enumerate()
            .map(|(k, x)| {
                let r = mix(seed ^ job.rotate_left(20) ^ ((v as u64) << 8) ^ k as u64);
                x * if r & 1 == 0 { 1.0 + rel } else { 1.0 - rel }
            })
            .collect()
    };
    match s {
        Strategy::Cpu => Some(reference.to_vec()),
        Strategy::Noisy6 => Some(noise(1e-6)),
        Strategy::Noisy5 => Some(noise(1e-5)),
        Strategy::Sloppy => Some(noise(3e-4)),
        // A self-jailer reveals the same wrong answer, then unbonds (chain mode).
        Strategy::Wrong | Strategy::SelfJailer => {
            Some(reference.iter().map(|x| x + 10.0).collect())
        }
        // The same forged answer for every coalition member.
        Strategy::Coalition => Some(reference.iter().map(|x| x * 1.5 + 7.0).collect()),
        // A withholder commits to the true answer (chain/net.rs feeds its sidecar
        // the reference) but never reveals it: nothing revealed.
        Strategy::Copier | Strategy::Slow | Strategy::Down | Strategy::Withholder => None,
    }
}
