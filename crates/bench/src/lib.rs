//! Workload generator shared by the benchmarks.
