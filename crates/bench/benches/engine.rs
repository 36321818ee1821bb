//! In-process authorization benchmark: rolecall's compiled snapshot against casbin-rs (plain and
//! cached enforcer) and Cedar on one generated Magento organization (see `rolecall_bench`).
//!
//! Every criterion iteration is exactly one check, cycling through the pre-generated checks, so
//! the per-iteration figures are ns per check. Before timing, the engines must agree with the
//! reference oracle on 2,000 checks. The run also prints snapshot memory (`approx_bytes` and the
//! RSS growth while compiling), setup costs, a per-check latency distribution from individually
//! timed calls, and a closing summary with the ratios read back from criterion's estimates.

use criterion::{black_box, Criterion};
use rolecall_bench::cedar_peer::{CedarPeer, PolicyShape};
use rolecall_bench::{casbin_peer, with_rss_delta, Params, Workload};
use rolecall_core::authz::{Decision, OrgSnapshot};
use std::time::{Duration, Instant};

const AGREEMENT_SAMPLE: usize = 2_000;

fn mib(bytes: i64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn rss(delta: Option<i64>) -> String {
    delta.map(mib).unwrap_or_else(|| "n/a".into())
}

/// Times one call at a time with `Instant` and reports percentiles in ns, less the timer's own
/// median cost (`Instant::now` pairs with nothing between them).
fn latency(name: &str, n: usize, mut f: impl FnMut(usize) -> bool) {
    let mut overhead: Vec<u64> = (0..10_000)
        .map(|_| {
            let t = Instant::now();
            black_box(());
            t.elapsed().as_nanos() as u64
        })
        .collect();
    overhead.sort_unstable();
    let timer = overhead[overhead.len() / 2];
    let mut samples: Vec<u64> = (0..n)
        .map(|i| {
            let t = Instant::now();
            black_box(f(i));
            (t.elapsed().as_nanos() as u64).saturating_sub(timer)
        })
        .collect();
    samples.sort_unstable();
    let p = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize];
    eprintln!(
        "latency {name:<28} n={n:<6} p50={:>9} ns  p90={:>9} ns  p99={:>9} ns  max={:>9} ns  (timer overhead {timer} ns subtracted)",
        p(0.5),
        p(0.9),
        p(0.99),
        samples[samples.len() - 1]
    );
}

/// Reads criterion's median (ns per iteration) for `group/function` back from its output.
fn criterion_median(group: &str, function: &str) -> Option<f64> {
    let base = std::env::var_os("CRITERION_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| {
            std::env::var_os("CARGO_TARGET_DIR")
                .map(|t| std::path::PathBuf::from(t).join("criterion"))
        })?;
    let text = std::fs::read_to_string(
        base.join(group)
            .join(function)
            .join("new")
            .join("estimates.json"),
    )
    .ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["median"]["point_estimate"].as_f64()
}

