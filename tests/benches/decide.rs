//! Micro-benchmarks of the rules and folds: `decide`, `check`, the projections' `apply`, and appends
//! to a `MemStore`-backed ledger, on the benchmark's generated workload.

#[path = "../../src/bin/commitments-bench/workload.rs"]
#[allow(dead_code)]
mod workload;

use commitment_ledger::rules::{check, decide};
use commitment_ledger::{Command, Event, ItemCore, ItemState, Ledger, ManualClock, MemStore, Record, Seq, State};
use commitment_ledger::{StreamId, Timestamp};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::ops::ControlFlow;
use std::time::Duration;

const NOW: Timestamp = Timestamp(1_704_067_200_000_000);

fn fixed() -> Box<ManualClock> {
    Box::new(ManualClock::at(NOW))
}

fn ledger(events: usize) -> Ledger<MemStore> {
    let mut l = Ledger::with_store(MemStore::new(), fixed()).expect("ledger");
    let commands: Vec<_> = workload::Workload::new(1, "", true).take(events).collect();
    for chunk in commands.chunks(1000) {
        l.append_batch(chunk.to_vec()).expect("append");
    }
    l
}

fn records(l: &Ledger<MemStore>) -> Vec<Record> {
    let mut out = Vec::new();
    l.for_each_record(Seq(0), &mut |r, _| {
        out.push(r.clone());
        ControlFlow::Continue(())
    })
    .expect("records");
    out
}

fn rules(c: &mut Criterion) {
    let l = ledger(5_000);
    let recs = records(&l);
    let mut state: State = State::default();
    let mut core: State<ItemCore> = State::default();
    for r in &recs {
        state.apply(r);
        core.apply(r);
    }
    // A progress report on an item that exists, as its lead would append it.
    let progress = recs.iter().rev().find(|r| matches!(r.event, Event::ProgressReported(_))).expect("progress");
    let status = recs.iter().rev().find(|r| matches!(r.event, Event::StatusChanged(_))).expect("status");
    let item_id = match &progress.stream {
        StreamId::Item(id) => id.clone(),
        _ => unreachable!("progress is about an item"),
    };
    let item: ItemState = state.get(&item_id).expect("the item").clone();
    let command = match &progress.event {
        Event::ProgressReported(e) => {
            Command::ReportProgress { item: e.item.clone(), text: e.text.clone(), on: Some(e.on), evidence: None }
        }
        _ => unreachable!(),
    };
    let now = NOW;
    assert_eq!(check(&core, &progress.actor, now, &progress.event), Ok(()));
    // Check the record against the state it will be appended to: the last record's state is close enough
    // for a progress report (the item exists and accepts updates).
    let mut g = c.benchmark_group("rules");
    g.throughput(Throughput::Elements(1));
    g.bench_function("check_progress", |b| {
        b.iter(|| check(black_box(&core), &progress.actor, now, black_box(&progress.event)))
    });
    g.bench_function("decide_progress", |b| {
        b.iter_batched(|| command.clone(), |cmd| decide(&core, &progress.actor, now, cmd), BatchSize::SmallInput)
    });
    g.bench_function("core_apply_progress", |b| {
        b.iter_batched(
            || core.get(&item_id).expect("the item").clone(),
            |mut it| {
                it.apply(progress);
                it
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function("item_apply_progress", |b| {
        b.iter_batched(
            || item.clone(),
            |mut it| {
                it.apply(progress);
                it
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function("registry_apply_status", |b| {
        b.iter_batched(
            || state.registry().clone(),
            |mut r| {
                r.apply(status);
                r
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

fn appends(c: &mut Criterion) {
    let commands: Vec<_> = workload::Workload::new(2, "", true).take(2_000).collect();
    let (first, rest) = commands.split_at(1_000);
    let batch: Vec<_> = rest.to_vec();
    let mut g = c.benchmark_group("memstore_ledger");
    g.throughput(Throughput::Elements(batch.len() as u64));
    g.bench_function("append_batch_1000", |b| {
        b.iter_batched(
            || {
                let mut l = Ledger::with_store(MemStore::new(), fixed()).expect("ledger");
                l.append_batch(first.to_vec()).expect("append");
                (l, batch.clone())
            },
            |(mut l, cmds)| {
                l.append_batch(cmds).expect("append");
                l
            },
            BatchSize::LargeInput,
        )
    });
    let l = ledger(10_000);
    g.throughput(Throughput::Elements(10_000));
    g.bench_function("verify_10000", |b| b.iter(|| l.verify(&mut |_| {}).expect("verify")));
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    targets = rules, appends
}
criterion_main!(benches);
