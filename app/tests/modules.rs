//! Adding a module touches its own crate and one line of the module list: here
//! a toy module (messages, genesis, a route, account, invariant and both block
//! hooks) joins the app's list in one line, and everything that must know every
//! module — message decoding and dispatch, the genesis struct, the route
//! table, the blocked recipients, the block phases — picks it up.

use cosmwasm_std::testing::MockStorage;
use cosmwasm_std::Storage;
use serde::{Deserialize, Serialize};
use verdict_core::address::Addr;
use verdict_core::ctx::{BlockInfo, Ctx};
use verdict_core::event::Event;
use verdict_core::gas::GasMeter;
use verdict_core::module::{Any, Block, EndBlock, HookError, Module, ModuleMsg, QueryError, Route};

const TOY_URL: &str = "/toy.v1.MsgPoke";

#[derive(Debug, Clone, PartialEq)]
struct Poke(Addr);

impl ModuleMsg for Poke {
    fn signer(&self) -> Addr {
        self.0
    }
    fn type_url(&self) -> &str {
        TOY_URL
    }
}

#[derive(Debug, thiserror::Error)]
#[error("toy: {0}")]
struct ToyError(String);

impl verdict_core::AbciError for ToyError {
    fn code(&self) -> u32 {
        18
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ToyGenesis {
    start: u64,
}

struct Toy;

impl Module for Toy {
    const NAME: &'static str = "toy";
    type Genesis = ToyGenesis;
    type Msg = Poke;
    type Error = ToyError;

    fn init_genesis(s: &mut dyn Storage, g: &ToyGenesis) -> Result<(), HookError> {
        s.set(b"toy/count", &g.start.to_be_bytes());
        Ok(())
    }

    fn export_genesis(s: &dyn Storage) -> Result<ToyGenesis, HookError> {
        let b = s.get(b"toy/count").unwrap_or_default();
        Ok(ToyGenesis {
            start: u64::from_be_bytes(b.try_into().unwrap_or_default()),
        })
    }

    fn module_accounts() -> Vec<Addr> {
        vec![Addr::module("toy")]
    }

    fn decode_msg(any: &Any) -> Result<Option<Poke>, ToyError> {
        if any.type_url != TOY_URL {
            return Ok(None);
        }
        let a: [u8; 20] = any
            .value
            .clone()
            .try_into()
            .map_err(|_| ToyError("20 bytes".into()))?;
        Ok(Some(Poke(Addr(a))))
    }

    fn execute(ctx: &mut Ctx<'_>, _msg: &Poke) -> Result<Any, ToyError> {
        ctx.emit(Event::new("poked"));
        Ok(Any::default())
    }

    fn routes() -> &'static [Route] {
        &[Route {
            path: "/toy.v1.Query/Count",
            handler: |s, _| s.get(b"toy/count").ok_or(QueryError::new(38, "none")),
        }]
    }

    fn begin_block(_s: &mut dyn Storage, _b: &Block<'_>) -> Result<Vec<Event>, HookError> {
        Ok(vec![Event::new("toy_begin")])
    }

    fn end_block(_s: &mut dyn Storage, _b: &Block<'_>) -> Result<EndBlock, HookError> {
        Ok(vec![Event::new("toy_end")].into())
    }
}

mod app_with_toy {
    use super::Toy;
    verdict_app::modules! {
        Auth(auth): verdict_auth::Auth,
        Bank(bank): verdict_bank::BankModule,
        Slashing(slashing): verdict_slashing::Slashing,
        Distribution(distribution): verdict_distribution::Distribution,
        Attestation(attestation): verdict_attestation::Attestation,
        Inference(inference): verdict_inference::Inference,
        Ibc(ibc): verdict_ibc::Ibc,
        Staking(staking): verdict_staking::Staking,
        Toy(toy): Toy, // the one line
    }
}

#[test]
fn a_toy_module_joins_with_one_line_of_the_module_list() {
    use app_with_toy::*;
    assert_eq!(MODULES.last(), Some(&"toy"));
    assert_eq!(MODULES.len(), verdict_app::modules::MODULES.len() + 1);

    // Messages: decoded by the toy module, dispatched to it.
    let any = Any {
        type_url: TOY_URL.into(),
        value: vec![7; 20],
    };
    let msg = Msg::decode(&any).expect("decodes");
    assert_eq!(msg.module(), "toy");
    assert_eq!(msg.signer(), Addr([7; 20]));
    let mut s = MockStorage::new();
    let gas = GasMeter::new(1_000_000);
    let mut events = vec![];
    let block = BlockInfo::default();
    let mut ctx = Ctx {
        store: &mut s,
        gas: &gas,
        events: &mut events,
        block: &block,
        router: None,
    };
    msg.execute(&mut ctx).expect("runs");
    assert_eq!(events[0].kind, "poked");
    let bad = Msg::decode(&Any {
        type_url: TOY_URL.into(),
        value: vec![1],
    })
    .expect_err("bad toy message");
    assert_eq!(bad.code, 18);

    // Genesis: its own section, initialised in order.
    let g: AppGenesis = serde_json::from_str(r#"{"toy":{"start":5}}"#).expect("toy section");
    assert_eq!(g.toy.start, 5);
    validate_genesis(&g).expect("valid");
    let mut s = MockStorage::new();
    init_genesis(&mut s, &g).expect("init");
    assert_eq!(s.get(b"toy/count"), Some(5u64.to_be_bytes().to_vec()));

    // Routes, module accounts, block hooks.
    let r = routes();
    let count = r
        .iter()
        .find(|r| r.path == "/toy.v1.Query/Count")
        .expect("routed");
    assert_eq!((count.handler)(&s, &[]), Ok(5u64.to_be_bytes().to_vec()));
    assert!(r.len() > verdict_app::modules::routes().len());
    assert!(module_accounts().contains(&Addr::module("toy")));
    let info = BlockInfo::default();
    let b = Block {
        info: &info,
        header_app_hash: &[],
        next_validators_hash: &[],
        proposer: &[],
        last_commit: &[],
        misbehavior: &[],
        extensions: None,
    };
    let mut fresh = MockStorage::new();
    init_genesis(&mut fresh, &AppGenesis::default()).expect("init");
    let begin = begin_block(&mut fresh, &b).expect("begin");
    assert_eq!(begin.last().map(|e| e.kind.as_str()), Some("toy_begin"));
}
