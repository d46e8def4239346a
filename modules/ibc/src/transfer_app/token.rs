//! ibc-rs's token transfer contexts over Verdict's bank: escrow and release
//! through the channel's escrow account, mint and burn of vouchers.
//!
//! Every `*_validate` checks exactly what its `*_execute` needs (funds, the
//! denom's form, 128-bit amounts), so an execute after a passing validate
//! cannot fail half-way.

use cosmwasm_std::{Storage, Uint128};
use ibc::apps::transfer::context::{TokenTransferExecutionContext, TokenTransferValidationContext};
use ibc::apps::transfer::types::{Memo, PrefixedCoin, PrefixedDenom};
use ibc::core::host::types::error::HostError;
use ibc::core::host::types::identifiers::{ChannelId, PortId};
use ibc::primitives::Signer;
use verdict_bank::{events as bank_events, Bank};
use verdict_core::address::Addr;
use verdict_core::coin::{validate_denom, Coin};
use verdict_core::event::Event;

use super::state::CHANNEL_ESCROW;
use super::{bank_amount, bank_denom, escrow_of, trace_hash, DENOM_TRACES, PORT, TOTAL_ESCROW};

/// The token contexts over one store view (during a dispatch, a
/// [`crate::shared::SharedStore`] also held by the core context).
pub struct TokenCtx<S: Storage> {
    pub store: S,
    /// Bank events of the moves made, in order.
    pub events: Vec<Event>,
    /// Accounts that may not receive tokens (module accounts: their balances
    /// are other books' invariants), as the app's router knows them.
    pub blocked: Option<fn(&Addr) -> bool>,
}

fn invalid(e: impl ToString) -> HostError {
    HostError::invalid_state(e)
}

fn store_err(e: impl ToString) -> HostError {
    HostError::failed_to_store(e)
}

impl<S: Storage> TokenCtx<S> {
    pub fn new(store: S) -> Self {
        TokenCtx {
            store,
            events: Vec::new(),
            blocked: None,
        }
    }

    /// The coin as the bank holds it: bank denom (a valid SDK denom) and amount.
    fn bank_coin(coin: &PrefixedCoin) -> Result<Coin, HostError> {
        let denom = bank_denom(&coin.denom);
        validate_denom(&denom).map_err(|e| invalid(format!("denom {}: {e}", coin.denom)))?;
        let amount = bank_amount(coin).map_err(invalid)?;
        if amount.is_zero() {
            return Err(invalid("a transfer of zero"));
        }
        Ok(Coin { denom, amount })
    }

    fn has(&self, who: &Addr, c: &Coin) -> Result<(), HostError> {
        let have = Bank::balance(&self.store, who, &c.denom).map_err(invalid)?;
        if have < c.amount {
            return Err(invalid(format!(
                "insufficient funds: {} has {have}{}, needs {c}",
                who.bech32(),
                c.denom
            )));
        }
        Ok(())
    }

    fn move_coin(&mut self, from: &Addr, to: &Addr, c: Coin) -> Result<(), HostError> {
        let coins = [c];
        Bank::transfer(&mut self.store, from, to, &coins).map_err(store_err)?;
        self.events.push(bank_events::coin_spent(from, &coins));
        self.events.push(bank_events::coin_received(to, &coins));
        self.events.push(bank_events::transfer(to, from, &coins));
        Ok(())
    }

    /// Adds (`up`) or takes `delta` from the escrow of `denom` for `channel`
    /// and from the total.
    fn add_escrow(
        &mut self,
        channel: &ChannelId,
        denom: &str,
        delta: Uint128,
        up: bool,
    ) -> Result<(), HostError> {
        let step = |now: Uint128| {
            if up {
                now.checked_add(delta).map_err(invalid)
            } else {
                now.checked_sub(delta).map_err(invalid)
            }
        };
        let key = (channel.as_str(), denom);
        let next = step(
            CHANNEL_ESCROW
                .may_load(&self.store, key)
                .map_err(invalid)?
                .unwrap_or_default(),
        )?;
        let total = step(
            TOTAL_ESCROW
                .may_load(&self.store, denom)
                .map_err(invalid)?
                .unwrap_or_default(),
        )?;
        if next.is_zero() {
            CHANNEL_ESCROW.remove(&mut self.store, key);
        } else {
            CHANNEL_ESCROW
                .save(&mut self.store, key, &next)
                .map_err(store_err)?;
        }
        if total.is_zero() {
            TOTAL_ESCROW.remove(&mut self.store, denom);
        } else {
            TOTAL_ESCROW
                .save(&mut self.store, denom, &total)
                .map_err(store_err)?;
        }
        Ok(())
    }

    /// A receiver that may hold tokens: no module account, not the escrow of
    /// the channel the tokens arrive on.
    fn check_receiver(&self, to: &Addr, escrow: Option<&Addr>) -> Result<(), HostError> {
        if Some(to) == escrow || self.blocked.is_some_and(|b| b(to)) {
            return Err(invalid(format!(
                "{} is a module account and is not allowed to receive funds",
                to.bech32()
            )));
        }
        Ok(())
    }
}

fn account(signer: &Signer) -> Result<Addr, HostError> {
    Addr::parse(signer.as_ref()).map_err(|e| invalid(format!("account {:?}: {e}", signer.as_ref())))
}

