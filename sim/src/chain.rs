//! The default mode: settlement through the real chain. One `VerdictApp` over a
//! temporary `Store` per run; InitChain with gentxs of Zipf stake; every block
//! goes through `Application::finalize_block` (→ `verdict_attestation::
//! process_block`, `beacon::advance`, `committee::assign`, staking end block)
//! and `commit`. The sim plays every validator's node: its sidecar (what it
//! answers, by strategy), its `ExtendVote` (the real `build_extension` over the
//! committed state, with the `NextBlock` the app itself would pass) and the
//! proposer's tx[0] (`encode_injected`, with the real beacon `contribution`).
//! ProcessProposal (the signature checks of tx[0]) and PrepareProposal are not
//! run: FinalizeBlock only decodes tx[0], so extension signatures are empty.
//!
//! - `setup`: constants, accounts, models and gentxs;
//! - `net`: the app and every validator's node around it;
//! - `run`: one run, block after block;
//! - `tally`: a settled job into the run's counts;
//! - `result`: what a run produced;
//! - `report`: the eight runs and the printed report;
//! - `challenge`: the challengers' section (issue 21 §1).

mod challenge;
mod net;
mod report;
mod result;
mod run;
mod setup;
mod tally;

pub(crate) use report::main_chain;
pub(crate) use setup::SQUAT_PER_BLOCK;
