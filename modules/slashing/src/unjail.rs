//! `MsgUnjail`.

use cosmwasm_std::Storage;
use verdict_core::address::Addr;
use verdict_staking::state as staking;

use crate::state::keys::SIGNING_INFO;
use crate::SlashingError;

/// `MsgUnjail`: after the jail time, never when tombstoned, and only with a
/// self-delegation of at least `min_self_delegation`.
pub fn unjail(s: &mut dyn Storage, operator: &Addr, now: i64) -> Result<(), SlashingError> {
    let v = staking::validator(s, operator)?;
    if !v.jailed {
        return Err(SlashingError::NotJailed(operator.valoper()));
    }
    let pk = staking::pubkey_bytes(&v)?;
    let cons = staking::consensus_address(&pk);
    let info = SIGNING_INFO.may_load(s, &cons)?.unwrap_or_default();
    if info.tombstoned {
        return Err(SlashingError::Tombstoned(operator.valoper()));
    }
    if now < info.jailed_until {
        return Err(SlashingError::StillJailed {
            valoper: operator.valoper(),
            until: info.jailed_until,
            now,
        });
    }
    if !staking::has_delegation(s, &operator.0, &operator.0) {
        return Err(SlashingError::NoSelfDelegation(operator.valoper()));
    }
    let have = staking::self_delegation_tokens(s, operator)?;
    if have < v.min_self_delegation {
        return Err(SlashingError::SelfDelegationTooLow {
            valoper: operator.valoper(),
            have,
            min: v.min_self_delegation,
        });
    }
    staking::set_jailed(s, operator, false)?;
    Ok(())
}
