//! Slot-finder benchmark (native): prints figures for BENCHMARKS.md.
//!
//! `cargo run --release --example slot_finder_bench`
//! 40 members × 26 weeks of weekdays × 5-minute steps (see `core::schedule::benchmark_query`).

fn main() {
    #[cfg(not(target_arch = "wasm32"))]
    {
        use std::time::Instant;

        use mdt::core::calendar::BankHolidays;
        use mdt::core::schedule::{benchmark_query, SlotFinder};

        let query = benchmark_query();
        let holidays = BankHolidays::shipped();
        let finder = SlotFinder::new(&query, &holidays);
        let best = finder.find(10);
        let runs = 200;
        let mut times: Vec<f64> = (0..runs)
            .map(|_| {
                let start = Instant::now();
                let found = finder.find(10);
                let elapsed = start.elapsed().as_secs_f64() * 1000.0;
                assert_eq!(found, best);
                elapsed
            })
            .collect();
        times.sort_by(|a, b| a.total_cmp(b));
        let starts = 26 * 5 * ((18 * 60 - 90 - 8 * 60) / 5 + 1);
        println!(
            "BENCH slot-finder native: 40 members x 26 weeks x 5-minute steps ({starts} candidate starts): median {:.3} ms, p90 {:.3} ms, min {:.3} ms over {runs} runs; best slot {} {} (quorum {})",
            times[runs / 2],
            times[runs * 9 / 10],
            times[0],
            best[0].date,
            best[0].starts,
            best[0].quorum_met
        );
    }
}
