//! Micro-benchmarks of the record format: encoding, decoding and hashing one record.

use commitment_ledger::ProgressReported;
use commitment_ledger::hash_record_bytes;
use commitment_ledger::{ActorId, Date, Event, Hash, ItemId, Record, Seq, StreamId, StreamVersion, Timestamp};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;

fn sample() -> Record {
    let item = ItemId::new("00771-03").expect("id");
    let text =
        "截至本季度末，已有4家北京市属国企在澳门发行债券，规模约23亿美元，双方签署了合作备忘录并建立了定期会商机制，"
            .repeat(3);
    Record {
        seq: Seq(123_456),
        prev: Hash([7; 32]),
        time: Timestamp(1_704_067_200_000_000),
        actor: ActorId::new("finance-office").expect("id"),
        stream: StreamId::Item(item.clone()),
        stream_version: StreamVersion(12),
        stream_prev: Some(Seq(123_400)),
        event: Event::ProgressReported(ProgressReported {
            item,
            text,
            on: Date::Day(2024, 5, 1),
            evidence: Some("京澳办函〔2024〕17号".into()),
        }),
        event_version: 1,
        signature: None,
    }
}

fn record(c: &mut Criterion) {
    let rec = sample();
    let bytes = rec.encode();
    let mut g = c.benchmark_group("record");
    g.throughput(Throughput::Elements(1));
    g.bench_function("encode", |b| b.iter(|| black_box(&rec).encode()));
    g.bench_function("decode", |b| b.iter(|| Record::decode(black_box(&bytes)).expect("decodes")));
    g.bench_function("hash", |b| b.iter(|| hash_record_bytes(black_box(&bytes))));
    g.bench_function("blake3_plain_hash", |b| b.iter(|| blake3::hash(black_box(&bytes))));
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    targets = record
}
criterion_main!(benches);