impl<S: Storage> TokenTransferValidationContext for TokenCtx<S> {
    type AccountId = Addr;

    fn sender_account(&self, sender: &Signer) -> Result<Addr, HostError> {
        account(sender)
    }

    fn receiver_account(&self, receiver: &Signer) -> Result<Addr, HostError> {
        account(receiver)
    }

    fn get_port(&self) -> Result<PortId, HostError> {
        PORT.parse().map_err(invalid)
    }

    fn can_send_coins(&self) -> Result<(), HostError> {
        Ok(())
    }

    fn can_receive_coins(&self) -> Result<(), HostError> {
        Ok(())
    }

    fn escrow_coins_validate(
        &self,
        from: &Addr,
        _port_id: &PortId,
        _channel_id: &ChannelId,
        coin: &PrefixedCoin,
        _memo: &Memo,
    ) -> Result<(), HostError> {
        self.has(from, &Self::bank_coin(coin)?)
    }

    fn unescrow_coins_validate(
        &self,
        to: &Addr,
        port_id: &PortId,
        channel_id: &ChannelId,
        coin: &PrefixedCoin,
    ) -> Result<(), HostError> {
        let c = Self::bank_coin(coin)?;
        let escrow = escrow_of(port_id, channel_id);
        self.check_receiver(to, Some(&escrow))?;
        self.has(&escrow, &c)?;
        let held = CHANNEL_ESCROW
            .may_load(&self.store, (channel_id.as_str(), &c.denom))
            .map_err(invalid)?
            .unwrap_or_default();
        if held < c.amount {
            return Err(invalid(format!(
                "only {held}{} is escrowed for {channel_id}",
                c.denom
            )));
        }
        Ok(())
    }

    fn mint_coins_validate(&self, to: &Addr, coin: &PrefixedCoin) -> Result<(), HostError> {
        let c = Self::bank_coin(coin)?;
        // Minting happens on receive only (refunds of burned vouchers too):
        // the receiver is an outsider's choice.
        self.check_receiver(to, None)?;
        // The trace must read back as itself, or the voucher could never be
        // resolved to it again (a base denom that looks like `port/channel-N`).
        let path = coin.denom.to_string();
        if path.parse::<PrefixedDenom>().ok().as_ref() != Some(&coin.denom) {
            return Err(invalid(format!(
                "denom {path:?} does not read back as itself"
            )));
        }
        let supply = Bank::supply(&self.store, &c.denom).map_err(invalid)?;
        supply
            .checked_add(c.amount)
            .map_err(|_| invalid(format!("the supply of {} would overflow", c.denom)))?;
        Ok(())
    }

    fn burn_coins_validate(
        &self,
        from: &Addr,
        coin: &PrefixedCoin,
        _memo: &Memo,
    ) -> Result<(), HostError> {
        self.has(from, &Self::bank_coin(coin)?)
    }

    fn denom_hash_string(&self, denom: &PrefixedDenom) -> Option<String> {
        (!denom.trace_path.is_empty()).then(|| trace_hash(&denom.to_string()))
    }
}

impl<S: Storage> TokenTransferExecutionContext for TokenCtx<S> {
    fn escrow_coins_execute(
        &mut self,
        from: &Addr,
        port_id: &PortId,
        channel_id: &ChannelId,
        coin: &PrefixedCoin,
        _memo: &Memo,
    ) -> Result<(), HostError> {
        let c = Self::bank_coin(coin)?;
        self.add_escrow(channel_id, &c.denom, c.amount, true)?;
        self.move_coin(from, &escrow_of(port_id, channel_id), c)
    }

    fn unescrow_coins_execute(
        &mut self,
        to: &Addr,
        port_id: &PortId,
        channel_id: &ChannelId,
        coin: &PrefixedCoin,
    ) -> Result<(), HostError> {
        let c = Self::bank_coin(coin)?;
        self.add_escrow(channel_id, &c.denom, c.amount, false)?;
        self.move_coin(&escrow_of(port_id, channel_id), to, c)
    }

    fn mint_coins_execute(&mut self, to: &Addr, coin: &PrefixedCoin) -> Result<(), HostError> {
        let c = Self::bank_coin(coin)?;
        if !coin.denom.trace_path.is_empty() {
            let hash = trace_hash(&coin.denom.to_string());
            DENOM_TRACES
                .save(&mut self.store, &hash, &coin.denom.to_string())
                .map_err(store_err)?;
        }
        let coins = [c];
        Bank::mint(&mut self.store, to, &coins).map_err(store_err)?;
        self.events.push(
            Event::new("coinbase")
                .attr("minter", to)
                .attr("amount", verdict_core::coin::display(&coins)),
        );
        self.events.push(bank_events::coin_received(to, &coins));
        Ok(())
    }

    fn burn_coins_execute(
        &mut self,
        from: &Addr,
        coin: &PrefixedCoin,
        _memo: &Memo,
    ) -> Result<(), HostError> {
        let coins = [Self::bank_coin(coin)?];
        Bank::burn_from(&mut self.store, from, &coins, true).map_err(store_err)?;
        self.events.push(bank_events::coin_spent(from, &coins));
        self.events.push(
            Event::new("burn")
                .attr("burner", from)
                .attr("amount", verdict_core::coin::display(&coins)),
        );
        Ok(())
    }
}
