//! Which validators serve which model: operators declare it
//! (`MsgServeModel`); a job on a model too few bonded validators serve is
//! refused at submit (committees are drawn only among those that serve it:
//! [`crate::committee::candidates`]).

use cosmwasm_std::Storage;
use verdict_core::address::Addr;
use verdict_core::ctx::Ctx;
use verdict_core::event::Event;
use verdict_core::module::Any;
use verdict_staking::state as staking;

use crate::error::InferenceError;
use crate::params::InferenceParams;
use crate::state;

/// `MsgServeModel`: the operator's validator must exist and every model be
/// registered; then each (model, validator) pair is recorded or removed.
pub fn serve(
    ctx: &mut Ctx<'_>,
    operator: &Addr,
    model_ids: &[String],
    serve: bool,
) -> Result<Any, InferenceError> {
    if staking::find_validator(ctx.store, &operator.0)?.is_none() {
        return Err(InferenceError::Invalid(format!(
            "{} is not a validator: only a validator's operator declares what it serves",
            operator.valoper()
        )));
    }
    for id in model_ids {
        if state::model(ctx.store, id)?.is_none() {
            return Err(InferenceError::UnknownModel(id.clone()));
        }
    }
    for id in model_ids {
        state::set_serving(ctx.store, id, &operator.0, serve)?;
        ctx.emit(
            Event::new("inference_serve")
                .attr("model_id", id)
                .attr("validator", operator.valoper())
                .attr("serving", serve),
        );
    }
    Ok(Any {
        type_url: "/verdict.inference.v1.MsgServeModelResponse".into(),
        value: vec![],
    })
}

/// A job is accepted only if at least `min_model_servers` bonded validators
/// serve its model.
pub fn check_served(
    s: &dyn Storage,
    p: &InferenceParams,
    model_id: &str,
) -> Result<(), InferenceError> {
    // Only the model's servers are read, not the whole validator set: this
    // runs in CheckTx and FinalizeBlock for every job.
    let mut n = 0usize;
    for op in state::servers(s, model_id)? {
        if staking::find_validator(s, &op)?.is_some_and(|v| v.power() > 0) {
            n = n.saturating_add(1);
        }
    }
    if n < p.min_model_servers as usize {
        return Err(InferenceError::Invalid(format!(
            "model {model_id} is served by {n} bonded validators; at least {} needed \
             (validators declare it with MsgServeModel once their sidecar has it)",
            p.min_model_servers
        )));
    }
    Ok(())
}
