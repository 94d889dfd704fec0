//! The properties: any generated command sequence keeps the deal rules and the money right (every
//! step checked by the simulator against the oracle, every order closed by the room cap and
//! immovable afterwards), and a purchase paying more points than its total is refused.

use proptest::prelude::*;

use super::simulator::Sim;
use super::{Cmd, Step, T0, bought_strategy, input, step_strategy};
use crate::orders::model::{Actor, Command, TimerKind, purchase};
use crate::orders::policy::{DAY_MS, Policy};

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 1024,
        // No regression files: this module owns only its own source file.
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn any_command_sequence_keeps_the_deal_rules_and_the_money_right(
        bought in bought_strategy(),
        steps in prop::collection::vec(step_strategy(), 1..=40),
    ) {
        let mut sim = Sim::start(&bought)?;
        if let Some(m) = bought.greeting_min {
            sim.run(&Step {
                jump_ms: m * 60_000,
                actor: Some(Actor::Seller),
                cmd: Cmd::Post(false),
                fire_timers: true,
            })?;
        }
        for step in &steps {
            sim.run(step)?;
        }
        // Every order ends: past the room cap the worker closes whatever is still open.
        sim.now = sim.now.max(sim.order.room_cap_at()) + DAY_MS;
        sim.fire_due_timers()?;
        prop_assert!(sim.order.state.is_terminal(), "still {:?}", sim.order.state);
        // And nothing moves a closed order any more.
        for (cmd, actor) in [
            (Command::PostMessage, Actor::Seller),
            (Command::Accept, Actor::Buyer),
            (Command::OperatorCancel, Actor::Operator),
            (Command::OperatorComplete, Actor::Operator),
            (Command::Timer(TimerKind::RoomCap), Actor::System),
            (Command::Timer(TimerKind::CancelRequestExpiry), Actor::System),
        ] {
            let now = sim.now;
            sim.act(&cmd, actor, now)?;
        }
    }

    #[test]
    fn a_purchase_paying_more_points_than_the_total_is_refused(
        price in 500i64..=100_000,
        extra in 1i64..=1_000,
    ) {
        let total = price + price * 55 / 1000;
        prop_assert!(purchase(input(price, vec![], 7, total + extra), Policy::default(), T0).is_err());
        prop_assert!(purchase(input(price, vec![], 7, -extra), Policy::default(), T0).is_err());
        prop_assert!(purchase(input(price, vec![], 7, total), Policy::default(), T0).is_ok());
    }
}