fn main() {
    let t = Instant::now();
    let w = Workload::generate(Params::default());
    let apps = w.apps();
    let allow_rate =
        w.checks.iter().filter(|c| w.expected(c)).count() as f64 / w.checks.len() as f64;
    let restricted = w.roles.iter().filter(|r| !r.scopes.is_empty()).count();
    let grants: usize = w.roles.iter().map(|r| r.grants.len()).sum();
    let held: usize = (0..w.users.len() as u32)
        .map(|u| w.held_roles(u).len())
        .sum();
    eprintln!(
        "workload: {} users, {} roles ({} website-limited, {} subtree grants), {} groups, {} scopes + root, {} resources; \
         {:.2} roles per user; {} checks, {:.1}% allowed (generated in {:?})",
        w.users.len(),
        w.roles.len(),
        restricted,
        grants,
        w.groups.len(),
        w.scopes.len(),
        w.tree.resources.len(),
        held as f64 / w.users.len() as f64,
        w.checks.len(),
        allow_rate * 100.0,
        t.elapsed()
    );

    let t = Instant::now();
    let (snap, snap_rss) = with_rss_delta(|| w.compile());
    let compile_once = t.elapsed();
    eprintln!(
        "rolecall snapshot: approx_bytes = {} ({}), RSS growth while compiling = {}, first compile {:?}",
        snap.approx_bytes(),
        mib(snap.approx_bytes() as i64),
        rss(snap_rss),
        compile_once
    );
    let prepared = w.prepared(&snap);
    let string_reqs = w.string_requests();

    let t = Instant::now();
    let (casbin, casbin_rss) = with_rss_delta(|| casbin_peer::enforcer(&w));
    eprintln!(
        "casbin: {} policy lines ({} p), loaded in {:?}, RSS growth = {}",
        casbin_peer::Policies::of(&w).len(),
        casbin_peer::Policies::of(&w).p.len(),
        t.elapsed(),
        rss(casbin_rss)
    );
    let cached = casbin_peer::cached_enforcer(&w);
    let casbin_reqs = casbin_peer::CasbinChecks::of(&w).requests;

    let t = Instant::now();
    let (cedar, cedar_rss) = with_rss_delta(|| CedarPeer::build(&w, PolicyShape::PerGrant));
    eprintln!(
        "cedar (per grant): {} policies, built in {:?}, RSS growth = {}",
        cedar.policies.policies().count(),
        t.elapsed(),
        rss(cedar_rss)
    );
    let cedar_per_role = CedarPeer::build(&w, PolicyShape::PerRole);
    eprintln!(
        "cedar (per role): {} policies",
        cedar_per_role.policies.policies().count()
    );
    let cedar_reqs = cedar.requests(&w);

    // Startup gate: the same decisions everywhere, or the timings below compare different work.
    for (i, c) in w.checks.iter().take(AGREEMENT_SAMPLE).enumerate() {
        let want = w.expected(c);
        let got = [
            w.rolecall_check(&snap, c),
            string_reqs[i].check(&snap) == Ok(Decision::Allow),
            snap.decide(&prepared[i].0, &prepared[i].1).0 == Decision::Allow,
            casbin_peer::enforce(&casbin, &casbin_reqs[i]),
            casbin_peer::enforce(&cached, &casbin_reqs[i]),
            cedar.is_authorized(&cedar_reqs[i]),
            cedar_per_role.is_authorized(&cedar_reqs[i]),
        ];
        assert!(
            got.iter().all(|&g| g == want),
            "engines disagree on check {i} ({c:?}): want {want}, got {got:?}"
        );
    }
    eprintln!("agreement: rolecall, casbin, cached casbin and Cedar match the reference on {AGREEMENT_SAMPLE} checks");

    // Fill the cached enforcer so its benchmark measures hits (its best case).
    for r in &casbin_reqs {
        black_box(casbin_peer::enforce(&cached, r));
    }

    let n = w.checks.len();
    latency("rolecall/check", n * 10, |i| {
        string_reqs[i % n].check(&snap) == Ok(Decision::Allow)
    });
    latency("rolecall/decide_prepared", n * 10, |i| {
        let (u, q) = &prepared[i % n];
        snap.decide(u, q).0 == Decision::Allow
    });
    latency("casbin/enforce", 2_000, |i| {
        casbin_peer::enforce(&casbin, &casbin_reqs[i % n])
    });
    latency("casbin/cached_enforce", n, |i| {
        casbin_peer::enforce(&cached, &casbin_reqs[i % n])
    });
    latency("cedar/is_authorized", n, |i| {
        cedar.is_authorized(&cedar_reqs[i % n])
    });
    latency("cedar/is_authorized_per_role", n, |i| {
        cedar_per_role.is_authorized(&cedar_reqs[i % n])
    });

    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .sample_size(50)
        .configure_from_args();

    {
        let mut g = c.benchmark_group("rolecall");
        g.bench_function("check", |b| {
            let mut i = 0;
            b.iter(|| {
                let r = &string_reqs[i];
                i = if i + 1 == n { 0 } else { i + 1 };
                black_box(r.check(&snap))
            })
        });
        // The string-resolution half of `check` alone, to show where its time goes.
        g.bench_function("resolve_query", |b| {
            let mut i = 0;
            b.iter(|| {
                let r = &string_reqs[i];
                i = if i + 1 == n { 0 } else { i + 1 };
                black_box(snap.query(rolecall_bench::APP, &r.resource, None, r.scope.as_deref()))
            })
        });
        g.bench_function("decide_prepared", |b| {
            let mut i = 0;
            b.iter(|| {
                let (u, q) = &prepared[i];
                i = if i + 1 == n { 0 } else { i + 1 };
                black_box(snap.decide(u, q))
            })
        });
        g.sample_size(20).measurement_time(Duration::from_secs(5));
        g.bench_function("rebuild_after_role_edit", |b| {
            // Alternate one role between its own grants and another role's, recompiling in full.
            let mut model = w.model.clone();
            let k = 17;
            let variants = [
                model.roles[k].grants.clone(),
                model.roles[k + 1].grants.clone(),
            ];
            let mut j = 0;
            b.iter(|| {
                model.roles[k].grants = variants[j & 1].clone();
                j += 1;
                black_box(OrgSnapshot::compile(&apps, &model))
            })
        });
        g.finish();
    }
    {
        let mut g = c.benchmark_group("casbin");
        g.sample_size(10).measurement_time(Duration::from_secs(5));
        g.bench_function("enforce", |b| {
            let mut i = 0;
            b.iter(|| {
                let r = &casbin_reqs[i];
                i = if i + 1 == n { 0 } else { i + 1 };
                black_box(casbin_peer::enforce(&casbin, r))
            })
        });
        g.sample_size(30).measurement_time(Duration::from_secs(4));
        g.bench_function("cached_enforce", |b| {
            let mut i = 0;
            b.iter(|| {
                let r = &casbin_reqs[i];
                i = if i + 1 == n { 0 } else { i + 1 };
                black_box(casbin_peer::enforce(&cached, r))
            })
        });
        g.finish();
    }
    {
        let mut g = c.benchmark_group("cedar");
        g.sample_size(20).measurement_time(Duration::from_secs(4));
        for (name, peer) in [
            ("is_authorized", &cedar),
            ("is_authorized_per_role", &cedar_per_role),
        ] {
            g.bench_function(name, |b| {
                let mut i = 0;
                b.iter(|| {
                    let r = &cedar_reqs[i];
                    i = if i + 1 == n { 0 } else { i + 1 };
                    black_box(peer.is_authorized(r))
                })
            });
        }
        g.finish();
    }
    c.final_summary();

    // Summary with ratios, from criterion's medians (absent when a filter skipped a benchmark).
    let m = |g: &str, f: &str| criterion_median(g, f);
    let rows = [
        ("rolecall/check", m("rolecall", "check")),
        ("rolecall/decide_prepared", m("rolecall", "decide_prepared")),
        ("rolecall/resolve_query", m("rolecall", "resolve_query")),
        ("casbin/enforce", m("casbin", "enforce")),
        ("casbin/cached_enforce", m("casbin", "cached_enforce")),
        ("cedar/is_authorized", m("cedar", "is_authorized")),
        (
            "cedar/is_authorized_per_role",
            m("cedar", "is_authorized_per_role"),
        ),
        (
            "rolecall/rebuild_after_role_edit",
            m("rolecall", "rebuild_after_role_edit"),
        ),
    ];
    eprintln!("\nsummary (criterion median, ns per iteration):");
    for (name, v) in &rows {
        match v {
            Some(ns) => eprintln!("  {name:<34} {ns:>14.1}"),
            None => eprintln!("  {name:<34} {:>14}", "not run"),
        }
    }
    for (base_name, base) in [rows[0], rows[1]] {
        let Some(base) = base else { continue };
        for (name, v) in &rows[3..7] {
            if let Some(ns) = v {
                eprintln!("  {name} / {base_name} = {:.1}x", ns / base);
            }
        }
    }
}
