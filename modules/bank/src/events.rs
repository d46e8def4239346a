//! The SDK's bank events, so explorers and `tx_search` find transfers.

use verdict_core::address::Addr;
use verdict_core::coin::{display, Coin};
use verdict_core::event::Event;

pub fn coin_spent(spender: &Addr, coins: &[Coin]) -> Event {
    Event::new("coin_spent")
        .attr("spender", spender)
        .attr("amount", display(coins))
}

pub fn coin_received(receiver: &Addr, coins: &[Coin]) -> Event {
    Event::new("coin_received")
        .attr("receiver", receiver)
        .attr("amount", display(coins))
}

pub fn transfer(recipient: &Addr, sender: &Addr, coins: &[Coin]) -> Event {
    Event::new("transfer")
        .attr("recipient", recipient)
        .attr("sender", sender)
        .attr("amount", display(coins))
}

pub fn message_sender(sender: &Addr) -> Event {
    Event::new("message").attr("sender", sender)
}
